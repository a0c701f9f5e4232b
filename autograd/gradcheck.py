"""Checking analytic gradients against central finite differences.

``g_i ≈ (f(x + ε e_i) - f(x - ε e_i)) / 2ε`` (the notes' gradient check). The error
of central differences is O(ε²) plus rounding O(u/ε); with float64 (u ≈ 1e-16)
the default ε = 1e-6 keeps both near 1e-10. A non-scalar output is checked through
a fixed random projection ``<f(x), v>``, which exercises the whole VJP.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .mode import enable_grad, no_grad
from .tensor import Tensor, as_tensor, unwrap
from .transforms import gradients


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree (names input, element and both values)."""


def _as_list(inputs: Any) -> list[Any]:
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _values(inputs: list[Any]) -> list[Any]:
    """Float inputs as float arrays to perturb; anything else is passed through."""
    out = []
    for x in inputs:
        array = np.asarray(unwrap(x))
        out.append(array.copy() if array.dtype.kind == "f" else x)
    return out


def _scalar(value: Any, projection: np.ndarray | None) -> float:
    array = np.asarray(unwrap(value), dtype=np.float64)
    if projection is None:
        if array.size != 1:
            raise ValueError(
                f"numerical_grad: f returned shape {array.shape}; pass grad_output to project it"
            )
        return float(array.reshape(()))
    return float(np.sum(array * projection))


def numerical_grad(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    grad_output: Any = None,
) -> list[np.ndarray]:
    """Central-difference gradient of ``f(*inputs)`` w.r.t. each floating-point input.

    ``f`` returns a scalar, or any shape when ``grad_output`` (same shape) is given,
    in which case the gradient of ``sum(f * grad_output)`` is returned. Non-float
    inputs are passed unchanged and get ``None``.
    """
    values = _values(_as_list(inputs))
    projection = None if grad_output is None else np.asarray(grad_output, dtype=np.float64)
    grads: list[Any] = []
    with no_grad():
        for x in values:
            if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
                grads.append(None)
                continue
            grad = np.zeros(x.shape, dtype=np.float64)
            flat, flat_grad = x.reshape(-1), grad.reshape(-1)
            for i in range(flat.size):
                original = flat[i]
                flat[i] = original + eps
                plus = _scalar(f(*(Tensor(v) for v in values)), projection)
                flat[i] = original - eps
                minus = _scalar(f(*(Tensor(v) for v in values)), projection)
                flat[i] = original
                flat_grad[i] = (plus - minus) / (2 * eps)
            grads.append(grad.astype(x.dtype))
    return grads


def _analytic(
    f: Callable[..., Any], values: list[Any], grad_output: np.ndarray | None
) -> list[Any]:
    """Backward-pass gradients per input: an array, ``None`` for a non-float input, and
    :data:`_UNREACHED` for an input the output's graph does not reach."""
    leaves = [
        Tensor(v, requires_grad=True) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for v in values
    ]
    with enable_grad():
        out = f(*leaves)
    out = as_tensor(out)
    if out.requires_grad:
        out.backward(grad_output)
    return [
        None if not isinstance(t, Tensor) else (_UNREACHED if t.grad is None else t.grad.data)
        for t in leaves
    ]


#: The analytic "gradient" of an input the output is not connected to.
_UNREACHED = object()

_DISCONNECTED = (
    "gradcheck failed for input {i}: the output is not connected to it (no gradient "
    "reaches it, so the analytic gradient is zero), but the numerical gradient is not "
    "(e.g. {value!r} at element {index}). The value left the graph inside f: typically "
    "through .numpy(), .item(), float() or np.asarray() of a tensor (wrapping the result "
    "in a Tensor again does not reconnect it), or a computation under ag.no_grad(); "
    "compute f with ag operations on its inputs"
)


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare ``f``'s backward-pass gradients with central differences.

    Returns True when every element satisfies ``|analytic - numeric| <= atol +
    rtol * |numeric|``; otherwise raises :class:`GradcheckError` naming the input,
    the element index and both values (or returns False if ``raise_exception`` is
    False). Use float64 inputs: float32 cannot resolve ``eps``-sized steps.
    """
    values = _values(_as_list(inputs))
    for i, v in enumerate(values):
        if isinstance(v, np.ndarray) and v.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {v.dtype}, not float64; finite differences "
                f"will be inaccurate",
                stacklevel=2,
            )
    with no_grad():
        probe = f(*(Tensor(v) for v in values))
    shape = np.shape(unwrap(probe))
    grad_output = None
    if int(np.prod(shape)) != 1:
        grad_output = np.random.default_rng(0).standard_normal(shape)
    analytic = _analytic(f, values, grad_output)
    numeric = numerical_grad(f, values, eps, grad_output)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if n is None:
            continue
        if a is _UNREACHED:
            if not n.any():
                continue  # f does not depend on this input: both gradients are zero
            index = tuple(int(j) for j in np.argwhere(n != 0)[0])
            return _fail(_DISCONNECTED.format(i=i, value=n[index], index=index), raise_exception)
        if a.shape != n.shape:
            return _fail(
                f"input {i}: analytic gradient has shape {a.shape}, expected {n.shape}",
                raise_exception,
            )
        bad = ~np.isclose(a, n, atol=atol, rtol=rtol, equal_nan=True)
        if bad.any():
            index = tuple(int(j) for j in np.argwhere(bad)[0])
            return _fail(
                f"gradcheck failed for input {i} at element {index}: analytic {a[index]!r} "
                f"vs numerical {n[index]!r} (difference {abs(a[index] - n[index]):.3g}; "
                f"atol={atol}, rtol={rtol}); {int(bad.sum())} of {bad.size} elements differ",
                raise_exception,
            )
    return True


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check second derivatives: ``gradcheck`` of the ``create_graph`` gradient of ``<f, v>``."""
    values = _values(_as_list(inputs))
    with no_grad():
        probe = f(*(Tensor(v) for v in values))
    shape = np.shape(unwrap(probe))
    projection = np.random.default_rng(1).standard_normal(shape)

    def first_derivative_sum(*xs: Any) -> Tensor:
        leaves = [x for x in xs if isinstance(x, Tensor) and x.dtype.kind == "f"]
        for leaf in leaves:
            leaf.requires_grad_(True)
        with enable_grad():
            out = f(*xs)
            grads = gradients(out, leaves, projection.astype(out.dtype), create_graph=True)
            weights = np.random.default_rng(2)
            return sum((g * weights.standard_normal(g.shape)).sum() for g in grads)

    return gradcheck(first_derivative_sum, values, eps=eps, atol=atol, rtol=rtol)
