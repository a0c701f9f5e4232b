"""Trigonometric and hyperbolic functions and their inverses (``sin cos tanh`` live in
:mod:`.elementwise` with the other basic ops).

numpy's names, with PyTorch's (and numpy 2's) short names as aliases: ``asin acos
atan atan2 asinh acosh atanh``. Outside their domain (``|x| > 1`` for ``arcsin``,
``x < 1`` for ``arccosh``) values and gradients are NaN, as numpy's values are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply_binary, apply_unary
from ..tensor import Tensor

TAN = Primitive(
    "tan",
    np.tan,
    vjps=(lambda xp, g, out, x: g * (1 + out * out),),
    saves=("out",),
    doc="tan x;  d/dx = 1 + tan^2 x",
)
ARCSIN = Primitive(
    "arcsin",
    np.arcsin,
    vjps=(lambda xp, g, out, x: g / xp.sqrt(1 - x * x),),
    saves=(0,),
    doc="arcsin x;  d/dx = 1/sqrt(1 - x^2)",
)
ARCCOS = Primitive(
    "arccos",
    np.arccos,
    vjps=(lambda xp, g, out, x: -g / xp.sqrt(1 - x * x),),
    saves=(0,),
    doc="arccos x;  d/dx = -1/sqrt(1 - x^2)",
)
ARCTAN = Primitive(
    "arctan",
    np.arctan,
    vjps=(lambda xp, g, out, x: g / (1 + x * x),),
    saves=(0,),
    doc="arctan x;  d/dx = 1/(1 + x^2)",
)
ARCTAN2 = Primitive(
    "arctan2",
    np.arctan2,
    vjps=(
        lambda xp, g, out, y, x: g * x / (x * x + y * y),
        lambda xp, g, out, y, x: -g * y / (x * x + y * y),
    ),
    saves=(0, 1),
    doc="the angle of (x, y);  d/dy = x/(x^2 + y^2), d/dx = -y/(x^2 + y^2)",
)
SINH = Primitive(
    "sinh",
    np.sinh,
    vjps=(lambda xp, g, out, x: g * xp.cosh(x),),
    saves=(0,),
    doc="sinh x;  d/dx = cosh x",
)
COSH = Primitive(
    "cosh",
    np.cosh,
    vjps=(lambda xp, g, out, x: g * xp.sinh(x),),
    saves=(0,),
    doc="cosh x;  d/dx = sinh x",
)
ARCSINH = Primitive(
    "arcsinh",
    np.arcsinh,
    vjps=(lambda xp, g, out, x: g / xp.sqrt(x * x + 1),),
    saves=(0,),
    doc="arcsinh x;  d/dx = 1/sqrt(x^2 + 1)",
)
ARCCOSH = Primitive(
    "arccosh",
    np.arccosh,
    vjps=(lambda xp, g, out, x: g / xp.sqrt(x * x - 1),),
    saves=(0,),
    doc="arccosh x (x >= 1);  d/dx = 1/sqrt(x^2 - 1)",
)
ARCTANH = Primitive(
    "arctanh",
    np.arctanh,
    vjps=(lambda xp, g, out, x: g / (1 - x * x),),
    saves=(0,),
    doc="arctanh x (|x| < 1);  d/dx = 1/(1 - x^2)",
)


@op(TAN)
def tan(x: Any) -> Tensor:
    """Elementwise tangent."""
    return apply_unary(TAN, x)


@op(ARCSIN, aliases=("asin",))
def arcsin(x: Any) -> Tensor:
    """Elementwise inverse sine, in ``[-pi/2, pi/2]``."""
    return apply_unary(ARCSIN, x)


@op(ARCCOS, aliases=("acos",))
def arccos(x: Any) -> Tensor:
    """Elementwise inverse cosine, in ``[0, pi]``."""
    return apply_unary(ARCCOS, x)


@op(ARCTAN, aliases=("atan",))
def arctan(x: Any) -> Tensor:
    """Elementwise inverse tangent, in ``(-pi/2, pi/2)``."""
    return apply_unary(ARCTAN, x)


@op(ARCTAN2, aliases=("atan2",))
def arctan2(y: Any, x: Any) -> Tensor:
    """The angle of the point ``(x, y)``, in ``[-pi, pi]``, as ``np.arctan2`` (``y``
    first); broadcasts. Both gradients are NaN at the origin."""
    return apply_binary(ARCTAN2, y, x)


@op(SINH)
def sinh(x: Any) -> Tensor:
    """Elementwise hyperbolic sine."""
    return apply_unary(SINH, x)


@op(COSH)
def cosh(x: Any) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return apply_unary(COSH, x)


@op(ARCSINH, aliases=("asinh",))
def arcsinh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic sine."""
    return apply_unary(ARCSINH, x)


@op(ARCCOSH, aliases=("acosh",))
def arccosh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic cosine (``x >= 1``)."""
    return apply_unary(ARCCOSH, x)


@op(ARCTANH, aliases=("atanh",))
def arctanh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic tangent (``|x| < 1``)."""
    return apply_unary(ARCTANH, x)
