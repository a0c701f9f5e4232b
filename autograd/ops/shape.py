"""Shape primitives: forward (numpy) and VJP side by side.

Their VJPs only move gradient entries around: reshape back, transpose back,
slice the concatenation apart, scatter-add into the indexed positions, flip or roll
back. ``split tile repeat take_along_axis permute`` are compositions of them.
PyTorch's spellings: ``view`` (= ``reshape``), ``unsqueeze`` (= ``expand_dims``),
``cat`` (= ``concatenate``), ``dim=`` for ``axis=``, ``flatten(start_dim, end_dim)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply, apply_binary, apply_unary, unchanged
from ..tensor import Tensor, unwrap
from .axes import check_axis, normalize_axis, torch_name


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


def _negated(shift: int | tuple[int, ...]) -> int | tuple[int, ...]:
    return tuple(-s for s in shift) if isinstance(shift, tuple) else -shift


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
FLIP = Primitive(
    "flip",
    np.flip,
    vjps=(lambda xp, g, out, x, axis: xp.flip(g, axis),),
    saves=(),
    doc="reverse the order along axis;  the gradient is reversed back",
)
ROLL = Primitive(
    "roll",
    np.roll,
    vjps=(lambda xp, g, out, x, shift, axis: xp.roll(g, _negated(shift), axis),),
    saves=(),
    doc="shift cyclically along axis;  the gradient is shifted back",
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


@op(RESHAPE, method=_shape_method, aliases=("view",))
def reshape(x: Any, shape: Any) -> Tensor:
    """Same values in a new ``shape`` (one entry may be -1); as a method also
    ``x.reshape(2, 3)``. ``view`` is PyTorch's name for it (always allowed here:
    numpy reshapes any layout)."""
    return apply_unary(RESHAPE, x, {"shape": _shape_tuple(shape)})


@op(RESHAPE, aliases=("ravel",))
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """The values as a 1-d tensor (row-major order), as ``ndarray.flatten`` and
    ``np.ravel``; PyTorch's ``x.flatten(start_dim, end_dim)`` joins only the axes
    ``start_dim`` to ``end_dim`` (``x.flatten(1)`` keeps the batch axis)."""
    if start_dim == 0 and end_dim == -1:
        return reshape(x, (-1,))
    shape = np.shape(unwrap(x))
    start, end = check_axis(start_dim, len(shape)), check_axis(end_dim, len(shape))
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}"
        )
    joined = int(np.prod(shape[start : end + 1], dtype=np.int64))
    return reshape(x, shape[:start] + (joined,) + shape[end + 1 :])


@op(EXPAND_DIMS, aliases=("unsqueeze",))
def expand_dims(x: Any, axis: int | tuple[int, ...] | None = None, *, dim: Any = None) -> Tensor:
    """Insert length-1 axes at the positions ``axis`` of the result; ``unsqueeze(x, dim)``
    is PyTorch's name for it."""
    if dim is not None:
        axis = torch_name("expand_dims", axis, dim)
    if axis is None:
        raise TypeError("expand_dims: give the position of the new axis (axis= or dim=)")
    return apply_unary(EXPAND_DIMS, x, {"axis": axis})


@op(SQUEEZE)
def squeeze(x: Any, axis: int | tuple[int, ...] | None = None, *, dim: Any = None) -> Tensor:
    """Remove the length-1 axes ``axis`` (all of them when None); naming an axis of
    another length raises, as numpy. With PyTorch's ``dim=``, PyTorch's rule: axes
    of another length are left as they are."""
    if dim is not None:
        axis = torch_name("squeeze", axis, dim)
        shape = np.shape(unwrap(x))
        axis = tuple(a for a in normalize_axis(axis, len(shape)) if shape[a] == 1)
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
            swap = " (to swap two axes, as PyTorch's transpose, use x.swapaxes(i, j))"
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {ndim} axes of a "
                f"tensor of shape {np.shape(unwrap(x))}{swap * (len(axes) == 2)}"
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


