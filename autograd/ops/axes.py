"""Axis arguments, read once for every op: numpy's ``axis`` and PyTorch's ``dim``.

Negative axes count from the end; an axis out of range raises numpy's ``AxisError``
(a ``ValueError`` and an ``IndexError``, so numpy's and PyTorch's habits both catch
it) and never wraps around. PyTorch's keyword ``dim=`` (and ``keepdim=``) names the
same thing as numpy's ``axis=`` (``keepdims=``): :func:`torch_keywords` reads them
(:func:`torch_name` any other argument PyTorch names differently).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Axis


def check_axis(axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative int below ``ndim``; negative axes count from the end.

    Out of range raises numpy's ``AxisError``; axes never wrap around.
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


def torch_name(name: str, value: Any, torch_value: Any, default: Any = None) -> Any:
    """One argument given by numpy's name (``value``) or PyTorch's (``torch_value``:
    ``dim=``, ``dims=``, ``shifts=``, ``min=``, ``diagonal=``), None when not given.

    ``default`` is the op's default for ``value``; a ``value`` other than it together
    with ``torch_value`` is ambiguous and raises ``TypeError``.
    """
    if torch_value is None:
        return value
    if value != default:
        raise TypeError(
            f"{name}: got {value!r} and {torch_value!r} for one argument (by its numpy name "
            f"and its PyTorch name); give one"
        )
    return torch_value


def torch_keywords(
    name: str, axis: Any, keepdims: Any, dim: Any, keepdim: Any, default: Any = None
) -> tuple[Any, Any]:
    """``(axis, keepdims)`` from numpy's keywords or PyTorch's ``dim=``/``keepdim=``
    (``axis`` and ``dim`` as :func:`torch_name` reads them)."""
    return torch_name(name, axis, dim, default), keepdims if keepdim is None else keepdim
