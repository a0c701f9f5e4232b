"""Matrix product, as ``np.matmul``: 1-d, 2-d and batched n-d with broadcasting.

For ``C = A B``: ``dA = G Bᵀ`` and ``dB = Aᵀ G`` (over the last two axes). A 1-d
operand is a vector: the products become outer products or matrix-vector ones.
Broadcast batch axes are summed back by the engine.

Compositions: ``tensordot`` (an ``einsum``), ``dot`` (numpy's), ``outer``, ``tril``
and ``triu`` (a ``where`` with a constant mask), ``diagonal`` and ``trace`` (indexing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_binary, unchanged
from ..tensor import Tensor, unwrap
from .axes import check_axis, torch_name
from .einstein import EINSUM, LETTERS, einsum
from .elementwise import MULTIPLY, WHERE, multiply, where
from .reduce import SUM, sum
from .shape import GETITEM, RESHAPE, TRANSPOSE, getitem, reshape, transpose


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


def _rows(a: Any) -> Any:
    """``a`` with its batch axes folded into one: ``(..., n) -> (rows, n)``. numpy runs a
    stacked product ``(T, B, n) @ (n, m)`` as one matrix product per ``T``; a single
    product over every row is faster."""
    return a.reshape(-1, a.shape[-1])


def _linear(x: np.ndarray, w: np.ndarray, b: Any = None) -> np.ndarray:
    if type(w) is not np.ndarray or w.ndim != 2:
        raise ValueError("the weight must be 2-d: (in_features, out_features)")
    out = x @ w if x.ndim <= 2 else (_rows(x) @ w).reshape(*x.shape[:-1], w.shape[1])
    if b is not None:
        out += b  # in place: the product is a fresh array
    return out


def _linear_grad_x(xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None) -> Any:
    if g.ndim > 2:
        return (_rows(g) @ w.T).reshape(*g.shape[:-1], w.shape[0])
    return g @ w.T


def _linear_grad_w(xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None) -> Any:
    if x.ndim == 1:
        return xp.expand_dims(x, -1) * g
    if x.ndim > 2:  # fold the batch axes into one: the product then sums over them
        x, g = _rows(x), _rows(g)
    return x.T @ g


LINEAR = Primitive(
    "linear",
    _linear,
    vjps=(
        _linear_grad_x,
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


@op(EINSUM)
def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum of products over ``axes``, as ``np.tensordot``: an int N pairs the last N axes
    of ``a`` with the first N of ``b``; ``(axes_a, axes_b)`` names them. The result's
    axes are ``a``'s others, then ``b``'s."""
    shape_a, shape_b = np.shape(unwrap(a)), np.shape(unwrap(b))
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(len(shape_a), len(shape_b)):
            raise ValueError(
                f"tensordot: axes={axes} for shapes {shape_a} and {shape_b}: it must be "
                f"between 0 and the smaller number of axes"
            )
        pairs_a, pairs_b = range(len(shape_a) - axes, len(shape_a)), range(axes)
    else:
        pairs_a, pairs_b = ((p,) if isinstance(p, (int, np.integer)) else tuple(p) for p in axes)
    pairs_a = [check_axis(i, len(shape_a)) for i in pairs_a]
    pairs_b = [check_axis(j, len(shape_b)) for j in pairs_b]
    if len(pairs_a) != len(pairs_b) or any(
        shape_a[i] != shape_b[j] for i, j in zip(pairs_a, pairs_b)
    ):
        raise ValueError(
            f"tensordot: shape mismatch for sum: axes {pairs_a} of {shape_a} and axes "
            f"{pairs_b} of {shape_b} must pair up with equal lengths"
        )
    labels_a = LETTERS[: len(shape_a)]
    labels_b = list(LETTERS[len(shape_a) : len(shape_a) + len(shape_b)])
    for i, j in zip(pairs_a, pairs_b):
        labels_b[j] = labels_a[i]
    kept = [labels_a[i] for i in range(len(shape_a)) if i not in pairs_a]
    kept += [labels_b[j] for j in range(len(shape_b)) if j not in pairs_b]
    return einsum(f"{labels_a},{''.join(labels_b)}->{''.join(kept)}", a, b)


@op(MATMUL, MULTIPLY, EINSUM)
def dot(a: Any, b: Any) -> Tensor:
    """numpy's ``dot``: a product for 0-d operands, ``matmul`` for 1-d and 2-d ones, and
    for n-d ones the sum over ``a``'s last axis and ``b``'s second-to-last."""
    ndim_a, ndim_b = np.ndim(unwrap(a)), np.ndim(unwrap(b))
    if ndim_a == 0 or ndim_b == 0:
        return multiply(a, b)
    if ndim_a >= 2 and ndim_b >= 2 and ndim_a + ndim_b > 4:
        return tensordot(a, b, ([ndim_a - 1], [ndim_b - 2]))
    return matmul(a, b)


@op(RESHAPE, MULTIPLY)
def outer(a: Any, b: Any) -> Tensor:
    """``outer(a, b)[i, j] = a[i] * b[j]`` of the flattened inputs, as ``np.outer``."""
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def _triangle(name: str, x: Any, k: int, diagonal: Any, lower: bool) -> Tensor:
    k = torch_name(name, k, diagonal, 0)
    shape = np.shape(unwrap(x))
    if not shape:
        raise ValueError(f"{name}: needs a matrix (or, as numpy, a vector), got a 0-d tensor")
    kept = np.tri(*shape[-2:], k=k if lower else k - 1, dtype=bool)  # col <= row + k
    return where(kept if lower else ~kept, x, 0)


@op(WHERE)
def tril(x: Any, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """The lower triangle: ``x`` where ``col <= row + k``, 0 elsewhere, over the last two
    axes, as ``np.tril`` (a 1-d ``x`` is taken as every row). ``diagonal=`` is
    PyTorch's name for ``k``."""
    return _triangle("tril", x, k, diagonal, lower=True)


@op(WHERE)
def triu(x: Any, k: int = 0, *, diagonal: int | None = None) -> Tensor:
    """The upper triangle: ``x`` where ``col >= row + k``, 0 elsewhere, over the last two
    axes, as ``np.triu``. ``diagonal=`` is PyTorch's name for ``k``."""
    return _triangle("triu", x, k, diagonal, lower=False)


@op(TRANSPOSE, GETITEM)
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal ``x[..., i, i + offset]`` of the ``(axis1, axis2)`` planes, as
    ``np.diagonal``: those two axes are removed and the diagonal becomes the last."""
    shape = np.shape(unwrap(x))
    if len(shape) < 2:
        raise ValueError(f"diagonal: needs at least two axes, got shape {shape}")
    axis1, axis2 = check_axis(axis1, len(shape)), check_axis(axis2, len(shape))
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, both are {axis1}")
    others = [a for a in range(len(shape)) if a not in (axis1, axis2)]
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    steps = np.arange(max(0, min(shape[axis1] - row, shape[axis2] - col)))
    return getitem(transpose(x, [*others, axis1, axis2]), (Ellipsis, steps + row, steps + col))


@op(TRANSPOSE, GETITEM, SUM)
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of ``diagonal(x, offset, axis1, axis2)``, as ``np.trace``."""
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)
