"""Reductions: forward (numpy) and VJP side by side.

Every reduction's VJP first gives the incoming gradient back the reduced axes as
length-1 axes (:func:`keepdims_shape`), so it broadcasts against the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_unary
from ..tensor import Axis, Tensor, unwrap
from .elementwise import constant_primitive


def check_axis(axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative int below ``ndim``; negative axes count from the end.

    Out of range raises numpy's ``AxisError`` (a ``ValueError`` and an ``IndexError``,
    so numpy's and PyTorch's habits both catch it); axes never wrap around.
    """
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"an axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim)
    return int(axis) % ndim


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if ndim == 0 and all(a in (0, -1) for a in axes):
        return ()  # numpy accepts axis 0 or -1 on a 0-d array: it reduces nothing
    normalized = tuple(sorted(check_axis(a, ndim) for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"repeated axis in {axis}")
    return normalized


def keepdims_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """``shape`` with the reduced ``axis`` kept as length 1."""
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """The reduced gradient (or output) reshaped to broadcast against ``x``."""
    return g if keepdims else g.reshape(keepdims_shape(x.shape, axis))


def _count(x: Any, axis: Axis) -> int:
    return int(np.prod([x.shape[a] for a in normalize_axis(axis, x.ndim)], dtype=np.int64))


def _share_among_extrema(xp: Any, g: Any, out: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """d max/dx: g to the elements equal to the extremum, split equally among ties.

    A NaN element makes the extremum NaN and takes its gradient (as PyTorch)."""
    extremum = _unreduce(out, x, axis, keepdims)
    hit = (x == extremum) | ((extremum != extremum) & (x != x))
    share = _unreduce(g, x, axis, keepdims) / hit.sum(axis=axis, keepdims=True)
    return xp.where(hit, share, 0)


def _logsumexp(x: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """``log(sum(exp(x)))`` shifted by the max, so no term overflows."""
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return total if keepdims else np.squeeze(total, axis=axis)


SUM = Primitive(
    "sum",
    lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    vjps=(
        lambda xp, g, out, x, axis, keepdims: xp.broadcast_to(
            _unreduce(g, x, axis, keepdims), x.shape
        ),
    ),
    saves=(),
    doc="sum over axis;  d/dx_i = 1",
)
MEAN = Primitive(
    "mean",
    lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    vjps=(
        lambda xp, g, out, x, axis, keepdims: xp.broadcast_to(
            _unreduce(g, x, axis, keepdims) / _count(x, axis), x.shape
        ),
    ),
    saves=(),
    doc="mean over axis;  d/dx_i = 1/n",
)
MAX = Primitive(
    "max",
    lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    vjps=(_share_among_extrema,),
    saves=(0, "out"),
    doc="max over axis;  d/dx_i = [x_i = max] / (number of maxima)",
)
MIN = Primitive(
    "min",
    lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    vjps=(_share_among_extrema,),
    saves=(0, "out"),
    doc="min over axis;  d/dx_i = [x_i = min] / (number of minima)",
)
LOGSUMEXP = Primitive(
    "logsumexp",
    _logsumexp,
    vjps=(
        lambda xp, g, out, x, axis, keepdims: (
            _unreduce(g, x, axis, keepdims) * xp.exp(x - _unreduce(out, x, axis, keepdims))
        ),
    ),
    saves=(0, "out"),
    doc="log sum exp x over axis;  d/dx_i = softmax(x)_i",
)


def _reduce(prim: Primitive, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    if axis is not None:
        axis = normalize_axis(axis, np.ndim(unwrap(x)))
    return apply_unary(prim, x, {"axis": axis, "keepdims": bool(keepdims)})


@op(SUM)
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all axes)."""
    return _reduce(SUM, x, axis, keepdims)


@op(MEAN)
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``."""
    return _reduce(MEAN, x, axis, keepdims)


@op(MAX)
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return _reduce(MAX, x, axis, keepdims)


@op(MIN)
def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient equally."""
    return _reduce(MIN, x, axis, keepdims)


@op(LOGSUMEXP)
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x), axis))`` computed stably (finite for inputs near +-1000)."""
    return _reduce(LOGSUMEXP, x, axis, keepdims)


def _index_of(find: Any, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    data = unwrap(x)
    axis = None if axis is None else check_axis(axis, np.ndim(data))
    return apply(constant_primitive(find), (data,), {"axis": axis, "keepdims": keepdims})


@op()
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the maxima along ``axis`` (of the flattened values when None); an int
    tensor, not differentiable."""
    return _index_of(np.argmax, x, axis, keepdims)


@op()
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened values when None); an int
    tensor, not differentiable."""
    return _index_of(np.argmin, x, axis, keepdims)
