"""Per-op overhead: a chain of tiny elementwise ops on a shape-(8,) float32 vector.

With 8 elements the arithmetic is free, so the time per op is the framework's own
cost: creating a tensor and a graph node, dispatching, and running the VJP. The
chain is ``bench_chain``'s (``tanh``, ``* 1.5``, ``+ 0.25``, ``exp(·) * 0.25``,
cycling, then ``sum``), forward and backward, measured three ways:

- ``engine``: ``bench_chain``'s engine chain;
- ``numpy``: ``bench_chain``'s hand-differentiated numpy chain (the floor);
- ``torch``: the same chain on a ``torch`` tensor (optional).

Reported: microseconds per op (forward + backward), ops counted as primitives
applied (each ``exp(·) * 0.25`` step is two ops, and the final sum one).

Run: ``python -m benchmarks.bench_overhead [--quick]``.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .bench_chain import (
    elementwise_chain,
    tensor_chain_engine,
    tensor_chain_numpy,
    timed_backward,
)
from .common import interleaved, missing_note, row, torch_or_none

SHAPE = (8,)


def op_count(steps: int) -> int:
    """Primitives in ``bench_chain``'s chain of ``steps`` steps (every 4th is two ops) + sum."""
    return steps + steps // 4 + 1


def torch_chain(torch: Any, x0: np.ndarray, steps: int) -> tuple[float, float, np.ndarray]:
    """``bench_chain``'s chain in PyTorch: forward seconds, backward seconds, gradient."""
    x = torch.tensor(x0, requires_grad=True)
    forward_s, backward_s = timed_backward(
        lambda: elementwise_chain(x, steps, torch.tanh, torch.exp)
    )
    return forward_s, backward_s, x.grad.numpy()


def run(quick: bool = False) -> dict[str, Any]:
    """Microseconds per op of each implementation; returns ``{"rows": [...]}``."""
    steps = 100 if quick else 1000
    x0 = np.random.default_rng(0).uniform(-1, 1, SHAPE).astype(np.float32)
    torch = torch_or_none()
    cases = {
        "engine": lambda: tensor_chain_engine(x0, steps),
        "numpy": lambda: tensor_chain_numpy(x0, steps),
    }
    if torch is not None:
        cases["torch"] = lambda: torch_chain(torch, x0, steps)
    reference = cases["numpy"]()[2]
    for name, fn in cases.items():
        grad = fn()[2]
        if grad.dtype != np.float32 or not np.allclose(grad, reference, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"bench_overhead: {name}'s gradient differs from numpy's")
    seconds = interleaved(
        cases, repeats=3 if quick else 9, min_sample_s=0.01 if quick else 0.05, quick=quick
    )
    ops = op_count(steps)
    values: dict[str, Any] = {name: s / ops * 1e6 for name, s in seconds.items()}
    values.setdefault("torch", missing_note("torch"))
    line = row(
        "Per-op overhead, shape (8,) float32",
        f"chain of {ops:,} ops, forward + backward",
        "µs/op",
        values,
    )
    return {"rows": [line]}


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv)
    print(result["rows"][0]["values"], result["rows"][0]["ratios"])