@op(CONCATENATE, method=False, aliases=("cat",))
def concatenate(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing ``axis``; ``cat(tensors, dim)`` is PyTorch's name."""
    if dim is not None:
        axis = torch_name("concatenate", axis, dim, 0)
    return apply(CONCATENATE, tuple(tensors), {"axis": _join_axis(tensors, axis, 0, "concatenate")})


@op(STACK, method=False)
def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    if dim is not None:
        axis = torch_name("stack", axis, dim, 0)
    return apply(STACK, tuple(tensors), {"axis": _join_axis(tensors, axis, 1, "stack")})


@op(FLIP)
def flip(x: Any, axis: Any = None, *, dims: Any = None) -> Tensor:
    """Reverse the order of the elements along ``axis`` (every axis when None), as
    ``np.flip``; ``dims=`` is PyTorch's name for ``axis``."""
    axis = torch_name("flip", axis, dims)
    axis = normalize_axis(axis, _ndim(x))
    return apply_unary(FLIP, x, {"axis": axis})


@op(ROLL)
def roll(
    x: Any, shift: Any = None, axis: Any = None, *, shifts: Any = None, dims: Any = None
) -> Tensor:
    """Shift the elements cyclically by ``shift`` along ``axis`` (of the flattened values
    when None), as ``np.roll``; ``shift`` and ``axis`` may be tuples of equal length.
    ``shifts=``/``dims=`` are PyTorch's names."""
    shift = torch_name("roll", shift, shifts)
    axis = torch_name("roll", axis, dims)
    if shift is None:
        raise TypeError("roll: give the shift (shift= or shifts=)")
    if isinstance(axis, Sequence):
        axis = tuple(check_axis(a, _ndim(x)) for a in axis)
    elif axis is not None:
        axis = check_axis(axis, _ndim(x))
    shift = tuple(int(s) for s in shift) if isinstance(shift, Sequence) else int(shift)
    return apply_unary(ROLL, x, {"shift": shift, "axis": axis})


@op(GETITEM)
def split(
    x: Any, indices_or_sections: Any, axis: int = 0, *, dim: int | None = None
) -> list[Tensor]:
    """Split into pieces along ``axis``, as ``np.split``: ``indices_or_sections`` is an
    int N (N equal pieces; ``ValueError`` if the length does not divide) or the list
    of split points. With PyTorch's ``dim=``, PyTorch's meaning: an int is the length
    of each piece (the last may be shorter), a list the lengths of the pieces."""
    torch_style = dim is not None
    axis = torch_name("split", axis, dim, 0)
    shape = np.shape(unwrap(x))
    axis = check_axis(axis, len(shape))
    bounds = (_piece_bounds if torch_style else _section_bounds)(
        indices_or_sections, shape[axis], axis
    )
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _section_bounds(sections: Any, length: int, axis: int) -> list[int]:
    """numpy's split points: N equal sections, or the given points."""
    if not isinstance(sections, (int, np.integer)):
        return [0, *(int(i) for i in sections), length]
    if sections <= 0:
        raise ValueError(f"split: the number of sections must be positive, got {sections}")
    if length % sections:
        raise ValueError(
            f"split: array split does not result in an equal division: axis {axis} has "
            f"length {length}, which {sections} sections do not divide"
        )
    return [i * (length // sections) for i in range(sections + 1)]


def _piece_bounds(sizes: Any, length: int, axis: int) -> list[int]:
    """PyTorch's split points: pieces of one length, or of the given lengths."""
    if isinstance(sizes, (int, np.integer)):
        if sizes <= 0:
            raise ValueError(f"split: the piece length must be positive, got {sizes}")
        return [*range(0, length, int(sizes)), length] if length else [0, 0]
    sizes = [int(n) for n in sizes]
    if sum(sizes) != length or any(n < 0 for n in sizes):
        raise ValueError(
            f"split: piece lengths {sizes} must be non-negative and add up to {length}, "
            f"the length of axis {axis}"
        )
    return [0, *np.cumsum(sizes).tolist()]


@op(RESHAPE, BROADCAST_TO)
def tile(x: Any, reps: Any) -> Tensor:
    """``x`` repeated ``reps[i]`` times along each axis, as ``np.tile`` (and PyTorch's
    ``tile``); the gradient sums the copies."""
    reps = _shape_tuple(reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    shape = np.shape(unwrap(x))
    ndim = len(reps) if len(reps) > len(shape) else len(shape)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - len(shape)) + shape
    spaced = reshape(x, [m for n in shape for m in (1, n)])  # a length-1 axis before each
    copies = broadcast_to(spaced, [m for r, n in zip(reps, shape) for m in (r, n)])
    return reshape(copies, tuple(r * n for r, n in zip(reps, shape)))


@op(RESHAPE, BROADCAST_TO, GETITEM)
def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened values
    when None), as ``np.repeat`` (PyTorch's ``repeat_interleave``; PyTorch's ``repeat``
    is ``tile``). ``repeats`` is an int or one count per element along ``axis``."""
    if axis is None:
        x, axis = flatten(x), 0
    shape = np.shape(unwrap(x))
    axis = check_axis(axis, len(shape))
    counts = np.asarray(unwrap(repeats))
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be ints, got dtype {counts.dtype}")
    if (counts < 0).any():
        raise ValueError(f"repeat: repeats must be non-negative, got {counts}")
    if counts.ndim == 0:  # every element the same number of times: a broadcast
        r = int(counts)
        copies = broadcast_to(
            expand_dims(x, axis + 1), shape[: axis + 1] + (r,) + shape[axis + 1 :]
        )
        return reshape(copies, shape[:axis] + (shape[axis] * r,) + shape[axis + 1 :])
    try:
        positions = np.repeat(np.arange(shape[axis]), counts)
    except ValueError as exc:
        raise ValueError(
            f"repeat: {counts.size} counts for axis {axis} of length {shape[axis]}: {exc}"
        ) from exc
    return getitem(x, (slice(None),) * axis + (positions,))


@op(GETITEM)
def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """``x``'s elements at ``indices`` along ``axis``, as ``np.take_along_axis``
    (PyTorch's ``gather``): ``indices`` has ``x``'s number of axes; with ``axis=None``
    it indexes the flattened values. Repeated indices accumulate their gradients."""
    index = np.asarray(unwrap(indices))
    if index.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be ints, got dtype {index.dtype}")
    if axis is None:
        x, axis = flatten(x), 0
    shape = np.shape(unwrap(x))
    if index.ndim != len(shape):
        raise ValueError(
            f"take_along_axis: indices of shape {index.shape} and x of shape {shape} must "
            f"have the same number of axes"
        )
    axis = check_axis(axis, len(shape))
    fancy = tuple(
        index if i == axis else np.arange(n).reshape((1,) * i + (n,) + (1,) * (len(shape) - i - 1))
        for i, n in enumerate(shape)
    )
    return getitem(x, fancy)


@op(TRANSPOSE)
def permute(x: Any, *axes: Any) -> Tensor:
    """The axes in the order ``axes``, every axis named: PyTorch's ``x.permute(2, 0, 1)``
    (also ``x.permute((2, 0, 1))``), numpy's ``transpose(x, axes)``."""
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = tuple(axes[0])
    return transpose(x, axes)
