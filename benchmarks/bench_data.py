"""One shuffled pass (epoch) of mini-batches, MNIST-sized (60,000 × 784 float32, batch 128).

Two rows:

- **arrays**: ``engine`` is ``nn.data.DataLoader(X, y, 128, shuffle=True)`` (a
  ``TensorDataset`` indexed once per batch); ``numpy`` is the floor, a permutation
  and one fancy index of ``X`` and ``y`` per batch; ``torch`` is
  ``torch.utils.data.DataLoader(TensorDataset(X, y), 128, shuffle=True)``, which
  fetches sample by sample and stacks them (its default for a map-style dataset).
- **map-style dataset**: a Python ``Dataset`` whose ``__getitem__`` returns ``(X[i],
  y[i])`` as numpy values, batched by each library's default collation (``engine``:
  ``nn.data.default_collate``; ``torch``: PyTorch's ``DataLoader`` over the same
  object); ``numpy`` is a loop over the samples and ``np.stack``, the floor for
  per-sample fetching.

Before timing, every implementation's batches are checked to hold the same values
(the unshuffled pass). ``--quick``: 2,000 examples.

Run: ``python -m benchmarks.bench_data [--quick]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import nn

from .common import interleaved_ms, row, torch_or_none

FULL_N, QUICK_N, FEATURES, BATCH = 60_000, 2_000, 784, 128


class Samples(nn.data.Dataset):
    """A map-style dataset of numpy rows and int labels (works with both libraries)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:  # noqa: N803 - the data's names
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.int64]:
        return self.X[i], self.y[i]


def numpy_batches(X: np.ndarray, y: np.ndarray, shuffle: bool, seed: int) -> Iterable:  # noqa: N803
    """The floor: one permutation, then one fancy index of each array per batch."""
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), BATCH):
        index = order[start : start + BATCH]
        yield X[index], y[index]


def numpy_sample_batches(dataset: Samples, shuffle: bool, seed: int) -> Iterable:
    """Per-sample fetching by hand: index each sample, then stack."""
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, BATCH):
        samples = [dataset[i] for i in order[start : start + BATCH].tolist()]
        yield np.stack([s[0] for s in samples]), np.array([s[1] for s in samples])


def engine_batches(source: Any, shuffle: bool, seed: int) -> Iterable:
    if isinstance(source, Samples):
        loader = nn.data.DataLoader(source, batch_size=BATCH, shuffle=shuffle, rng=seed)
    else:
        loader = nn.data.DataLoader(*source, batch_size=BATCH, shuffle=shuffle, rng=seed)
    return ((xb.numpy(), yb.numpy()) for xb, yb in loader)


def torch_batches(torch: Any, source: Any, shuffle: bool, seed: int) -> Iterable:
    if not isinstance(source, Samples):
        source = torch.utils.data.TensorDataset(*(torch.from_numpy(a) for a in source))
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        source, batch_size=BATCH, shuffle=shuffle, generator=generator
    )
    return ((xb.numpy(), yb.numpy()) for xb, yb in loader)


def check_batches(passes: dict[str, Callable[[bool], Iterable]]) -> None:
    """The unshuffled pass of every implementation holds the same batches."""
    reference = [tuple(map(np.copy, b)) for b in passes["numpy"](False)]
    for name, make in passes.items():
        batches = list(make(False))
        if len(batches) != len(reference):
            raise AssertionError(f"bench_data: {name} gives {len(batches)} batches")
        for (xb, yb), (xr, yr) in zip(batches, reference):
            if not (np.array_equal(xb, xr) and np.array_equal(yb, yr)):
                raise AssertionError(f"bench_data: {name}'s batches differ from numpy's")


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds per shuffled epoch; returns ``{"rows": [...]}``."""
    n = QUICK_N if quick else FULL_N
    rng = np.random.default_rng(0)
    X = rng.random((n, FEATURES), dtype=np.float32)  # noqa: N806
    y = rng.integers(0, 10, n)
    torch = torch_or_none()
    arrays, samples = (X, y), Samples(X, y)
    table = {
        "arrays (TensorDataset)": {
            "engine": lambda shuffle: engine_batches(arrays, shuffle, 1),
            "numpy": lambda shuffle: numpy_batches(X, y, shuffle, 1),
        },
        "map-style dataset, default collation": {
            "engine": lambda shuffle: engine_batches(samples, shuffle, 1),
            "numpy": lambda shuffle: numpy_sample_batches(samples, shuffle, 1),
        },
    }
    if torch is not None:
        table["arrays (TensorDataset)"]["torch"] = lambda s: torch_batches(torch, arrays, s, 1)
        table["map-style dataset, default collation"]["torch"] = lambda s: torch_batches(
            torch, samples, s, 1
        )
    rows = []
    for case, passes in table.items():
        check_batches(passes)
        epochs = {
            name: (lambda make=make: sum(1 for _ in make(True))) for name, make in passes.items()
        }
        values = interleaved_ms(
            epochs, repeats=3 if quick else 5, min_sample_s=0.01 if quick else 0.1, quick=quick
        )
        rows.append(
            row(
                f"Mini-batches, one shuffled epoch ({n:,} × {FEATURES} float32, batch {BATCH})",
                case,
                "ms/epoch",
                values,
            )
        )
    return {"rows": rows}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], line["values"], line["ratios"])
