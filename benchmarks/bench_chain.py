"""Deep chains: the scalar chain (recursion-free backward) and a wide elementwise chain.

Workloads
- ``scalar_chain``: ``y = x * c`` repeated ``n`` times on a 0-d tensor (10^6 by
  default; micrograd's recursive sort cannot do this), forward and backward times.
- ``tensor_chain``: 1,000 elementwise ops (``tanh``, ``* c``, ``+ c``, ``exp`` cycling)
  on a ``(256, 256)`` float32 tensor, against the same chain differentiated by hand
  in numpy, in one run.

Run: ``python -m benchmarks.bench_chain`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag


def timed_backward(build_loss: Callable[[], Any]) -> tuple[float, float]:
    """Seconds to build a loss with ``build_loss()`` and to run its ``backward()``."""
    start = time.perf_counter()
    loss = build_loss()
    built = time.perf_counter()
    loss.backward()
    return built - start, time.perf_counter() - built


def scalar_chain(n: int) -> dict[str, float]:
    """Seconds to build and to differentiate a chain of ``n`` scalar multiplications."""
    x = ag.tensor(1.0, requires_grad=True)

    def build() -> ag.Tensor:
        y = x
        for _ in range(n):
            y = y * 1.0000001
        return y

    forward_s, backward_s = timed_backward(build)
    assert abs(x.grad.item() - 1.0000001**n) < 1e-9 * n, "wrong gradient"
    return {"ops": n, "forward_s": forward_s, "backward_s": backward_s}


def elementwise_chain(x: Any, ops: int, tanh: Any, exp: Any) -> Any:
    """``ops`` steps cycling ``tanh``, ``* 1.5``, ``+ 0.25``, ``exp(.) * 0.25``, summed.

    Written once for any tensor library: pass its ``tanh`` and ``exp``.
    """
    y = x
    for i in range(ops):
        step = i % 4
        if step == 0:
            y = tanh(y)
        elif step == 1:
            y = y * 1.5
        elif step == 2:
            y = y + 0.25
        else:
            y = exp(y) * 0.25
    return y.sum()


def tensor_chain_engine(x0: np.ndarray, ops: int) -> tuple[float, float, np.ndarray]:
    """The chain in the engine: forward seconds, backward seconds, gradient."""
    x = ag.tensor(x0, requires_grad=True)
    forward_s, backward_s = timed_backward(lambda: elementwise_chain(x, ops, ag.tanh, ag.exp))
    return forward_s, backward_s, x.grad.numpy()


def tensor_chain_numpy(x0: np.ndarray, ops: int) -> tuple[float, float, np.ndarray]:
    """The same chain with a hand-written backward pass (the floor for a numpy engine)."""
    start = time.perf_counter()
    saved = []
    y = x0
    for i in range(ops):
        step = i % 4
        if step == 0:
            y = np.tanh(y)
            saved.append(y)
        elif step == 1:
            y = y * 1.5
            saved.append(None)
        elif step == 2:
            y = y + 0.25
            saved.append(None)
        else:
            y = np.exp(y) * 0.25
            saved.append(y)
    built = time.perf_counter()
    g = np.ones_like(y)
    for i in reversed(range(ops)):
        step = i % 4
        if step == 0:
            g = g * (1 - saved[i] * saved[i])
        elif step == 1:
            g = g * 1.5
        elif step == 3:
            g = g * saved[i]
    return built - start, time.perf_counter() - built, g


def tensor_chain(
    ops: int, shape: tuple[int, int] = (256, 256), repeats: int = 3
) -> dict[str, float]:
    """Median seconds for the elementwise chain in the engine and by hand, and their ratio.

    The two alternate after a warm-up run each, so both see warm memory.
    """
    x0 = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    tensor_chain_engine(x0, ops)
    tensor_chain_numpy(x0, ops)
    engine, by_hand = [], []
    for _ in range(repeats):
        engine.append(tensor_chain_engine(x0, ops))
        by_hand.append(tensor_chain_numpy(x0, ops))
    assert engine[0][2].dtype == np.float32
    assert np.allclose(engine[0][2], by_hand[0][2], rtol=1e-4, atol=1e-6), "gradients differ"
    med = lambda runs, k: float(np.median([run[k] for run in runs]))  # noqa: E731
    return {
        "ops": ops,
        "engine_forward_s": med(engine, 0),
        "engine_backward_s": med(engine, 1),
        "numpy_forward_s": med(by_hand, 0),
        "numpy_backward_s": med(by_hand, 1),
        "backward_ratio": med(engine, 1) / med(by_hand, 1),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """All chain workloads; ``quick`` shrinks them to a smoke test."""
    return {
        "scalar_chain": scalar_chain(1_000 if quick else 1_000_000),
        "tensor_chain": tensor_chain(40 if quick else 1_000, (16, 16) if quick else (256, 256)),
    }


if __name__ == "__main__":
    results = run(quick="--quick" in sys.argv)
    for name, row in results.items():
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
