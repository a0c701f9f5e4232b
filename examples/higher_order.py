"""Derivatives of derivatives: Newton's method and a Hessian-vector product.

Every VJP rule in the engine is written with differentiable ops, so a gradient can
itself be differentiated (``backward(create_graph=True)``, or nesting ``ag.grad``).
Three uses:

1. **Newton's method in 1-D** with ``ag.grad(ag.grad(f))``: minimise
   ``f(x) = eˣ − 2x``. The step ``x ← x − f'(x) / f''(x) = x − 1 + 2e^−x`` converges
   quadratically to the closed-form minimiser ``x* = ln 2`` (the error roughly
   squares at each step).
2. **Newton's method in n-D** with ``ag.grad`` and ``ag.hessian``: on a quadratic
   ``f(x) = ½ xᵀAx − bᵀx`` one step ``x − H⁻¹∇f`` lands on ``A⁻¹b`` from any start;
   on L2-regularised logistic regression the engine's Hessian equals the closed
   form ``Xᵀ diag(p(1 − p)) X / m + λI`` and a few steps drive the gradient to 0.
3. **A Hessian-vector product** ``Hv = ∇(∇f · v)`` by double backward, for the loss
   of a small tanh network as a function of all its weights: equal to
   ``ag.hessian(f)(w) @ v`` (which costs one backward pass per weight, ``Hv`` costs
   two) and to a central difference of gradients.

Run: ``python examples/higher_order.py``.
"""

# ruff: noqa: N803, N806 - matrix names (A, H, X)

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag


def newton_1d(x0: float = 0.0, steps: int = 5) -> dict[str, Any]:
    """Newton iterations on ``f(x) = eˣ − 2x`` with the engine's ``f'`` and ``f''``."""
    f = lambda x: ag.exp(x) - 2 * x  # noqa: E731
    df, d2f = ag.grad(f), ag.grad(ag.grad(f))
    xs = [x0]
    for _ in range(steps):
        x = xs[-1]
        xs.append(x - df(x).item() / d2f(x).item())
    closed_first_step = x0 - 1 + 2 * math.exp(-x0)
    return {"xs": xs, "closed_first_step": closed_first_step, "minimiser": math.log(2)}


def newton_step(f: Callable[[ag.Tensor], ag.Tensor], x: np.ndarray) -> np.ndarray:
    """One Newton step ``x − H(x)⁻¹ ∇f(x)`` with the engine's gradient and Hessian."""
    g = ag.grad(f)(x).numpy()
    H = ag.hessian(f)(x).numpy()
    return x - np.linalg.solve(H, g)


def newton_quadratic(n: int = 5, seed: int = 0) -> dict[str, Any]:
    """One Newton step on ``½ xᵀAx − bᵀx`` (A symmetric positive definite)."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A, b = M @ M.T + n * np.eye(n), rng.normal(size=n)
    f = lambda x: 0.5 * (x @ (A @ x)) - b @ x  # noqa: E731
    landed = newton_step(f, rng.normal(size=n) * 10)
    return {"landed": landed, "closed_form": np.linalg.solve(A, b)}


def newton_logistic(
    m: int = 200, n: int = 3, lam: float = 0.1, steps: int = 6, seed: int = 0
) -> dict[str, Any]:
    """Newton's method on L2-regularised logistic regression; Hessian vs closed form."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = (X @ rng.normal(size=n) + 0.5 * rng.normal(size=m) > 0).astype(np.float64)

    def loss(w: ag.Tensor) -> ag.Tensor:
        z = X @ w  # J(w) = mean(log(1 + e^z) − y z) + λ/2 ||w||²
        return (ag.logsumexp(ag.stack([ag.zeros_like(z), z], axis=1), axis=1) - y * z).mean() + (
            0.5 * lam * (w * w).sum()
        )

    w = np.zeros(n)
    p = 1 / (1 + np.exp(-(X @ w)))
    closed_hessian = X.T @ (X * (p * (1 - p))[:, None]) / m + lam * np.eye(n)
    engine_hessian = ag.hessian(loss)(w).numpy()
    grad_norms = [float(np.linalg.norm(ag.grad(loss)(w).numpy()))]
    for _ in range(steps):
        w = newton_step(loss, w)
        grad_norms.append(float(np.linalg.norm(ag.grad(loss)(w).numpy())))
    return {
        "engine_hessian": engine_hessian,
        "closed_hessian": closed_hessian,
        "grad_norms": grad_norms,
    }


