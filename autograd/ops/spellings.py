"""PyTorch's spellings on Tensor, where they do not clash with numpy's.

- ``x.size`` stays numpy's element count, an ``int`` (:class:`Size`), which PyTorch's
  habit can also call: ``x.size()`` is the shape and ``x.size(d)`` one length.
- ``x.numel()`` (the element count) and ``x.clone()`` (a recorded copy).
- PyTorch's methods spelled otherwise here raise ``AttributeError`` naming topograd's
  spelling (``x.mm`` -> ``x @ w``); for other missing names Python's own message
  suggests close ones ("Did you mean: 'sum'?").

Aliases with one meaning are declared with their ops (``view cat clamp unsqueeze``,
``dim=``/``keepdim=``); see README's table of PyTorch habits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..optable import METHODS, op, tensor_method
from ..tensor import Tensor, as_tensor, unwrap
from .axes import check_axis
from .elementwise import ASTYPE, astype


class Size(int):
    """``x.size``: the number of elements (an ``int``, as numpy's ``ndarray.size``),
    also callable as PyTorch's ``x.size()`` (the shape) and ``x.size(dim)``."""

    shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> Size:
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[check_axis(dim, len(self.shape))]

    def __getnewargs__(self) -> tuple[tuple[int, ...]]:  # copy and pickle rebuild from the shape
        return (self.shape,)


tensor_method("size")(
    property(lambda x: Size(x.data.shape), doc="Number of elements, an int; " + Size.__doc__)
)


@op()
def numel(x: Any) -> int:
    """The number of elements, as PyTorch's ``numel`` (numpy's ``x.size``)."""
    return int(np.size(unwrap(x)))


@op(ASTYPE)
def clone(x: Any) -> Tensor:
    """A copy of ``x`` in new memory; recorded, so the gradient flows to ``x``
    (PyTorch's ``clone``, numpy's ``copy``)."""
    x = as_tensor(x)
    return astype(x, x.dtype)


#: PyTorch methods that topograd spells another way.
TORCH_SPELLINGS = {
    "mm": "x @ w (or ag.matmul(x, w))",
    "bmm": "x @ w (ag.matmul batches over the leading axes)",
    "mv": "x @ v (or ag.matmul(x, v))",
    "t": "x.T",
    "mT": "x.swapaxes(-1, -2)",
    "expand": "x.broadcast_to(shape)",
    "expand_as": "x.broadcast_to(other.shape)",
    "repeat_interleave": "x.repeat(repeats, axis) (numpy's repeat; PyTorch's repeat is x.tile)",
    "gather": "ag.take_along_axis(x, indices, axis)",
    "index_select": "x[indices] along the axis, or ag.take_along_axis",
    "masked_fill": "ag.where(mask, value, x)",
    "chunk": "ag.split(x, sections, axis) (numpy's equal sections)",
    "unbind": "list(x), or x[i]",
    "narrow": "slicing, x[start:start + length] along the axis",
    "mul": "x * y (or ag.multiply)",
    "sub": "x - y (or ag.subtract)",
    "div": "x / y (or ag.divide)",
    "neg": "-x (or ag.negative)",
    "square": "x ** 2",
    "rsqrt": "1 / x.sqrt()",
    "reciprocal": "1 / x",
    "amax": "x.max(axis=...)",
    "amin": "x.min(axis=...)",
    "dim": "x.ndim",
    "nelement": "x.numel(), or x.size",
    "float": "x.astype(np.float32)",
    "double": "x.astype(np.float64)",
    "long": "x.astype(np.int64)",
    "type_as": "x.astype(other.dtype)",
    "to": "x.astype(dtype) (topograd computes on the CPU with numpy: there are no devices)",
    "cpu": "x itself (topograd computes on the CPU with numpy: there are no devices)",
    "cuda": "nothing: topograd computes on the CPU with numpy",
    "device": "nothing: topograd computes on the CPU with numpy",
    "contiguous": "x itself (numpy computes on any memory layout)",
    "eq": "x == y",
    "ne": "x != y",
    "lt": "x < y",
    "le": "x <= y",
    "gt": "x > y",
    "ge": "x >= y",
    "fmod": "x % y, the remainder with the divisor's sign (fmod's has the dividend's)",
    "retain_grad": "ag.gradients(out, [x]), which returns the gradient of a non-leaf",
    "new_zeros": "ag.zeros(shape, dtype=x.dtype)",
    "new_ones": "ag.ones(shape, dtype=x.dtype)",
    "new_tensor": "ag.tensor(data, dtype=x.dtype)",
}


def _spelled_otherwise(name: str, spelling: str) -> property:
    """A property that raises ``AttributeError`` naming topograd's spelling of PyTorch's
    ``x.<name>`` (a class attribute, not ``__getattr__``, which would slow every
    attribute access of every Tensor)."""

    def refuse(x: Tensor) -> Any:
        raise AttributeError(  # without name=: Python would append a "Did you mean"
            f"'Tensor' object has no attribute {name!r}; topograd spells PyTorch's "
            f"x.{name}(...) as {spelling}"
        )

    return property(refuse, doc=f"Not provided: PyTorch's ``x.{name}`` is {spelling} here.")


for _name, _spelling in TORCH_SPELLINGS.items():
    if _name not in METHODS:  # a real method, registered before or after, wins
        tensor_method(_name)(_spelled_otherwise(_name, _spelling))
