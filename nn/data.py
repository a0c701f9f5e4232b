"""Mini-batches and datasets: ``DataLoader``, the notes' toy problems, digits and MNIST.

Every random choice goes through ``rng`` (a ``numpy.random.Generator`` or an int
seed), so a run with fixed seeds is reproducible. Datasets return ``(X, y)`` with
``X`` float64 of shape ``(n, features)`` and ``y`` int64 class labels, shuffled.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, Z_i, G_i) are kept

from __future__ import annotations

import functools
import gzip
import math
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from .checks import check_size

_DIGITS_FILE = Path(__file__).parent / "datasets" / "digits.csv.gz"


class DataLoader:
    """Iterate over ``(Xb, yb)`` mini-batches of Tensors (``yb`` is None without ``y``).

    With ``shuffle`` the order is a new permutation from ``rng`` at every pass
    (epoch); otherwise batches are consecutive views of the data. ``drop_last``
    drops a final batch smaller than ``batch_size``. ``len(loader)`` is the number
    of batches per pass.
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: Rng = None,
    ) -> None:
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        if self.X.ndim == 0:
            raise ValueError("DataLoader: X must have a first (example) axis, got a scalar")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(
                f"DataLoader: X has {len(self.X)} examples but y has {len(self.y)}; "
                f"they must have the same length"
            )
        self.batch_size = check_size("DataLoader", "batch_size", batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = as_rng(rng)

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[ag.Tensor, ag.Tensor | None]]:
        n, size = len(self.X), self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, len(self) * size, size):
            index = slice(start, start + size) if order is None else order[start : start + size]
            yb = None if self.y is None else ag.Tensor(self.y[index])
            yield ag.Tensor(self.X[index]), yb


# ---------------------------------------------------------------------- toy problems
def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    order = rng.permutation(len(y))
    return X[order].astype(np.float64), y[order].astype(np.int64)


def make_xor(n: int = 200, noise: float = 0.1, rng: Rng = None) -> tuple[np.ndarray, np.ndarray]:
    """XOR: points near the corners ``(±1, ±1)``; label 1 where the signs differ.

    Corners are used in turn (balanced classes) and Gaussian noise of std
    ``noise`` is added to both coordinates. No line separates the classes.
    """
    n = check_size("make_xor", "n", n)
    rng = as_rng(rng)
    corner = np.arange(n) % 4
    signs = np.stack([np.where(corner & 1, 1.0, -1.0), np.where(corner & 2, 1.0, -1.0)], axis=1)
    X = signs + noise * rng.standard_normal((n, 2))
    return _shuffled(X, (signs[:, 0] != signs[:, 1]).astype(np.int64), rng)