def tanh_net_loss(
    sizes: tuple[int, int, int], X: np.ndarray, y: np.ndarray
) -> Callable[[ag.Tensor], ag.Tensor]:
    """``f(w)``: softmax cross-entropy of ``tanh(X W1) W2`` with ``w`` = both weights, flat."""
    n, d, k = sizes

    def f(w: ag.Tensor) -> ag.Tensor:
        W1, W2 = w[: n * d].reshape(n, d), w[n * d :].reshape(d, k)
        return ag.softmax_cross_entropy(ag.tanh(X @ W1) @ W2, y)

    return f


def hessian_vector_product(
    f: Callable[[ag.Tensor], ag.Tensor], w: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """``H v`` by double backward: ``g = ∇f(w)`` with a graph, then ``∇(g · v)``."""
    wt = ag.tensor(w, requires_grad=True)
    f(wt).backward(create_graph=True)
    g = wt.grad
    wt.grad = None
    (g * v).sum().backward()
    return wt.grad.numpy()


def hvp_check(
    sizes: tuple[int, int, int] = (4, 6, 3), m: int = 32, seed: int = 0
) -> dict[str, Any]:
    """``H v`` three ways: double backward, the full ``ag.hessian`` times ``v``, differences."""
    rng = np.random.default_rng(seed)
    n, d, k = sizes
    X, y = rng.normal(size=(m, n)), rng.integers(0, k, size=m)
    f = tanh_net_loss(sizes, X, y)
    w = rng.normal(size=n * d + d * k) * 0.5
    v = rng.normal(size=w.shape)
    hv = hessian_vector_product(f, w, v)
    H = ag.hessian(f)(w).numpy()
    eps = 1e-5
    grad = ag.grad(f)
    fd = (grad(w + eps * v).numpy() - grad(w - eps * v).numpy()) / (2 * eps)
    return {
        "hvp": hv,
        "hessian_times_v": H @ v,
        "finite_difference": fd,
        "hessian_symmetry": float(np.max(np.abs(H - H.T))),
        "n_weights": w.size,
    }


def main(seed: int = 0) -> dict[str, Any]:
    """Run the three demonstrations; print a report and return their results."""
    one_d = newton_1d()
    print("1. Newton's method on f(x) = eˣ − 2x, f' and f'' from ag.grad(ag.grad(f))")
    print(
        f"   first step from 0: engine {one_d['xs'][1]:.15f}, "
        f"closed form x − 1 + 2e^−x = {one_d['closed_first_step']:.15f}"
    )
    for i, x in enumerate(one_d["xs"]):
        print(f"   x{i} = {x:.15f}   |x − ln 2| = {abs(x - one_d['minimiser']):.1e}")

    quadratic = newton_quadratic(seed=seed)
    gap = float(np.max(np.abs(quadratic["landed"] - quadratic["closed_form"])))
    print("\n2. One Newton step x − H⁻¹∇f on f(x) = ½ xᵀAx − bᵀx (H = ag.hessian(f)):")
    print(
        f"   lands at {quadratic['landed'].round(6)}, A⁻¹b = "
        f"{quadratic['closed_form'].round(6)}, largest difference {gap:.1e}"
    )
    logistic = newton_logistic(seed=seed)
    h_gap = float(np.max(np.abs(logistic["engine_hessian"] - logistic["closed_hessian"])))
    print(
        "   L2-regularised logistic regression: engine Hessian vs Xᵀdiag(p(1−p))X/m + λI: "
        f"largest difference {h_gap:.1e}"
    )
    print("   ||∇J|| over Newton steps: " + ", ".join(f"{g:.1e}" for g in logistic["grad_norms"]))

    hvp = hvp_check(seed=seed)
    vs_full = float(np.max(np.abs(hvp["hvp"] - hvp["hessian_times_v"])))
    vs_fd = float(np.max(np.abs(hvp["hvp"] - hvp["finite_difference"])))
    print(
        f"\n3. Hessian-vector product for a tanh network's loss ({hvp['n_weights']} weights), "
        "Hv = ∇(∇f · v) by double backward:"
    )
    print(
        f"   vs ag.hessian(f)(w) @ v: largest difference {vs_full:.1e}; "
        f"vs central difference of gradients: {vs_fd:.1e}; "
        f"Hessian symmetric to {hvp['hessian_symmetry']:.1e}"
    )
    return {
        "newton_1d": one_d,
        "newton_quadratic": quadratic,
        "newton_logistic": logistic,
        "hvp": hvp,
    }


if __name__ == "__main__":
    main()
