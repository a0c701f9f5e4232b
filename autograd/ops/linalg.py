"""Matrix product, as ``np.matmul``: 1-d, 2-d and batched n-d with broadcasting.

For ``C = A B``: ``dA = G Bᵀ`` and ``dB = Aᵀ G`` (over the last two axes). A 1-d
operand is a vector: the products become outer products or matrix-vector ones.
Broadcast batch axes are summed back by the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..primitive import Primitive, apply
from ..tensor import Tensor


def _grad_a(xp: Any, g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # out[..., i] = a[..., i, :] . b
        return g * b if a.ndim == 1 else xp.expand_dims(g, -1) * b
    if a.ndim == 1:  # out[..., j] = a . b[..., :, j]
        return (b @ xp.expand_dims(g, -1)).squeeze(-1)
    return g @ b.swapaxes(-1, -2)


def _grad_b(xp: Any, g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        return g * a if b.ndim == 1 else xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if b.ndim == 1:
        return (a.swapaxes(-1, -2) @ xp.expand_dims(g, -1)).squeeze(-1)
    return a.swapaxes(-1, -2) @ g


MATMUL = Primitive(
    "matmul", np.matmul, vjps=(_grad_a, _grad_b), saves=(0, 1), doc="a @ b;  dA = G Bᵀ, dB = Aᵀ G"
)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with ``np.matmul``'s rules for 1-d and batched operands."""
    return apply(MATMUL, (a, b))
