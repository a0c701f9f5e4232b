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

from ..tensor import result_tensor
from . import conv, cumulative, einstein, elementwise, linalg, lookup, neural, shape, special, trig


def call(func: Any, *args: Any) -> Any:
    """``func(*args)``."""
    return func(*args)


def _same(t: Any) -> Any:
    """``t`` itself: a Tensor's values do not depend on its memory layout."""
    return t


NUMPY_NS = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sin=np.sin,
    cos=np.cos,
    sign=np.sign,
    where=np.where,
    maximum=np.maximum,
    transpose=np.transpose,
    broadcast_to=np.broadcast_to,
    expand_dims=np.expand_dims,
    matmul=np.matmul,
    softmax=neural._softmax,
    scatter_add=shape.scatter_add_numpy,
    conv=conv.conv_forward,
    conv_transpose=conv.conv_transpose_forward,
    conv_weight=conv.conv_weight_forward,
    avg_pool=conv.avg_pool_forward,
    avg_pool_scatter=conv.avg_pool_scatter_forward,
    max_pool_scatter=conv.max_pool_scatter_forward,
    pad=conv.pad_numpy,
    pad_fold=conv.pad_fold_forward,
    sqrt=np.sqrt,
    sinh=np.sinh,
    cosh=np.cosh,
    flip=np.flip,
    roll=np.roll,
    concatenate=np.concatenate,
    stack=np.stack,
    cumsum=np.cumsum,
    cumprod=np.cumprod,
    einsum=einstein._einsum_numpy,
    zeros_like=np.zeros_like,
    tanh=np.tanh,
    sigmoid=elementwise._stable_sigmoid,
    erf=special._erf,
    scatter_rows=lookup.scatter_rows_numpy,
    relu=elementwise._relu,
    contiguous=np.ascontiguousarray,  # (a transposed weight is faster to multiply by)
    call=call,
)

TENSOR_NS = SimpleNamespace(
    exp=elementwise.exp,
    log=elementwise.log,
    sin=elementwise.sin,
    cos=elementwise.cos,
    sign=elementwise.sign,
    where=elementwise.where,
    maximum=elementwise.maximum,
    transpose=shape.transpose,
    broadcast_to=shape.broadcast_to,
    expand_dims=shape.expand_dims,
    matmul=linalg.matmul,
    softmax=neural.softmax,
    scatter_add=shape.scatter_add,
    conv=conv.conv,
    conv_transpose=conv.conv_transpose,
    conv_weight=conv.conv_weight,
    avg_pool=conv.avg_pool,
    avg_pool_scatter=conv.avg_pool_scatter,
    max_pool_scatter=conv.max_pool_scatter,
    pad=conv.pad,
    pad_fold=conv.pad_fold,
    sqrt=elementwise.sqrt,
    sinh=trig.sinh,
    cosh=trig.cosh,
    flip=shape.flip,
    roll=shape.roll,
    concatenate=shape.concatenate,
    stack=shape.stack,
    cumsum=cumulative.cumsum,
    cumprod=cumulative.cumprod,
    einsum=einstein.einsum,
    zeros_like=lambda t: result_tensor(np.zeros_like(t.data), None),  # a constant
    tanh=elementwise.tanh,
    sigmoid=elementwise.sigmoid,
    erf=special.erf,
    scatter_rows=lookup.scatter_rows,
    relu=elementwise.relu,
    contiguous=_same,
    call=call,
)

assert vars(NUMPY_NS).keys() == vars(TENSOR_NS).keys()
