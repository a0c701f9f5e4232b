"""Shape primitives: forward (numpy) and VJP side by side.

Their VJPs only move gradient entries around: reshape back, transpose back,
slice the concatenation apart, scatter-add into the indexed positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_binary, apply_unary, unchanged
from ..tensor import Tensor, unwrap
from .reduce import check_axis


def _reshape_back(xp: Any, g: Any, out: Any, x: Any, **params: Any) -> Any:
    return g.reshape(x.shape)


def normalize_index(index: Any) -> Any:
    """An index as numpy reads it, in one form: Tensors become their arrays, and lists
    (and tuples inside a tuple index) become arrays, so an integer array is always an
    ndarray (whose repeated entries :func:`scatter_add_numpy` accumulates)."""
    if isinstance(index, tuple):
        return tuple(_index_part(part) for part in index)
    return _index_part(index)


def _index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        return part.data
    if isinstance(part, (list, tuple)):
        return np.asarray([unwrap(p) for p in part] if isinstance(part, list) else part)
    return part


def _is_basic_index(index: Any) -> bool:
    """True if ``index`` selects each element at most once (no integer arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def scatter_add_numpy(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index``; repeated indices accumulate."""
    result = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


def _inverse_axes(axes: tuple[int, ...] | None) -> tuple[int, ...] | None:
    return None if axes is None else tuple(np.argsort(axes))


def _split_along(xp: Any, g: Any, out: Any, *xs: Any, axis: int) -> tuple[Any, ...]:
    bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
    lead = (slice(None),) * axis
    return tuple(g[lead + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:]))


def _unstack(xp: Any, g: Any, out: Any, *xs: Any, axis: int) -> tuple[Any, ...]:
    lead = (slice(None),) * axis
    return tuple(g[lead + (i,)] for i in range(len(xs)))


RESHAPE = Primitive(
    "reshape",
    np.reshape,
    vjps=(_reshape_back,),
    saves=(),
    doc="same values, new shape;  the gradient is reshaped back",
)
EXPAND_DIMS = Primitive(
    "expand_dims",
    np.expand_dims,
    vjps=(_reshape_back,),
    saves=(),
    doc="insert length-1 axes;  the gradient is reshaped back",
)
SQUEEZE = Primitive(
    "squeeze",
    np.squeeze,
    vjps=(_reshape_back,),
    saves=(),
    doc="drop length-1 axes;  the gradient is reshaped back",
)
TRANSPOSE = Primitive(
    "transpose",
    np.transpose,
    vjps=(lambda xp, g, out, x, axes: xp.transpose(g, _inverse_axes(axes)),),
    saves=(),
    doc="permute axes;  the gradient is permuted back by the inverse permutation",
)
BROADCAST_TO = Primitive(
    "broadcast_to",
    np.broadcast_to,
    vjps=(unchanged,),
    saves=(),
    doc="broadcast;  the engine sums the gradient over the broadcast axes",
)
GETITEM = Primitive(
    "getitem",
    lambda x, index: x[index],
    vjps=(lambda xp, g, out, x, index: xp.scatter_add(g, index, x.shape),),
    saves=(),
    doc="x[index];  the gradient is scatter-added into zeros (repeats accumulate)",
)
SCATTER_ADD = Primitive(
    "scatter_add",
    scatter_add_numpy,
    vjps=(lambda xp, g, out, x, index, shape: g[index],),
    saves=(),
    doc="zeros(shape) with x added at index;  d/dx = gather the gradient at index",
)
CONCATENATE = Primitive(
    "concatenate",
    lambda *xs, axis: np.concatenate(xs, axis=axis),
    vjp=_split_along,
    saves=(),
    doc="join along axis;  the gradient is split at the same bounds",
)
STACK = Primitive(
    "stack",
    lambda *xs, axis: np.stack(xs, axis=axis),
    vjp=_unstack,
    saves=(),
    doc="join along a new axis;  input i gets the gradient's slice i",
)


def _put(x: np.ndarray, value: Any, index: Any) -> np.ndarray:
    out = x.copy()
    out[index] = value
    return out


def _unwritten(shape: tuple[int, ...], index: Any, dtype: np.dtype) -> np.ndarray:
    """Ones of ``shape`` with zeros where ``index`` writes: what of ``x`` survives a put."""
    mask = np.ones(shape, dtype=dtype)
    mask[index] = 0
    return mask


SETITEM = Primitive(
    "setitem",
    _put,
    vjps=(
        lambda xp, g, out, x, value, index: g * _unwritten(x.shape, index, g.dtype),
        lambda xp, g, out, x, value, index: g[index],
    ),
    saves=(),
    doc="x with x[index] = value;  dx = g, 0 where written; dvalue = g[index]",
)


def _ndim(x: Any) -> int:
    return np.ndim(unwrap(x))


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def _shape_method(x: Any, *shape: Any) -> Tensor:
    return reshape(x, shape[0] if len(shape) == 1 else shape)


@op(RESHAPE, method=_shape_method)
def reshape(x: Any, shape: Any) -> Tensor:
    """Same values in a new ``shape`` (one entry may be -1); as a method also
    ``x.reshape(2, 3)``."""
    return apply_unary(RESHAPE, x, {"shape": _shape_tuple(shape)})


@op(RESHAPE)
def flatten(x: Any) -> Tensor:
    """The values as a 1-d tensor (row-major order)."""
    return reshape(x, (-1,))


@op(EXPAND_DIMS)
def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Tensor:
    """Insert length-1 axes at the positions ``axis`` of the result."""
    return apply_unary(EXPAND_DIMS, x, {"axis": axis})


@op(SQUEEZE)
def squeeze(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove the length-1 axes ``axis`` (all of them when None)."""
    return apply_unary(SQUEEZE, x, {"axis": axis})


def _axes_method(x: Any, *axes: Any) -> Tensor:
    return transpose(x, (axes[0] if len(axes) == 1 else axes) or None)


@op(TRANSPOSE, method=_axes_method, properties=("T",))
def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), as ``np.transpose``;
    as a method also ``x.transpose(1, 0)``, and ``x.T`` reverses all axes."""
    if axes is not None:
        ndim = _ndim(x)
        axes = tuple(check_axis(a, ndim) for a in axes)
        if sorted(axes) != list(range(ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {ndim} axes of a "
                f"tensor of shape {np.shape(unwrap(x))}"
            )
    return apply_unary(TRANSPOSE, x, {"axes": axes})


@op(TRANSPOSE)
def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Interchange two axes, as ``np.swapaxes``."""
    axes = list(range(_ndim(x)))
    axis1, axis2 = check_axis(axis1, len(axes)), check_axis(axis2, len(axes))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@op(BROADCAST_TO)
def broadcast_to(x: Any, shape: Any) -> Tensor:
    """Broadcast ``x`` to ``shape``; the gradient is summed back over the new axes."""
    return apply_unary(BROADCAST_TO, x, {"shape": _shape_tuple(shape)})


@op(GETITEM, operators=("__getitem__",), method=False)
def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: basic slices, integer arrays and boolean masks, as numpy; repeated
    integer indices accumulate their gradients."""
    return apply_unary(GETITEM, x, {"index": normalize_index(index)})


@op(SCATTER_ADD, method=False)
def scatter_add(x: Any, index: Any, shape: Any) -> Tensor:
    """Zeros of ``shape`` with ``x`` added at ``index``; repeated indices accumulate."""
    return apply_unary(
        SCATTER_ADD, x, {"index": normalize_index(index), "shape": _shape_tuple(shape)}
    )


def put(x: Any, index: Any, value: Any) -> Tensor:
    """``x`` with ``x[index] = value`` as a new tensor (the recorded form of ``x[i] = v``)."""
    return apply_binary(SETITEM, x, value, {"index": normalize_index(index)})


def _join_axis(tensors: Sequence[Any], axis: int, extra: int, op_name: str) -> int:
    if len(tensors) == 0:
        raise ValueError(f"{op_name}: need at least one tensor")
    return check_axis(axis, _ndim(tensors[0]) + extra)


@op(CONCATENATE, method=False)
def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``."""
    return apply(CONCATENATE, tuple(tensors), {"axis": _join_axis(tensors, axis, 0, "concatenate")})


@op(STACK, method=False)
def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    return apply(STACK, tuple(tensors), {"axis": _join_axis(tensors, axis, 1, "stack")})
