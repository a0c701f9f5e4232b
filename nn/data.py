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
import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from .checks import check_size

_DIGITS_FILE = Path(__file__).parent / "datasets" / "digits.csv.gz"


class Dataset:
    """A map-style dataset, as ``torch.utils.data.Dataset``: subclass it and define
    ``__len__`` (the number of samples) and ``__getitem__(i)`` (sample ``i``, for ``i``
    in ``range(len(self))``).

    A sample may be anything :func:`default_collate` batches (arrays, numbers, Tensors,
    and tuples, lists or dicts of them) or what a ``collate_fn`` expects.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")


class TensorDataset(Dataset):
    """Samples ``(t[i] for t in tensors)``: equal-length arrays or Tensors, indexed together
    (``TensorDataset(X, y)[i] == (X[i], y[i])``, as Tensors).

    Array-likes are wrapped as Tensors without copying (``np.asarray``'s dtype rules:
    float64 data stays float64). Indexing with a slice or an integer array gives a
    whole batch at once, which is how :class:`DataLoader` batches it.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(ag.as_tensor(t) for t in tensors)
        for i, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is a scalar; every tensor needs a first "
                    f"(example) axis"
                )
        sizes = [len(t) for t in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"TensorDataset: the tensors hold {' and '.join(map(str, sizes))} examples "
                f"(sizes of their first axes); they must all hold the same number"
            )

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[ag.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


def default_collate(batch: list[Any]) -> Any:
    """Join a list of samples into a batch, as PyTorch's ``default_collate``, into Tensors.

    Tensors and numpy arrays are stacked (a new first axis; their shapes must match);
    numpy scalars keep their dtype; Python floats give float64, ints int64, bools bool;
    strings and bytes stay a list; dicts, tuples (named ones too) and lists are batched
    entry by entry, keeping their structure (a tuple stays a tuple, where PyTorch
    returns a list). Anything else raises ``TypeError``: pass a ``collate_fn``.
    """
    elem = batch[0]
    if isinstance(elem, (ag.Tensor, np.ndarray)):
        if elem.dtype.kind not in "biufc":
            raise TypeError(
                f"default_collate: cannot batch numpy arrays of dtype {elem.dtype} into a "
                f"Tensor; pass a collate_fn"
            )
        try:
            return ag.stack(batch) if isinstance(elem, ag.Tensor) else ag.Tensor(np.stack(batch))
        except ValueError:
            _same_shapes(batch)  # the clear message, if shapes are the cause
            raise
    if isinstance(elem, (np.generic, bool, int, float)):
        if isinstance(elem, float):
            return ag.Tensor(np.array(batch, dtype=np.float64))
        return ag.Tensor(np.array(batch, dtype=np.int64 if type(elem) is int else None))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        for j, sample in enumerate(batch):
            if not isinstance(sample, Mapping) or set(sample) != set(elem):
                raise ValueError(
                    f"default_collate: sample {j} of the batch has keys "
                    f"{sorted(sample) if isinstance(sample, Mapping) else type(sample).__name__}"
                    f", sample 0 has {sorted(elem)}"
                )
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        for j, sample in enumerate(batch):
            if len(sample) != len(elem):
                raise ValueError(
                    f"default_collate: sample {j} of the batch has {len(sample)} entries, "
                    f"sample 0 has {len(elem)}; each element in list of batch should be of "
                    f"equal size"
                )
        columns = [default_collate(list(column)) for column in zip(*batch)]
        if hasattr(elem, "_fields"):  # a named tuple
            return type(elem)(*columns)
        return tuple(columns) if isinstance(elem, tuple) else columns
    raise TypeError(
        f"default_collate: batch must contain Tensors, numpy arrays, numbers, strings, dicts "
        f"or lists; found {type(elem).__name__}. Pass collate_fn=... to batch such samples"
    )


def _same_shapes(batch: list[Any]) -> None:
    """A ``ValueError`` naming the first sample whose shape differs from sample 0's."""
    first = batch[0].shape
    for j, item in enumerate(batch):
        if getattr(item, "shape", None) != first:
            raise ValueError(
                f"default_collate: sample {j} of the batch has shape "
                f"{getattr(item, 'shape', type(item).__name__)}, sample 0 has {first}; "
                f"stacking needs equal shapes (pad the samples, or pass a collate_fn)"
            )


class DataLoader:
    """Mini-batches from arrays or from a map-style dataset, as Tensors.

    - ``DataLoader(X, y)``, arrays (or Tensors) of examples along the first axis:
      batches ``(Xb, yb)`` (``yb`` is None without ``y``), consecutive views of the
      data unless shuffled.
    - ``DataLoader(dataset)``, any object with ``__len__`` and ``__getitem__`` (a
      :class:`Dataset`, a list of samples, ...): each batch is
      ``collate_fn([dataset[i] for i in indices])``, :func:`default_collate` by
      default. Only ``len(dataset)`` decides which indices are read, so a dataset
      whose ``__getitem__`` never raises ``IndexError`` is fine. A
      :class:`TensorDataset` with the default collation is batched by indexing its
      tensors once per batch (the same values, without a Python loop over samples).

    With ``shuffle`` the order is a new permutation from ``rng`` at every pass
    (epoch). ``drop_last`` drops a final batch smaller than ``batch_size``.
    ``len(loader)`` is the number of batches per pass; ``loader.dataset`` the
    dataset (a :class:`TensorDataset` of the arrays).
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: Rng = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        self.batch_size = check_size("DataLoader", "batch_size", batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = as_rng(rng)
        self.collate_fn = collate_fn
        arrays = (
            isinstance(X, (np.ndarray, ag.Tensor))
            or isinstance(X, (list, tuple))
            and (y is not None)
        )
        self._no_labels = arrays and y is None  # array batches are (Xb, None) then
        if arrays:
            if collate_fn is not None:
                raise ValueError(
                    "DataLoader: collate_fn is for datasets; for arrays wrap them first: "
                    "DataLoader(TensorDataset(X, y), collate_fn=...)"
                )
            X = np.asarray(X) if isinstance(X, (list, tuple)) else X
            self.dataset: Any = TensorDataset(X) if y is None else TensorDataset(X, y)
        elif y is not None:
            raise TypeError(
                f"DataLoader: y is for arrays (X, y); a dataset's samples carry their own "
                f"targets (got y={y!r}: did you mean batch_size={y!r}?)"
            )
        else:
            self.dataset = _map_style(X)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n, size, dataset = len(self.dataset), self.batch_size, self.dataset
        order = self.rng.permutation(n) if self.shuffle else None
        whole_batches = isinstance(dataset, TensorDataset) and self.collate_fn is None
        collate = self.collate_fn or default_collate
        for start in range(0, len(self) * size, size):
            if order is None:
                index: Any = slice(start, min(start + size, n))
            else:
                index = order[start : start + size]
            if whole_batches:
                batch = dataset[index]
                yield (*batch, None) if self._no_labels else batch
            else:
                indices = range(n)[index] if order is None else index.tolist()
                yield collate([dataset[i] for i in indices])


def _map_style(dataset: Any) -> Any:
    """``dataset`` if it is a map-style dataset, else a ``TypeError`` saying what it is."""
    kind = type(dataset).__name__
    if isinstance(dataset, (Mapping, str, bytes)) or not hasattr(type(dataset), "__getitem__"):
        iterable = hasattr(dataset, "__iter__") and not isinstance(dataset, (Mapping, str))
        raise TypeError(
            f"DataLoader: expected arrays (X, y) or a map-style dataset (an object with "
            f"__len__ and __getitem__(i) for i in range(len)), got {kind}"
            + ("; iterable-style datasets are not supported: make a list of the samples"
               if iterable else "")
        )  # fmt: skip
    if not hasattr(type(dataset), "__len__"):
        raise TypeError(
            f"DataLoader: the dataset {kind} has no __len__; define __len__ (the number of "
            f"samples): the loader reads indices 0 .. len - 1 and never probes for the end"
        )
    return dataset


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


#: Bytes read at a time: memory grows with the data a file holds, never with what it claims.
_CHUNK = 1 << 20


def read_idx(path: str | Path, what: str) -> np.ndarray:
    """Read an MNIST IDX file of ``what`` = ``"images"`` (n, rows, cols) or ``"labels"`` (n,).

    The header comes first: the magic number (2051 images, 2049 labels) and the
    dimensions, which say how many bytes follow. Exactly that many are read, in
    chunks (a header claiming more than the file holds costs only what it holds),
    and a file holding more (trailing garbage) is refused without reading the rest.
    Raises ``ValueError`` naming the file and the byte counts. The file may be
    gzipped (``.gz``).
    """
    if what not in _IDX_MAGIC:
        raise ValueError(f"read_idx: what must be 'images' or 'labels', got {what!r}")
    path = Path(path)
    if path.suffix != ".gz":  # a plain file's errors are its own (FileNotFoundError ...)
        with open(path, "rb") as file:
            return _read_idx(file, path, what)
    try:
        with gzip.open(path, "rb") as file:
            return _read_idx(file, path, what)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"load_mnist: '{path}' is not a valid gzip file (truncated or corrupt: {exc}); "
            f"download it again"
        ) from exc


def _read_idx(file: Any, path: Path, what: str) -> np.ndarray:
    """The array of an open IDX ``file``: header, then exactly the bytes it declares."""
    ndim = 3 if what == "images" else 1
    header_size = 4 + 4 * ndim
    header = file.read(header_size)
    magic = int.from_bytes(header[:4], "big") if len(header) >= 4 else None
    if magic is not None and magic != _IDX_MAGIC[what]:
        raise ValueError(
            f"load_mnist: '{path}' has magic number {magic}, expected {_IDX_MAGIC[what]} "
            f"for an IDX {what} file (2051 = images, 2049 = labels)"
        )
    if len(header) < header_size:
        raise ValueError(
            f"load_mnist: '{path}' is truncated: expected a {header_size}-byte header, "
            f"got {len(header)} bytes"
        )
    dims = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + math.prod(dims)

    def wrong_size(held: int | None) -> ValueError:
        state = (
            "truncated" if held is not None and held < expected else "longer than its header says"
        )
        return ValueError(
            f"load_mnist: '{path}' is {state}: the header {dims} needs {expected} bytes, "
            f"the file has {'more' if held is None else held}"
        )

    if path.suffix != ".gz":  # a plain file's size is known before reading it
        size = os.fstat(file.fileno()).st_size
        if size != expected:
            raise wrong_size(size)
    data = bytearray()
    while header_size + len(data) < expected:
        chunk = file.read(min(_CHUNK, expected - header_size - len(data)))
        if not chunk:
            raise wrong_size(header_size + len(data))
        data += chunk
    if file.read(1):
        raise wrong_size(None)
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


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
    X = images.reshape(len(images), math.prod(images.shape[1:])).astype(np.float32)
    X /= np.float32(255)
    return X, labels.astype(np.int64)
