"""Writing your own primitive with ``ag.Function``: a stable softplus and a broadcasting hypot.

A custom primitive gives ``forward`` (ndarrays in, an ndarray out) and
``backward`` (the gradient of the output in, one gradient per input out), as in
``torch.autograd.Function``. Two reasons to write one, both shown here:

- **Numerical stability.** ``softplus(x) = log(1 + eˣ)`` composed from ``exp`` and
  ``log`` overflows for large ``x`` (``e^1000 = inf``, and its gradient becomes
  ``inf / inf = nan``). Written as ``max(x, 0) + log1p(e^−|x|)`` with the closed-form
  derivative ``softplus'(x) = sigmoid(x)``, it is exact everywhere.
- **A closed-form gradient.** ``hypot(a, b) = sqrt(a² + b²)`` has
  ``∂/∂a = a / hypot``, ``∂/∂b = b / hypot``. The engine sums the gradients back
  to each input's shape when the inputs broadcast, as for built-in ops.

Both are checked with ``ag.gradcheck`` (central differences) and against the same
function composed from built-in primitives.

Run: ``python examples/custom_function.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


class Softplus(ag.Function):
    """``log(1 + eˣ)``, computed as ``max(x, 0) + log1p(e^−|x|)``; derivative ``sigmoid(x)``."""

    @staticmethod
    def forward(ctx: ag.FunctionCtx, x: np.ndarray) -> np.ndarray:
        """Stable softplus of the array ``x``."""
        ctx.save_for_backward(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx: ag.FunctionCtx, grad_output: np.ndarray) -> np.ndarray:
        """``grad_output * sigmoid(x)``."""
        (x,) = ctx.saved_tensors
        return grad_output * _sigmoid(x)


class Hypot(ag.Function):
    """``sqrt(a² + b²)`` for broadcastable ``a``, ``b``; gradients ``a / h`` and ``b / h``."""

    @staticmethod
    def forward(ctx: ag.FunctionCtx, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Elementwise hypotenuse (numpy broadcasting)."""
        h = np.hypot(a, b)
        ctx.save_for_backward(a, b, h)
        return h

    @staticmethod
    def backward(ctx: ag.FunctionCtx, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-shape gradients; the engine reduces them to ``a``'s and ``b``'s shapes."""
        a, b, h = ctx.saved_tensors
        return grad_output * a / h, grad_output * b / h


def composed_softplus(x: ag.Tensor) -> ag.Tensor:
    """``log(1 + eˣ)`` from built-in primitives (overflows for large ``x``)."""
    return ag.log(1 + ag.exp(x))


def value_and_gradient(fn: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fn(x)`` and ``d sum(fn(x)) / dx`` as arrays."""
    t = ag.tensor(x, requires_grad=True)
    out = fn(t)
    out.sum().backward()
    return out.numpy(), t.grad.numpy()


def main(seed: int = 0) -> dict[str, Any]:
    """Check both custom ops; print a report.

    Returns ``softplus_gradcheck`` and ``hypot_gradcheck`` (bools),
    ``softplus_vs_composed`` (largest value/gradient difference on ``[-5, 5]``),
    ``large_x`` (the custom and composed softplus value and gradient at ``x = 1000``),
    ``hypot_grads`` (the gradients of ``sum(hypot(a, b))`` for ``a: (3, 1)``,
    ``b: (4,)``) and ``hypot_expected`` (the closed form, summed over the broadcast axes).
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(-5, 5, 11)
    mine, built_in = value_and_gradient(Softplus.apply, x), value_and_gradient(composed_softplus, x)
    vs_composed = max(float(np.max(np.abs(m - c))) for m, c in zip(mine, built_in))
    check_softplus = ag.gradcheck(Softplus.apply, [ag.tensor(rng.normal(size=(4, 3)) * 3)])
    big = np.array([1000.0])
    big_mine = value_and_gradient(Softplus.apply, big)
    with np.errstate(over="ignore", invalid="ignore"):
        big_composed = value_and_gradient(composed_softplus, big)
    large_x = {
        "custom": (float(big_mine[0][0]), float(big_mine[1][0])),
        "composed": (float(big_composed[0][0]), float(big_composed[1][0])),
    }
    print("Softplus(ag.Function): log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), derivative sigmoid(x)")
    print(f"  gradcheck: {check_softplus}")
    print(f"  vs log(1 + exp(x)) from built-ins on [-5, 5]: largest difference {vs_composed:.1e}")
    for name, (value, slope) in large_x.items():
        print(f"  at x = 1000, {name:8s}: value {value}, gradient {slope}")

    a = ag.tensor(rng.normal(size=(3, 1)), requires_grad=True)
    b = ag.tensor(rng.normal(size=(4,)), requires_grad=True)
    Hypot.apply(a, b).sum().backward()
    h = np.hypot(a.numpy(), b.numpy())
    expected = ((a.numpy() / h).sum(axis=1, keepdims=True), (b.numpy() / h).sum(axis=0))
    check_hypot = ag.gradcheck(Hypot.apply, [ag.tensor(a.numpy()), ag.tensor(b.numpy())])
    composed = ag.grad(lambda p, q: ag.sqrt(p * p + q * q).sum(), (0, 1))(a.numpy(), b.numpy())
    vs_builtin = max(
        float(np.max(np.abs(g.numpy() - c.numpy()))) for g, c in zip((a.grad, b.grad), composed)
    )
    print("\nHypot(ag.Function): sqrt(a² + b²), a: (3, 1), b: (4,) broadcast to (3, 4)")
    print(f"  gradcheck: {check_hypot}")
    print(
        f"  grad a = {a.grad.numpy().ravel().round(6)}  (closed form summed over b's axis: "
        f"{expected[0].ravel().round(6)})"
    )
    print(
        f"  grad b = {b.grad.numpy().round(6)}  (closed form summed over a's axis: "
        f"{expected[1].round(6)})"
    )
    print(f"  vs sqrt(a*a + b*b) from built-ins: largest gradient difference {vs_builtin:.1e}")
    return {
        "softplus_gradcheck": check_softplus,
        "softplus_vs_composed": vs_composed,
        "large_x": large_x,
        "hypot_gradcheck": check_hypot,
        "hypot_grads": (a.grad.numpy(), b.grad.numpy()),
        "hypot_expected": expected,
        "hypot_vs_builtin": vs_builtin,
    }


if __name__ == "__main__":
    main()
