"""Elementwise primitives: forward (numpy) and VJP side by side.

Rule signature: ``vjp(xp, g, out, *inputs, **params)``. Binary ops may return a
gradient of the broadcast shape; the engine sums it back to each input's shape.
Arithmetic forwards use Python's operators, which numpy implements for arrays and
which are much cheaper than ufunc calls on numpy scalars (the 0-d case).
Subgradients at kinks follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``,
``maximum``/``minimum`` split the gradient equally at ties, ``clip`` passes it at
the bounds, ``d(a**b)/da = 0`` where ``b == 0`` and ``d(a**b)/db = 0`` where
``a == 0 and b >= 0``.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import FLOAT_SCALARS, Primitive, apply, apply_binary, apply_unary, unchanged
from ..tensor import Tensor, unwrap
from .axes import torch_name

ArrayLike = Any

LN2, LN10 = math.log(2), math.log(10)  # Python floats: they keep float32 float32


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-x)`` without overflow: uses ``e^-|x|`` only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _relu(x: Any) -> Any:
    """``max(x, 0)``, NaN kept (as ``np.maximum``); a numpy scalar skips the ufunc
    (Python's comparison costs a fraction of a ufunc call)."""
    if type(x) in FLOAT_SCALARS:
        return type(x)(0) if x <= 0 else x
    return np.maximum(x, 0)


def _leaky_relu(x: np.ndarray, negative_slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * negative_slope)


def _half_at_ties(xp: Any, g: Any, mine: Any, other: Any) -> Any:
    """Gradient of max(mine, other) w.r.t. mine: g unless mine loses, g/2 at ties.

    As PyTorch: where either is NaN (the result is NaN) neither loses, so both get g."""
    return xp.where(mine == other, g / 2, xp.where(mine < other, 0, g))


def _clip_pass(xp: Any, g: Any, x: Any, lo: Any, hi: Any) -> Any:
    if lo is not None:
        g = xp.where(x < lo, 0, g)
    if hi is not None:
        g = xp.where(x > hi, 0, g)
    return g


ADD = Primitive(
    "add",
    operator.add,
    vjps=(
        unchanged,
        unchanged,
    ),
    saves=(),
    doc="a + b;  d/da = 1, d/db = 1",
)
SUBTRACT = Primitive(
    "subtract",
    operator.sub,
    vjps=(
        unchanged,
        lambda xp, g, out, a, b: -g,
    ),
    saves=(),
    doc="a - b;  d/da = 1, d/db = -1",
)
MULTIPLY = Primitive(
    "multiply",
    operator.mul,
    vjps=(
        lambda xp, g, out, a, b: g * b,
        lambda xp, g, out, a, b: g * a,
    ),
    saves=(0, 1),
    doc="a * b;  d/da = b, d/db = a",
)
DIVIDE = Primitive(
    "divide",
    operator.truediv,
    vjps=(
        lambda xp, g, out, a, b: g / b,
        lambda xp, g, out, a, b: -g * out / b,
    ),
    saves=(1, "out"),
    doc="a / b;  d/da = 1/b, d/db = -a/b^2 = -out/b",
)
NEGATIVE = Primitive(
    "negative", operator.neg, vjps=(lambda xp, g, out, x: -g,), saves=(), doc="-x;  d/dx = -1"
)
POW = Primitive(
    "pow",
    operator.pow,
    vjps=(
        lambda xp, g, out, a, b: g * xp.where(b == 0, 0, b * a ** (b - 1)),
        lambda xp, g, out, a, b: g * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a)),
    ),
    saves=(0, 1, "out"),
    doc="a ** b;  d/da = b a^(b-1), d/db = a^b log a",
)
EXP = Primitive(
    "exp",
    np.exp,
    vjps=(lambda xp, g, out, x: g * out,),
    saves=("out",),
    doc="e^x;  d/dx = e^x (the saved output)",
)
LOG = Primitive(
    "log", np.log, vjps=(lambda xp, g, out, x: g / x,), saves=(0,), doc="ln x;  d/dx = 1/x"
)
LOG1P = Primitive(
    "log1p",
    np.log1p,
    vjps=(lambda xp, g, out, x: g / (1 + x),),
    saves=(0,),
    doc="ln(1 + x), accurate for small x;  d/dx = 1/(1+x)",
)
EXP2 = Primitive(
    "exp2",
    np.exp2,
    vjps=(lambda xp, g, out, x: g * out * LN2,),
    saves=("out",),
    doc="2^x;  d/dx = 2^x ln 2 (the saved output)",
)
LOG2 = Primitive(
    "log2",
    np.log2,
    vjps=(lambda xp, g, out, x: g / (x * LN2),),
    saves=(0,),
    doc="log2 x;  d/dx = 1/(x ln 2)",
)
LOG10 = Primitive(
    "log10",
    np.log10,
    vjps=(lambda xp, g, out, x: g / (x * LN10),),
    saves=(0,),
    doc="log10 x;  d/dx = 1/(x ln 10)",
)
SQRT = Primitive(
    "sqrt",
    np.sqrt,
    vjps=(lambda xp, g, out, x: g / (2 * out),),
    saves=("out",),
    doc="sqrt(x);  d/dx = 1/(2 sqrt x) (inf at 0)",
)
SIN = Primitive(
    "sin",
    np.sin,
    vjps=(lambda xp, g, out, x: g * xp.cos(x),),
    saves=(0,),
    doc="sin x;  d/dx = cos x",
)
COS = Primitive(
    "cos",
    np.cos,
    vjps=(lambda xp, g, out, x: -g * xp.sin(x),),
    saves=(0,),
    doc="cos x;  d/dx = -sin x",
)
TANH = Primitive(
    "tanh",
    np.tanh,
    vjps=(lambda xp, g, out, x: g - g * out * out,),  # g (1 - out²): numpy is slow on a raw 1
    saves=("out",),
    doc="tanh x;  d/dx = 1 - tanh^2 x",
)
SIGMOID = Primitive(
    "sigmoid",
    _stable_sigmoid,
    vjps=(lambda xp, g, out, x: g * (out * (1 - out)),),
    saves=("out",),
    doc="s(x) = 1/(1+e^-x);  d/dx = s(x)(1 - s(x))",
)
RELU = Primitive(
    "relu",
    _relu,
    vjps=(lambda xp, g, out, x: g * (out > 0),),  # a product: cheaper than np.where
    saves=("out",),
    doc="max(x, 0);  d/dx = 1 if x > 0 else 0",
)
ABS = Primitive(
    "abs",
    np.abs,
    vjps=(lambda xp, g, out, x: g * xp.sign(x),),
    saves=(0,),
    doc="|x|;  d/dx = sign x (0 at 0)",
)
LEAKY_RELU = Primitive(
    "leaky_relu",
    _leaky_relu,
    vjps=(lambda xp, g, out, x, negative_slope: xp.where(x > 0, g, g * negative_slope),),
    saves=(0,),
    doc="x if x > 0 else a x;  d/dx = 1 if x > 0 else a",
)
MAXIMUM = Primitive(
    "maximum",
    np.maximum,
    vjps=(
        lambda xp, g, out, a, b: _half_at_ties(xp, g, a, b),
        lambda xp, g, out, a, b: _half_at_ties(xp, g, b, a),
    ),
    saves=(0, 1),
    doc="elementwise max(a, b);  the larger input gets g, ties g/2 each",
)
MINIMUM = Primitive(
    "minimum",
    np.minimum,
    vjps=(
        lambda xp, g, out, a, b: _half_at_ties(xp, g, -a, -b),
        lambda xp, g, out, a, b: _half_at_ties(xp, g, -b, -a),
    ),
    saves=(0, 1),
    doc="elementwise min(a, b);  the smaller input gets g, ties g/2 each",
)
WHERE = Primitive(
    "where",
    np.where,
    vjps=(
        lambda xp, g, out, cond, a, b: None,
        lambda xp, g, out, cond, a, b: xp.where(cond, g, 0),
        lambda xp, g, out, cond, a, b: xp.where(cond, 0, g),
    ),
    saves=(0,),
    doc="a where cond else b;  d/da = cond, d/db = not cond",
)
CLIP = Primitive(
    "clip",
    lambda x, lo, hi: np.clip(x, lo, hi),
    vjps=(lambda xp, g, out, x, lo, hi: _clip_pass(xp, g, x, lo, hi),),
    saves=(0,),
    doc="min(max(x, lo), hi);  d/dx = 1 where lo <= x <= hi else 0",
)
ASTYPE = Primitive(
    "astype",
    lambda x, dtype: x.astype(dtype),
    vjps=(unchanged,),
    saves=(),
    doc="cast;  the gradient is cast back to the input's dtype",
)