def make_circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, rng: Rng = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: radius 1 (label 0, ``n // 2`` points) and ``factor`` (label 1).

    Points are evenly spaced in angle; Gaussian noise of std ``noise`` is added.
    """
    n = check_size("make_circles", "n", n, minimum=2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    rng = as_rng(rng)
    n_outer = n // 2
    parts = []
    for count, radius in ((n_outer, 1.0), (n - n_outer, factor)):
        angle = np.linspace(0, 2 * np.pi, count, endpoint=False)
        parts.append(radius * np.stack([np.cos(angle), np.sin(angle)], axis=1))
    X = np.concatenate(parts) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_outer), np.ones(n - n_outer)])
    return _shuffled(X, y, rng)


def make_spiral(
    n: int = 300, k: int = 3, noise: float = 0.2, rng: Rng = None
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interleaved spiral arms, one class each (the CS231n spiral), ``n`` points in total.

    Arm ``j`` has radius ``r`` from 0 to 1 and angle ``2πj/k + 4r`` plus Gaussian
    noise of std ``noise`` (in radians): ``x = r (sin t, cos t)``. Arms get
    ``n // k`` points (the first ``n % k`` arms one more).
    """
    k = check_size("make_spiral", "k (number of classes)", k, minimum=2)
    n = check_size("make_spiral", "n", n, minimum=k)
    rng = as_rng(rng)
    counts = [n // k + (j < n % k) for j in range(k)]
    X_parts, y_parts = [], []
    for j, count in enumerate(counts):
        r = np.linspace(0.0, 1.0, count)
        t = 2 * np.pi * j / k + 4 * r + noise * rng.standard_normal(count)
        X_parts.append(r[:, None] * np.stack([np.sin(t), np.cos(t)], axis=1))
        y_parts.append(np.full(count, j))
    return _shuffled(np.concatenate(X_parts), np.concatenate(y_parts), rng)


# ---------------------------------------------------------------------- real data
@functools.lru_cache(maxsize=1)
def _digits_table() -> np.ndarray:
    table = np.loadtxt(_DIGITS_FILE, delimiter=",", dtype=np.int64)
    table.setflags(write=False)
    return table


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 handwritten digits (UCI; shipped in the package, works offline).

    Returns ``X`` float64 of shape ``(1797, 64)`` with pixel counts 0..16 (rows of
    the 8x8 image, concatenated) and ``y`` int64 labels 0..9, in the file's order.
    Source and licence (CC BY 4.0): ``nn/datasets/README.md``.
    """
    table = _digits_table()
    return table[:, :64].astype(np.float64), table[:, 64].copy()


_IDX_MAGIC = {"images": 2051, "labels": 2049}  # 0x0803 / 0x0801: unsigned bytes, 3-d / 1-d


def _find_idx_file(folder: Path, prefix: str, what: str) -> Path:
    suffix = "idx3-ubyte" if what == "images" else "idx1-ubyte"
    names = [f"{prefix}-{what}-{suffix}", f"{prefix}-{what}.{suffix}"]
    candidates = [folder / (name + ext) for name in names for ext in ("", ".gz")]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"load_mnist: no {what} file in '{folder}'; looked for "
        f"{', '.join(p.name for p in candidates)}"
    )


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"load_mnist: '{path}' is not a valid gzip file (truncated or corrupt: {exc}); "
            f"download it again"
        ) from exc


def read_idx(path: str | Path, what: str) -> np.ndarray:
    """Read an MNIST IDX file of ``what`` = ``"images"`` (n, rows, cols) or ``"labels"`` (n,).

    Checks the magic number (2051 images, 2049 labels) and that the size matches
    the header; raises ``ValueError`` naming the file and the byte counts if not.
    The file may be gzipped (``.gz``).
    """
    if what not in _IDX_MAGIC:
        raise ValueError(f"read_idx: what must be 'images' or 'labels', got {what!r}")
    path = Path(path)
    data = _read_bytes(path)
    ndim = 3 if what == "images" else 1
    header = 4 + 4 * ndim
    magic = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if magic is not None and magic != _IDX_MAGIC[what]:
        raise ValueError(
            f"load_mnist: '{path}' has magic number {magic}, expected {_IDX_MAGIC[what]} "
            f"for an IDX {what} file (2051 = images, 2049 = labels)"
        )
    if len(data) < header:
        raise ValueError(
            f"load_mnist: '{path}' is truncated: expected a {header}-byte header, "
            f"got {len(data)} bytes"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(dims)
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "longer than its header says"
        raise ValueError(
            f"load_mnist: '{path}' is {state}: the header {dims} needs {expected} bytes, "
            f"the file has {len(data)}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(path: str | Path, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or Fashion-MNIST) from the standard IDX files in folder ``path``.

    ``kind="train"`` reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``,
    ``"test"`` the ``t10k-...`` files; each may end in ``.gz``. Returns ``X``
    float32 of shape ``(n, rows * cols)`` (784 for MNIST) scaled to [0, 1] and
    ``y`` int64. Raises ``FileNotFoundError`` for a missing folder or file and
    ``ValueError`` for a corrupt or truncated file or mismatched counts.
    """
    if kind not in ("train", "test"):
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"load_mnist: folder '{folder}' does not exist; put the four MNIST IDX files "
            f"(train-images-idx3-ubyte.gz, ...) in a folder and pass its path"
        )
    prefix = "train" if kind == "train" else "t10k"
    images_file = _find_idx_file(folder, prefix, "images")
    labels_file = _find_idx_file(folder, prefix, "labels")
    images = read_idx(images_file, "images")
    labels = read_idx(labels_file, "labels")
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: '{images_file.name}' holds {len(images)} images but "
            f"'{labels_file.name}' holds {len(labels)} labels"
        )
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return X, labels.astype(np.int64)
