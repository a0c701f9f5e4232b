"""Reductions: forward (numpy) and VJP side by side.

Every reduction's VJP first gives the incoming gradient back the reduced axes as
length-1 axes (:func:`keepdims_shape`), so it broadcasts against the input.

PyTorch's keywords ``dim=``/``keepdim=`` are accepted for ``axis=``/``keepdims=``,
and with ``dim=`` a reduction means what it means in PyTorch: ``x.max(dim=1)`` and
``x.min(dim=1)`` return ``(values, indices)`` and send the gradient to that one index;
``var``/``std`` default to the unbiased estimate. With numpy's ``axis=`` every
reduction is numpy's.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_unary
from ..tensor import Axis, Tensor, unwrap
from . import elementwise
from .axes import check_axis, keepdims_shape, normalize_axis, torch_keywords, torch_name
from .elementwise import constant_primitive
from .shape import GETITEM, squeeze, take_along_axis


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``x.max(dim=d)`` and ``x.cummax(d)`` return."""

    values: Tensor
    indices: Tensor


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


def _inverse_divisor(x: Any, axis: Axis, ddof: float) -> float:
    """``1 / (n - ddof)``; numpy divides by ``max(n - ddof, 0)``, so inf past it."""
    divisor = _count(x, axis) - ddof
    return 1 / divisor if divisor > 0 else math.inf


def _centred(x: Any, axis: Axis) -> Any:
    return x - x.mean(axis=axis, keepdims=True)


def _var_vjp(xp: Any, g: Any, out: Any, x: Any, axis: Axis, ddof: float, keepdims: bool) -> Any:
    """d var/dx_i = 2 (x_i - mean) / (n - ddof)."""
    scale = 2 * _inverse_divisor(x, axis, ddof)
    return _unreduce(g, x, axis, keepdims) * _centred(x, axis) * scale


def _std_vjp(xp: Any, g: Any, out: Any, x: Any, axis: Axis, ddof: float, keepdims: bool) -> Any:
    """d std/dx_i = (x_i - mean) / ((n - ddof) std); 0 where std is 0 (as PyTorch)."""
    std = _unreduce(out, x, axis, keepdims)
    zero = std == 0
    g = _unreduce(g, x, axis, keepdims) * _inverse_divisor(x, axis, ddof)
    return _centred(x, axis) * xp.where(zero, 0, g / xp.where(zero, 1, std))