@op(ADD, operators=("__add__",), reflected=("__radd__",))
def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a + b`` with broadcasting."""
    return apply_binary(ADD, a, b)


@op(SUBTRACT, operators=("__sub__",), reflected=("__rsub__",))
def subtract(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a - b`` with broadcasting."""
    return apply_binary(SUBTRACT, a, b)


@op(MULTIPLY, operators=("__mul__",), reflected=("__rmul__",))
def multiply(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a * b`` with broadcasting."""
    return apply_binary(MULTIPLY, a, b)


@op(DIVIDE, operators=("__truediv__",), reflected=("__rtruediv__",))
def divide(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a / b`` (true division) with broadcasting."""
    return apply_binary(DIVIDE, a, b)


@op(NEGATIVE, operators=("__neg__",))
def negative(x: ArrayLike) -> Tensor:
    """``-x``."""
    return apply_unary(NEGATIVE, x)


@op(operators=("__pos__",))
def positive(x: ArrayLike) -> Tensor:
    """``+x``: ``x`` itself (a Tensor is returned as is, anything else wrapped)."""
    return x if isinstance(x, Tensor) else Tensor(x)


@op(POW, operators=("__pow__",), reflected=("__rpow__",))
def pow(a: ArrayLike, b: ArrayLike) -> Tensor:  # noqa: A001 - numpy/torch name
    """``a ** b`` with broadcasting; both may require grad."""
    return apply_binary(POW, a, b)


@op(EXP)
def exp(x: ArrayLike) -> Tensor:
    """Elementwise ``e**x``."""
    return apply_unary(EXP, x)


@op(LOG)
def log(x: ArrayLike) -> Tensor:
    """Elementwise natural logarithm (``-inf`` at 0, like numpy)."""
    return apply_unary(LOG, x)


@op(LOG1P)
def log1p(x: ArrayLike) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate when ``x`` is tiny."""
    return apply_unary(LOG1P, x)


@op(EXP2)
def exp2(x: ArrayLike) -> Tensor:
    """Elementwise ``2**x``."""
    return apply_unary(EXP2, x)


@op(LOG2)
def log2(x: ArrayLike) -> Tensor:
    """Elementwise base-2 logarithm."""
    return apply_unary(LOG2, x)


@op(LOG10)
def log10(x: ArrayLike) -> Tensor:
    """Elementwise base-10 logarithm."""
    return apply_unary(LOG10, x)


@op(SQRT)
def sqrt(x: ArrayLike) -> Tensor:
    """Elementwise square root (gradient ``inf`` at 0, like PyTorch)."""
    return apply_unary(SQRT, x)


@op(SIN)
def sin(x: ArrayLike) -> Tensor:
    """Elementwise sine."""
    return apply_unary(SIN, x)


@op(COS)
def cos(x: ArrayLike) -> Tensor:
    """Elementwise cosine."""
    return apply_unary(COS, x)


@op(TANH)
def tanh(x: ArrayLike) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return apply_unary(TANH, x)


@op(SIGMOID)
def sigmoid(x: ArrayLike) -> Tensor:
    """Elementwise logistic function ``1 / (1 + e**-x)``, stable for large ``|x|``."""
    return apply_unary(SIGMOID, x)


@op(RELU)
def relu(x: ArrayLike) -> Tensor:
    """Elementwise ``max(x, 0)``; the gradient at 0 is 0."""
    return apply_unary(RELU, x)


@op(ABS, operators=("__abs__",))
def abs(x: ArrayLike) -> Tensor:  # noqa: A001 - numpy/torch name
    """Elementwise ``|x|``; the gradient at 0 is 0."""
    return apply_unary(ABS, x)


@op(LEAKY_RELU)
def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Tensor:
    """Elementwise ``x if x > 0 else negative_slope * x``."""
    return apply_unary(LEAKY_RELU, x, {"negative_slope": negative_slope})


@op(MAXIMUM)
def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise maximum (NaN propagates, as numpy); at ties each input gets half the
    gradient."""
    return apply_binary(MAXIMUM, a, b)


@op(MINIMUM)
def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise minimum (NaN propagates, as numpy); at ties each input gets half the
    gradient."""
    return apply_binary(MINIMUM, a, b)


@op(WHERE, method=False)
def where(cond: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (``cond`` is not differentiated)."""
    return apply(WHERE, (cond, a, b))


@op(CLIP, aliases=("clamp",))
def clip(
    x: ArrayLike, lo: Any = None, hi: Any = None, *, min: Any = None, max: Any = None
) -> Tensor:
    """Clamp ``x`` into ``[lo, hi]`` (either may be None); gradient passes at the bounds.

    ``min=``/``max=`` are numpy's and PyTorch's keywords for ``lo``/``hi``; ``clamp`` is
    PyTorch's name (``x.clamp(min=0)``)."""
    if min is not None or max is not None:
        lo = torch_name("clip", lo, min)
        hi = torch_name("clip", hi, max)
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi (or min= and max=)")
    return apply_unary(CLIP, x, {"lo": unwrap(lo), "hi": unwrap(hi)})


@op(ASTYPE)
def astype(x: ArrayLike, dtype: Any) -> Tensor:
    """Cast to ``dtype``; between float types the gradient is cast back."""
    return apply_unary(ASTYPE, x, {"dtype": np.dtype(dtype)})


# ---------------------------------------------------------------- not differentiable
def _no_gradient(xp: Any, g: Any, out: Any, *inputs: Any, **params: Any) -> tuple[None, ...]:
    return (None,) * len(inputs)


_CONSTANT_PRIMITIVES: dict[Any, Primitive] = {}


def constant_primitive(func: Any) -> Primitive:
    """An unregistered primitive computing ``func`` with no gradient (comparisons, argmax):
    applied to raw values, its results are constants, made by the engine's one entry (so
    compiled functions record them like any op)."""
    prim = _CONSTANT_PRIMITIVES.get(func)
    if prim is None:
        prim = Primitive(func.__name__, func, vjp=_no_gradient, saves=(), register=False)
        _CONSTANT_PRIMITIVES[func] = prim
    return prim


def _non_differentiable(func: Any, *args: Any) -> Tensor:
    return apply(constant_primitive(func), tuple(unwrap(a) for a in args))


@op()
def sign(x: ArrayLike) -> Tensor:
    """Elementwise sign (-1, 0 or 1); not differentiable (its derivative is 0)."""
    return _non_differentiable(np.sign, x)


@op(operators=("__lt__",))
def less(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a < b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.less, a, b)


@op(operators=("__le__",))
def less_equal(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a <= b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.less_equal, a, b)


@op(operators=("__gt__",))
def greater(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a > b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.greater, a, b)


@op(operators=("__ge__",))
def greater_equal(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a >= b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.greater_equal, a, b)


@op(operators=("__eq__",))
def equal(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a == b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.equal, a, b)


@op(operators=("__ne__",))
def not_equal(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a != b`` as a bool tensor (not differentiable)."""
    return _non_differentiable(np.not_equal, a, b)


@op(operators=("__and__",), reflected=("__rand__",))
def logical_and(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise ``a and b`` (not differentiable)."""
    return _non_differentiable(np.logical_and, a, b)


@op(operators=("__or__",), reflected=("__ror__",))
def logical_or(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise ``a or b`` (not differentiable)."""
    return _non_differentiable(np.logical_or, a, b)


@op(operators=("__invert__",))
def logical_not(x: ArrayLike) -> Tensor:
    """Elementwise ``not x`` (not differentiable)."""
    return _non_differentiable(np.logical_not, x)


@op()
def isfinite(x: ArrayLike) -> Tensor:
    """Elementwise: neither infinite nor NaN (a bool tensor, not differentiable)."""
    return _non_differentiable(np.isfinite, x)


@op()
def isnan(x: ArrayLike) -> Tensor:
    """Elementwise: NaN (a bool tensor, not differentiable)."""
    return _non_differentiable(np.isnan, x)


@op()
def isinf(x: ArrayLike) -> Tensor:
    """Elementwise: +inf or -inf (a bool tensor, not differentiable)."""
    return _non_differentiable(np.isinf, x)
