"""``einsum`` forward + backward (float32), three ways, on two contractions:

- attention scores ``"bqd,bkd->bqk"`` (a batched ``q kᵀ``);
- a chain of three matrices ``"ij,jk,kl->il"`` (the contraction order matters).

Implementations:

- ``engine``: ``ag.einsum`` and ``backward`` (each operand's gradient is an einsum);
- ``numpy``: the floor, written by hand: the forward and every gradient as ``matmul``
  products in the best order (``dq = g k``, ``dk = gᵀ q``; ``dA = g (B C)ᵀ``, ...);
- ``torch``: ``torch.einsum`` and ``backward`` (optional).

Before timing, every implementation's gradients are checked against the floor's.

Run: ``python -m benchmarks.bench_einsum [--quick]``.
"""

# ruff: noqa: N803, N806 - matrix names (A, B, C)

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag

from .common import interleaved_ms, row, torch_or_none

Step = Callable[[], list[np.ndarray]]


def scores_numpy(q: np.ndarray, k: np.ndarray, g: np.ndarray) -> Step:
    def step() -> list[np.ndarray]:
        q @ k.swapaxes(-1, -2)  # the forward, as the others compute it
        return [g @ k, g.swapaxes(-1, -2) @ q]

    return step


def chain_numpy(A: np.ndarray, B: np.ndarray, C: np.ndarray, g: np.ndarray) -> Step:
    def step() -> list[np.ndarray]:
        BC = B @ C
        A @ BC  # the forward
        gCt = g @ C.T
        return [gCt @ B.T, A.T @ gCt, (A @ B).T @ g]

    return step


def engine(subscripts: str, arrays: list[np.ndarray], g: np.ndarray) -> Step:
    def step() -> list[np.ndarray]:
        tensors = [ag.tensor(a, requires_grad=True) for a in arrays]
        ag.einsum(subscripts, *tensors).backward(g)
        return [t.grad.numpy() for t in tensors]

    return step


def torch_step(torch: Any, subscripts: str, arrays: list[np.ndarray], g: np.ndarray) -> Step:
    seed = torch.from_numpy(g)

    def step() -> list[np.ndarray]:
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        torch.einsum(subscripts, *tensors).backward(seed)
        return [t.grad.numpy() for t in tensors]

    return step


def cases(quick: bool) -> list[tuple[str, str, list[np.ndarray], Callable[..., Step]]]:
    """(subscripts, description, operands, the numpy floor) of each workload."""
    rng = np.random.default_rng(0)
    b, n, d = (2, 16, 8) if quick else (16, 128, 64)
    m = 16 if quick else 256

    def draw(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    return [
        ("bqd,bkd->bqk", f"attention scores b={b} q=k={n} d={d}", [draw(b, n, d), draw(b, n, d)],
         scores_numpy),
        ("ij,jk,kl->il", f"chain of three {m}x{m} matrices", [draw(m, m), draw(m, m), draw(m, m)],
         chain_numpy),
    ]  # fmt: skip


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds per forward + backward of each implementation; returns ``{"rows": [...]}``."""
    torch = torch_or_none()
    rows = []
    for subscripts, case, arrays, floor in cases(quick):
        out_shape = np.einsum(subscripts, *arrays).shape
        g = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
        steps = {"engine": engine(subscripts, arrays, g), "numpy": floor(*arrays, g)}
        if torch is not None:
            steps["torch"] = torch_step(torch, subscripts, arrays, g)
        reference = steps["numpy"]()
        for name, step in steps.items():
            for grad, expected in zip(step(), reference):
                if grad.dtype != np.float32 or not np.allclose(
                    grad, expected, rtol=1e-3, atol=1e-3
                ):
                    raise AssertionError(f"bench_einsum: {name}'s gradient differs on {subscripts}")
        values = interleaved_ms(
            steps, repeats=3 if quick else 9, min_sample_s=0.01 if quick else 0.05, quick=quick
        )
        rows.append(
            row(f"einsum {subscripts} (float32)", f"{case}, forward + backward", "ms", values)
        )
    return {"rows": rows}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line)
