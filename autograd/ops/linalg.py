"""Matrix product, as ``np.matmul``: 1-d, 2-d and batched n-d with broadcasting.

For ``C = A B``: ``dA = G Bᵀ`` and ``dB = Aᵀ G`` (over the last two axes). A 1-d
operand is a vector: the products become outer products or matrix-vector ones.
Broadcast batch axes are summed back by the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_binary, unchanged
from ..tensor import Tensor


def _grad_a(xp: Any, g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # out[..., i] = a[..., i, :] . b
        return g * b if a.ndim == 1 else xp.expand_dims(g, -1) * b
    if a.ndim == 1:  # out[..., j] = a . b[..., :, j]
        return (b @ xp.expand_dims(g, -1)).squeeze(-1)
    return g @ b.swapaxes(-1, -2)


def _grad_b(xp: Any, g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        return g * a if b.ndim == 1 else xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if b.ndim == 1:
        return (a.swapaxes(-1, -2) @ xp.expand_dims(g, -1)).squeeze(-1)
    return a.swapaxes(-1, -2) @ g


MATMUL = Primitive(
    "matmul", np.matmul, vjps=(_grad_a, _grad_b), saves=(0, 1), doc="a @ b;  dA = G Bᵀ, dB = Aᵀ G"
)


@op(MATMUL, operators=("__matmul__",), reflected=("__rmatmul__",))
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with ``np.matmul``'s rules for 1-d and batched operands."""
    return apply_binary(MATMUL, a, b)


def _linear(x: np.ndarray, w: np.ndarray, b: Any = None) -> np.ndarray:
    if type(w) is not np.ndarray or w.ndim != 2:
        raise ValueError("the weight must be 2-d: (in_features, out_features)")
    out = x @ w
    if b is not None:
        out += b  # in place: the product is a fresh array
    return out


def _linear_grad_w(xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None) -> Any:
    if x.ndim == 1:
        return xp.expand_dims(x, -1) * g
    if x.ndim > 2:  # fold the batch axes into one: the product then sums over them
        x, g = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    return x.T @ g


LINEAR = Primitive(
    "linear",
    _linear,
    vjps=(
        lambda xp, g, out, x, w, b=None: g @ w.T,
        _linear_grad_w,
        unchanged,  # the engine sums G over the axes b was broadcast along (fit_grad)
    ),
    saves=(0, 1),
    doc="x @ W + b (fused);  dx = G Wᵀ, dW = xᵀ G, db = G summed to b's shape",
)


@op(LINEAR)
def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """The affine map ``x @ weight + bias`` as one fused op (``weight``: ``(in, out)``).

    One graph node instead of two, and no intermediate ``x @ weight`` kept for backward.
    """
    if bias is None:
        return apply_binary(LINEAR, x, weight)
    return apply(LINEAR, (x, weight, bias))