def _prod_vjp(xp: Any, g: Any, out: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """d prod/dx_i = the product of the other elements: ``prod / x_i`` without zeros,
    else products taken on each side of ``i`` (exact, and differentiable again)."""
    g = _unreduce(g, x, axis, keepdims)
    if not (x == 0).any():
        return g * _unreduce(out, x, axis, keepdims) / x
    return g * _product_of_others(xp, x, axis)


def _product_of_others(xp: Any, x: Any, axis: Axis) -> Any:
    """For every element, the product of the others over the reduced axes, without a
    division: (product of those before it) * (product of those after it)."""
    reduced = normalize_axis(axis, x.ndim)
    order = [a for a in range(x.ndim) if a not in reduced] + list(reduced)
    moved = xp.transpose(x, order)
    rows = moved.reshape(moved.shape[: x.ndim - len(reduced)] + (-1,))
    before = exclusive_cumprod(xp, rows)
    after = xp.flip(exclusive_cumprod(xp, xp.flip(rows, -1)), -1)
    return xp.transpose((before * after).reshape(moved.shape), tuple(np.argsort(order)))


def exclusive_cumprod(xp: Any, rows: Any) -> Any:
    """``[1, r_0, r_0 r_1, ...]``: the product of the elements before each, along the last axis."""
    ones = np.ones(rows.shape[:-1] + (1,), dtype=rows.dtype)
    return xp.concatenate([ones, xp.cumprod(rows[..., :-1], -1)], -1)


def _p_norm(x: np.ndarray, p: float, axis: Axis, keepdims: bool) -> np.ndarray:
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _p_norm_vjp(xp: Any, g: Any, out: Any, x: Any, p: float, axis: Axis, keepdims: bool) -> Any:
    """d|x|_p/dx = sign(x) |x|^(p-1) / |x|_p^(p-1) (x / |x|_2 for p = 2); 0 where the
    norm is 0 (PyTorch's subgradient)."""
    norm = _unreduce(out, x, axis, keepdims)
    zero = norm == 0
    safe = xp.where(zero, 1, norm)
    scale = xp.where(
        zero, 0, _unreduce(g, x, axis, keepdims) / (safe if p == 2 else safe ** (p - 1))
    )
    return x * scale if p == 2 else xp.sign(x) * abs(x) ** (p - 1) * scale


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
VAR = Primitive(
    "var",
    lambda x, axis, ddof, keepdims: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
    vjps=(_var_vjp,),
    saves=(0,),
    doc="sum (x - mean)^2 / (n - ddof) over axis;  d/dx_i = 2 (x_i - mean) / (n - ddof)",
)
STD = Primitive(
    "std",
    lambda x, axis, ddof, keepdims: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
    vjps=(_std_vjp,),
    saves=(0, "out"),
    doc="sqrt(var);  d/dx_i = (x_i - mean) / ((n - ddof) std), 0 where std is 0",
)
PROD = Primitive(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    vjps=(_prod_vjp,),
    saves=(0, "out"),
    doc="product over axis;  d/dx_i = product of the others (exact with zeros)",
)
NORM = Primitive(
    "norm",
    _p_norm,
    vjps=(_p_norm_vjp,),
    saves=(0, "out"),
    doc="(sum |x|^p)^(1/p) over axis;  d/dx = sign(x) |x|^(p-1) / norm^(p-1), 0 at norm 0",
)


def _reduce(
    prim: Primitive,
    x: Any,
    axis: Axis,
    keepdims: bool,
    dim: Any = None,
    keepdim: Any = None,
    extra: dict[str, Any] | None = None,
) -> Tensor:
    """Apply the reduction ``prim`` over ``axis`` (or PyTorch's ``dim``), normalized;
    ``extra``: its other parameters (``ddof``, ``p``). Arguments by position: this runs
    for every reduction."""
    if dim is not None or keepdim is not None:
        axis, keepdims = torch_keywords(prim.name, axis, keepdims, dim, keepdim)
    if axis is not None:
        axis = normalize_axis(axis, np.ndim(unwrap(x)))
    params = {"axis": axis, "keepdims": bool(keepdims)}
    if extra is not None:
        params.update(extra)
    return apply_unary(prim, x, params)


@op(SUM)
def sum(  # noqa: A001
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for all axes)."""
    return _reduce(SUM, x, axis, keepdims, dim, keepdim)


@op(MEAN)
def mean(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Arithmetic mean over ``axis``."""
    return _reduce(MEAN, x, axis, keepdims, dim, keepdim)


@op(MAX, GETITEM)
def max(  # noqa: A001
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Any:
    """Maximum over ``axis``; tied maxima share the gradient equally.

    PyTorch's ``x.max(dim=d)`` returns ``(values, indices)`` (:class:`ValuesIndices`)
    with the index of the first maximum, which alone gets the gradient, as in PyTorch.
    """
    if dim is None and (axis is None or type(axis) is int):
        return _reduce(MAX, x, axis, keepdims, None, keepdim)
    return _extremum(MAX, np.argmax, x, axis, keepdims, dim, keepdim)


@op(MIN, GETITEM)
def min(  # noqa: A001
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Any:
    """Minimum over ``axis``; tied minima share the gradient equally.

    PyTorch's ``x.min(dim=d)`` returns ``(values, indices)`` (:class:`ValuesIndices`)
    with the index of the first minimum, which alone gets the gradient, as in PyTorch.
    """
    if dim is None and (axis is None or type(axis) is int):
        return _reduce(MIN, x, axis, keepdims, None, keepdim)
    return _extremum(MIN, np.argmin, x, axis, keepdims, dim, keepdim)


def _extremum(
    prim: Primitive, find: Any, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any
) -> Any:
    """numpy's ``max``/``min`` over ``axis``, or PyTorch's ``(values, indices)`` along ``dim``."""
    if isinstance(axis, (Tensor, np.ndarray)):
        raise TypeError(
            f"{prim.name}: axis must be an int, a tuple of ints or None, got an array; for the "
            f"elementwise {prim.name}imum of two tensors use ag.{prim.name}imum(a, b)"
        )
    if dim is None:
        return _reduce(prim, x, axis, keepdims, None, keepdim)
    torch_name(prim.name, axis, dim)  # refuses axis= and dim= together
    data = unwrap(x)
    dim = check_axis(dim, np.ndim(data))
    indices = apply(constant_primitive(find), (data,), {"axis": dim, "keepdims": True})
    values = take_along_axis(x, indices, dim)  # the first extremum, as PyTorch
    if not keepdim:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return ValuesIndices(values, indices)


@op(LOGSUMEXP)
def logsumexp(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """``log(sum(exp(x), axis))`` computed stably (finite for inputs near +-1000)."""
    return _reduce(LOGSUMEXP, x, axis, keepdims, dim, keepdim)


@op(VAR)
def var(
    x: Any,
    axis: Axis = None,
    ddof: float | None = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: Any = None,
    correction: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance ``sum((x - mean)^2) / (n - ddof)`` over ``axis``, as ``np.var``.

    ``ddof`` (also ``correction=``, numpy's and PyTorch's name) defaults to 0,
    numpy's population variance; with PyTorch's ``dim=`` it defaults to 1, PyTorch's
    unbiased estimate (``unbiased=False`` for 0).
    """
    ddof = _ddof(ddof, correction, unbiased, dim is not None)
    return _reduce(VAR, x, axis, keepdims, dim, keepdim, {"ddof": ddof})


def _ddof(ddof: Any, correction: Any, unbiased: Any, torch_style: bool) -> float:
    given = [v for v in (ddof, correction, unbiased) if v is not None]
    if len(given) > 1:
        raise TypeError("var/std: give one of ddof=, correction= and unbiased=")
    if not given:
        return 1 if torch_style else 0
    return int(unbiased) if unbiased is not None else given[0]


@op(STD)
def std(
    x: Any,
    axis: Axis = None,
    ddof: float | None = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: Any = None,
    correction: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation ``sqrt(var(x))``, as ``np.std``, with ``var``'s arguments and
    defaults; its gradient is 0 where the deviation is 0 (as in PyTorch)."""
    ddof = _ddof(ddof, correction, unbiased, dim is not None)
    return _reduce(STD, x, axis, keepdims, dim, keepdim, {"ddof": ddof})


@op(PROD)
def prod(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Product over ``axis``; the gradient is exact with zeros (one zero gets the product
    of the others, two or more make it zero everywhere)."""
    return _reduce(PROD, x, axis, keepdims, dim, keepdim)


@op(NORM, MAX, SUM, elementwise.ABS)
def norm(
    x: Any,
    ord: Any = None,  # noqa: A002 - numpy's name
    axis: Axis = None,
    keepdims: bool = False,
    *,
    p: Any = None,
    dim: Axis = None,
    keepdim: Any = None,
) -> Tensor:
    """The norm of ``x``, as ``np.linalg.norm``; its gradient is 0 where the norm is 0.

    ``axis`` None: the 2-norm of all values (``ord`` given: a vector or matrix norm of
    a 1-d or 2-d ``x``); an int: vector norms along it; two axes: matrix norms; more
    axes: the 2-norm over them. Vector ``ord``: None or 2, any ``p >= 1``, ``inf``,
    ``-inf``, 0 (the count of nonzeros, not differentiable). Matrix ``ord``: None or
    ``"fro"``, 1, -1, ``inf``, ``-inf`` (2, -2 and ``"nuc"`` need an SVD: not
    provided). PyTorch's ``norm(x, p, dim)`` is the vector ``p``-norm over ``dim``.
    """
    if dim is not None or keepdim is not None:
        axis, keepdims = torch_keywords("norm", axis, keepdims, dim, keepdim)
    if p is not None:
        if ord is not None:
            raise TypeError("norm: give ord= (numpy's name) or p= (PyTorch's), not both")
        return _vector_norm(x, 2 if p == "fro" else p, axis, keepdims)
    ndim = np.ndim(unwrap(x))
    if axis is None:
        if ord is None or ndim == 1:
            return _vector_norm(x, ord, None, keepdims)
        if ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError(f"norm: ord={ord!r} needs a 1-d or 2-d input or an axis, got {ndim} axes")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 2 and ord is not None:
        return _matrix_norm(x, ord, axes, keepdims)
    if len(axes) > 1 and ord is not None:
        raise ValueError(f"norm: ord={ord!r} over {len(axes)} axes; give one or two axes")
    return _vector_norm(x, ord, axes, keepdims)


def _vector_norm(x: Any, ord: Any, axis: Axis, keepdims: bool) -> Tensor:  # noqa: A002
    if ord is None:
        ord = 2
    if isinstance(ord, str) or not (ord >= 1 or ord in (0, -math.inf)):
        raise ValueError(f"norm: vector ord must be a number >= 1, inf, -inf or 0, got {ord!r}")
    if ord == math.inf:
        return max(elementwise.abs(x), axis, keepdims)
    if ord == -math.inf:
        return min(elementwise.abs(x), axis, keepdims)
    if ord == 0:
        data = np.asarray(unwrap(x))
        params = {"axis": None if axis is None else tuple(axis), "keepdims": keepdims}
        return apply(constant_primitive(_count_nonzero), (data,), params)
    return _reduce(NORM, x, axis, keepdims, extra={"p": ord})


def _count_nonzero(data: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """The number of nonzeros (the 0-"norm"), in ``data``'s float dtype (float64 else)."""
    count = np.sum(data != 0, axis=axis, keepdims=keepdims)
    return count.astype(data.dtype if data.dtype.kind == "f" else float)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Tensor:  # noqa: A002
    ndim = np.ndim(unwrap(x))
    rows, cols = (check_axis(a, ndim) for a in axes)
    if rows == cols:
        raise ValueError(f"norm: the two axes of a matrix norm must differ, got {axes}")
    if ord in (None, "fro"):
        return _reduce(NORM, x, (rows, cols), keepdims, extra={"p": 2})
    if ord in (1, -1):  # the largest (smallest) absolute column sum
        summed, across = sum(elementwise.abs(x), rows, keepdims=True), cols
    elif ord in (math.inf, -math.inf):  # the largest (smallest) absolute row sum
        summed, across = sum(elementwise.abs(x), cols, keepdims=True), rows
    else:
        raise ValueError(
            f"norm: matrix ord={ord!r} is not provided (2, -2 and 'nuc' need an SVD); "
            f"use None or 'fro', 1, -1, inf or -inf"
        )
    result = (max if ord > 0 else min)(summed, across, keepdims=True)
    return result if keepdims else squeeze(result, (rows, cols))


# ---------------------------------------------------------------- not differentiable
def _non_differentiable_reduction(
    find: Any, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any, many: bool
) -> Tensor:
    """numpy's ``find`` (``argmax``, ``any``...) over ``axis``: one axis, or ``many``."""
    axis, keepdims = torch_keywords(find.__name__, axis, keepdims, dim, keepdim)
    data = unwrap(x)
    if axis is not None:
        axis = normalize_axis(axis, np.ndim(data)) if many else check_axis(axis, np.ndim(data))
    return apply(constant_primitive(find), (data,), {"axis": axis, "keepdims": bool(keepdims)})


@op()
def argmax(
    x: Any, axis: int | None = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Indices of the maxima along ``axis`` (of the flattened values when None); an int
    tensor, not differentiable."""
    return _non_differentiable_reduction(np.argmax, x, axis, keepdims, dim, keepdim, False)


@op()
def argmin(
    x: Any, axis: int | None = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Indices of the minima along ``axis`` (of the flattened values when None); an int
    tensor, not differentiable."""
    return _non_differentiable_reduction(np.argmin, x, axis, keepdims, dim, keepdim, False)


@op()
def any(  # noqa: A001
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Whether any element along ``axis`` is true (nonzero); a bool tensor."""
    return _non_differentiable_reduction(np.any, x, axis, keepdims, dim, keepdim, True)


@op()
def all(  # noqa: A001
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Whether every element along ``axis`` is true (nonzero); a bool tensor."""
    return _non_differentiable_reduction(np.all, x, axis, keepdims, dim, keepdim, True)
