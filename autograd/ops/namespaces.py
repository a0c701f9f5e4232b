"""The two array namespaces a VJP rule can run with (``xp`` in the rules).

``NUMPY_NS`` computes on ndarrays and records nothing (first-order backward);
``TENSOR_NS`` computes on Tensors with the differentiable ops (``create_graph``).
Both offer the same names, so each rule is written once. ``call(f, *args)`` is ``f(*args)``
in both: a rule passes through it the step it must take on raw values (a custom
Function's backward), which a compiled function then records as one call.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from . import elementwise, linalg, neural, shape


def call(func: Any, *args: Any) -> Any:
    """``func(*args)``."""
    return func(*args)


NUMPY_NS = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sin=np.sin,
    cos=np.cos,
    sign=np.sign,
    where=np.where,
    transpose=np.transpose,
    broadcast_to=np.broadcast_to,
    expand_dims=np.expand_dims,
    matmul=np.matmul,
    softmax=neural._softmax,
    scatter_add=shape.scatter_add_numpy,
    call=call,
)

TENSOR_NS = SimpleNamespace(
    exp=elementwise.exp,
    log=elementwise.log,
    sin=elementwise.sin,
    cos=elementwise.cos,
    sign=elementwise.sign,
    where=elementwise.where,
    transpose=shape.transpose,
    broadcast_to=shape.broadcast_to,
    expand_dims=shape.expand_dims,
    matmul=linalg.matmul,
    softmax=neural.softmax,
    scatter_add=shape.scatter_add,
    call=call,
)

assert vars(NUMPY_NS).keys() == vars(TENSOR_NS).keys()
