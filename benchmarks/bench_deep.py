"""A deep scalar chain: ``y = x · c`` repeated 100,000 times, forward and backward.

The engine's backward pass is iterative, so depth is limited only by memory.
micrograd sorts its graph with a recursive function and cannot differentiate such
a chain: it is actually tried here, inside a guarded call with a recursion limit
of :data:`MICROGRAD_RECURSION_LIMIT`, and reported as ``fails (RecursionError)``
(the runner goes on). PyTorch (optional) does it in C++.

The engine's side is ``bench_chain.scalar_chain`` (which also checks the
gradient, ``c^n``); PyTorch runs the same chain on a 0-d float64 tensor.

Run: ``python -m benchmarks.bench_deep [--quick]``.
"""

from __future__ import annotations

import sys
from typing import Any

from .bench_chain import scalar_chain
from .common import interleaved, micrograd_or_none, missing_note, row, torch_or_none

FACTOR = 1.0000001  # bench_chain.scalar_chain's constant
MICROGRAD_RECURSION_LIMIT = 10_000


def torch_chain(torch: Any, n: int) -> float:
    """``d(x · cⁿ)/dx`` in PyTorch through ``n`` multiplications (checked against ``cⁿ``)."""
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * FACTOR
    y.backward()
    grad = x.grad.item()
    if abs(grad - FACTOR**n) > 1e-9 * n:
        raise AssertionError(f"bench_deep: torch gradient {grad} != {FACTOR**n}")
    return grad


def micrograd_chain(micrograd: Any, n: int) -> float:
    """micrograd's forward + backward through ``n`` multiplications; returns ``dy/dx``.

    Runs with the recursion limit lowered to :data:`MICROGRAD_RECURSION_LIMIT`
    (restored after), so micrograd's recursive topological sort fails with a clean
    ``RecursionError`` on a deep graph instead of overflowing the C stack.
    """
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(MICROGRAD_RECURSION_LIMIT)
    try:
        x = micrograd.Value(1.0)
        y = x
        for _ in range(n):
            y = y * FACTOR
        y.backward()
    finally:
        sys.setrecursionlimit(previous)
    return x.grad


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds for the chain's forward + backward; returns ``{"rows": [...]}``.

    micrograd is tried once first; only if it succeeds is it timed with the others.
    """
    n = 20_000 if quick else 100_000
    torch, micrograd = torch_or_none(), micrograd_or_none()
    cases = {"engine": lambda: scalar_chain(n)}
    values: dict[str, Any] = {}
    if torch is not None:
        cases["torch"] = lambda: torch_chain(torch, n)
    else:
        values["torch"] = missing_note("torch")
    if micrograd is None:
        values["micrograd"] = missing_note("micrograd")
    else:
        try:
            micrograd_chain(micrograd, n)
            cases["micrograd"] = lambda: micrograd_chain(micrograd, n)
        except RecursionError as exc:
            values["micrograd"] = f"fails ({type(exc).__name__})"
    seconds = interleaved(cases, repeats=3 if quick else 5, min_sample_s=0.0, quick=quick)
    values = {**{name: s * 1e3 for name, s in seconds.items()}, **values}
    note = (
        f"engine {seconds['engine'] / n * 1e6:.2f} µs/op; micrograd tried with "
        f"sys.setrecursionlimit({MICROGRAD_RECURSION_LIMIT:,})"
    )
    case = f"{n:,} multiplications, forward + backward"
    return {"rows": [row("Deep scalar chain", case, "ms", values, note=note)]}


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv)
    print(result["rows"][0]["values"], result["rows"][0]["ratios"])
