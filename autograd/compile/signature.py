"""Call signatures: what must match for a traced program to replay a call.

A signature is the call's grad mode and, per argument, the part :func:`argument_key`
gives: a Tensor's data type, shape, dtype and ``requires_grad``; an ndarray's shape and
dtype; a numpy scalar's type; a Python number's or string's type and value; a list's,
tuple's or dict's structure and items; any other object itself (or, unhashable, its
identity).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..mode import state
from ..tensor import Tensor

ndarray = np.ndarray

#: Python values that are part of a signature by value.
SCALARS = (bool, int, float, complex, str, bytes, type(None))


def argument_key(value: Any) -> tuple[Any, ...]:
    """The part of a call signature one argument contributes (tagged by kind)."""
    kind = type(value)
    if kind is Tensor or isinstance(value, Tensor):
        data = value.data
        return ("tensor", type(data), data.shape, data.dtype, value._requires_grad)
    if kind is ndarray:
        return ("array", value.shape, value.dtype)
    if isinstance(value, np.generic):
        return ("scalar", kind)
    if kind in SCALARS:
        return ("value", kind, value)
    if kind in (tuple, list):
        return ("sequence", kind, *map(argument_key, value))
    if kind is dict:
        return ("dict", *((k, argument_key(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("object", kind, id(value))  # unhashable: by identity
    return ("object", kind, value)


def signature(args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The cache key of a call: its arguments (see :func:`argument_key`) and grad mode."""
    key = tuple(map(argument_key, args))
    if kwargs:
        key += tuple((k, argument_key(v)) for k, v in sorted(kwargs.items()))
    return (state.grad_enabled, *key)
