"""Shape primitives: forward (numpy) and VJP side by side.

Their VJPs only move gradient entries around: reshape back, transpose back,
slice the concatenation apart, scatter-add into the indexed positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..graph import unchanged
from ..primitive import Primitive, apply
from ..tensor import Tensor, unwrap, unwrap_index
from .reduce import normalize_axis


def _reshape_back(xp: Any, g: Any, out: Any, x: Any, **params: Any) -> Any:
    return g.reshape(x.shape)


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


def _ndim(x: Any) -> int:
    return np.ndim(unwrap(x))


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def reshape(x: Any, shape: Any) -> Tensor:
    """Same values in a new ``shape`` (one entry may be -1)."""
    return apply(RESHAPE, (x,), {"shape": _shape_tuple(shape)})


def flatten(x: Any) -> Tensor:
    """The values as a 1-d tensor (row-major order)."""
    return reshape(x, (-1,))


def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Tensor:
    """Insert length-1 axes at the positions ``axis`` of the result."""
    return apply(EXPAND_DIMS, (x,), {"axis": axis})


def squeeze(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove the length-1 axes ``axis`` (all of them when None)."""
    return apply(SQUEEZE, (x,), {"axis": axis})


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), as ``np.transpose``."""
    if axes is not None:
        axes = tuple(int(a) % max(_ndim(x), 1) for a in axes)
    return apply(TRANSPOSE, (x,), {"axes": axes})


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Interchange two axes, as ``np.swapaxes``."""
    axes = list(range(_ndim(x)))
    axis1, axis2 = normalize_axis(axis1, len(axes))[0], normalize_axis(axis2, len(axes))[0]
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """Broadcast ``x`` to ``shape``; the gradient is summed back over the new axes."""
    return apply(BROADCAST_TO, (x,), {"shape": _shape_tuple(shape)})


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: basic slices, integer arrays and boolean masks, as numpy."""
    return apply(GETITEM, (x,), {"index": unwrap_index(index)})


def scatter_add(x: Any, index: Any, shape: Any) -> Tensor:
    """Zeros of ``shape`` with ``x`` added at ``index``; repeated indices accumulate."""
    return apply(SCATTER_ADD, (x,), {"index": index, "shape": _shape_tuple(shape)})


def _join_axis(tensors: Sequence[Any], axis: int, extra: int, op: str) -> int:
    if len(tensors) == 0:
        raise ValueError(f"{op}: need at least one tensor")
    return normalize_axis(axis, _ndim(tensors[0]) + extra)[0]


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``."""
    return apply(CONCATENATE, tuple(tensors), {"axis": _join_axis(tensors, axis, 0, "concatenate")})


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    return apply(STACK, tuple(tensors), {"axis": _join_axis(tensors, axis, 1, "stack")})
