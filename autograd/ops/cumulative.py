"""Cumulative ops along an axis: ``cumsum cumprod`` (primitives), ``cummax cummin``.

``axis=None`` works on the flattened values, as numpy. ``cumsum``'s VJP sums the
gradient from the end; ``cumprod``'s is exact with zeros; ``cummax``/``cummin``
return ``(values, indices)`` as PyTorch does (ties go to the later element) and send
each output's gradient to the element it copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_unary
from ..tensor import Tensor, unwrap
from .axes import check_axis, torch_name
from .elementwise import constant_primitive
from .reduce import ValuesIndices, exclusive_cumprod
from .shape import GETITEM, RESHAPE, flatten, take_along_axis


def _reverse_cumsum(xp: Any, g: Any, axis: int) -> Any:
    """``r_i = sum_{k >= i} g_k`` along ``axis``."""
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis), axis)


def _cumprod_vjp(xp: Any, g: Any, out: Any, x: Any, axis: int) -> Any:
    """``dx_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j``.

    Without zeros that is ``reverse_cumsum(g * out)_i / x_i``. With zeros the sum is
    accumulated from the end, ``r_i = g_i + x_{i+1} r_{i+1}``, and multiplied by the
    product of the elements before ``i``: no division, so exact, and differentiable
    again (one step per element along ``axis``).
    """
    if not (x == 0).any():
        return _reverse_cumsum(xp, g * out, axis) / x
    g, x = g.swapaxes(axis, -1), x.swapaxes(axis, -1)
    tails = [g[..., -1]]
    for i in range(x.shape[-1] - 2, -1, -1):
        tails.append(g[..., i] + x[..., i + 1] * tails[-1])
    return (exclusive_cumprod(xp, x) * xp.stack(tails[::-1], -1)).swapaxes(axis, -1)


CUMSUM = Primitive(
    "cumsum",
    lambda x, axis: np.cumsum(x, axis=axis),
    vjps=(lambda xp, g, out, x, axis: _reverse_cumsum(xp, g, axis),),
    saves=(),
    doc="running sum along axis;  dx_i = sum of g_k over k >= i",
)
CUMPROD = Primitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    vjps=(_cumprod_vjp,),
    saves=(0, "out"),
    doc="running product along axis;  dx_i = sum over k >= i of g_k out_k / x_i (exact at 0)",
)


def _along(x: Any, axis: Any, dim: Any, name: str) -> tuple[Any, int]:
    """``x`` and the axis to run along (``x`` flattened when the axis is None)."""
    axis = torch_name(name, axis, dim)
    if axis is None:
        return flatten(x), 0
    return x, check_axis(axis, np.ndim(unwrap(x)))


@op(CUMSUM, RESHAPE)
def cumsum(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running sum along ``axis`` (of the flattened values when None), as ``np.cumsum``."""
    x, axis = _along(x, axis, dim, "cumsum")
    return apply_unary(CUMSUM, x, {"axis": axis})


@op(CUMPROD, RESHAPE)
def cumprod(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running product along ``axis`` (of the flattened values when None), as
    ``np.cumprod``; the gradient is exact where elements are 0."""
    x, axis = _along(x, axis, dim, "cumprod")
    return apply_unary(CUMPROD, x, {"axis": axis})


@op(GETITEM)
def cummax(x: Any, axis: int | None = None, *, dim: int | None = None) -> ValuesIndices:
    """Running maximum along ``axis`` and the index it comes from, as PyTorch's
    ``cummax`` (ties and NaN: the later index); the gradient goes to that element."""
    return _running_extremum(np.maximum, x, axis, dim, "cummax")


@op(GETITEM)
def cummin(x: Any, axis: int | None = None, *, dim: int | None = None) -> ValuesIndices:
    """Running minimum along ``axis`` and the index it comes from, as PyTorch's
    ``cummin`` (ties and NaN: the later index); the gradient goes to that element."""
    return _running_extremum(np.minimum, x, axis, dim, "cummin")


def _running_extremum(ufunc: Any, x: Any, axis: Any, dim: Any, name: str) -> ValuesIndices:
    x, axis = _along(x, axis, dim, name)
    data = np.asarray(unwrap(x))
    indices = apply(constant_primitive(_running_indices), (data,), {"ufunc": ufunc, "axis": axis})
    return ValuesIndices(take_along_axis(x, indices, axis), indices)


def _running_indices(data: np.ndarray, ufunc: Any, axis: int) -> np.ndarray:
    """Where the running extremum of ``data`` along ``axis`` comes from (ties and NaN: the
    later index)."""
    running = ufunc.accumulate(data, axis=axis)  # NaN, once reached, stays
    reached = (data == running) | (data != data)  # the extremum so far, or a NaN
    position = np.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    return np.maximum.accumulate(np.where(reached, position, 0), axis=axis)
