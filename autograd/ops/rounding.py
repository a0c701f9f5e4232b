"""Rounding and integer division: ``floor ceil round trunc floor_divide`` and
``remainder``.

The rounding functions are flat between their jumps, so their gradient is zero
(PyTorch's convention: the result is recorded and passes zeros on). ``remainder``
(``a % b``, also ``mod``) has numpy's and Python's sign, the divisor's, as PyTorch's
``remainder``: ``a - b floor(a / b)``, so d/da = 1 and d/db = -floor(a / b).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply_binary, apply_unary, unchanged
from ..tensor import Tensor


def _zero(xp: Any, g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    """The gradient of a function that is flat between its jumps: zeros."""
    return xp.zeros_like(g)


FLOOR = Primitive("floor", np.floor, vjps=(_zero,), saves=(), doc="largest integer <= x;  d/dx = 0")
CEIL = Primitive("ceil", np.ceil, vjps=(_zero,), saves=(), doc="smallest integer >= x;  d/dx = 0")
TRUNC = Primitive("trunc", np.trunc, vjps=(_zero,), saves=(), doc="x rounded towards 0;  d/dx = 0")
ROUND = Primitive(
    "round",
    np.round,
    vjps=(_zero,),
    saves=(),
    doc="x rounded to decimals digits, halves to even;  d/dx = 0",
)
FLOOR_DIVIDE = Primitive(
    "floor_divide",
    operator.floordiv,
    vjps=(_zero, _zero),
    saves=(),
    doc="floor(a / b);  d/da = d/db = 0",
)
REMAINDER = Primitive(
    "remainder",
    operator.mod,
    vjps=(
        unchanged,
        lambda xp, g, out, a, b: -g * (a // b),
    ),
    saves=(0, 1),
    doc="a - b floor(a / b);  d/da = 1, d/db = -floor(a / b)",
)


@op(FLOOR)
def floor(x: Any) -> Tensor:
    """Elementwise largest integer ``<= x`` (as floats); zero gradient."""
    return apply_unary(FLOOR, x)


@op(CEIL)
def ceil(x: Any) -> Tensor:
    """Elementwise smallest integer ``>= x`` (as floats); zero gradient."""
    return apply_unary(CEIL, x)


@op(TRUNC)
def trunc(x: Any) -> Tensor:
    """Elementwise rounding towards 0 (as floats); zero gradient."""
    return apply_unary(TRUNC, x)


@op(ROUND)
def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - numpy/torch name
    """Round to ``decimals`` decimal digits, halves to the even neighbour, as
    ``np.round`` (and PyTorch); zero gradient."""
    return apply_unary(ROUND, x, {"decimals": int(decimals)})


@op(FLOOR_DIVIDE, operators=("__floordiv__",), reflected=("__rfloordiv__",))
def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: ``floor(a / b)`` with numpy's values; zero gradient."""
    return apply_binary(FLOOR_DIVIDE, a, b)


@op(REMAINDER, operators=("__mod__",), reflected=("__rmod__",), aliases=("mod",))
def remainder(a: Any, b: Any) -> Tensor:
    """``a % b`` with the divisor's sign (numpy's ``remainder``/``mod``, PyTorch's
    ``remainder``); d/da = 1, d/db = -floor(a / b)."""
    return apply_binary(REMAINDER, a, b)
