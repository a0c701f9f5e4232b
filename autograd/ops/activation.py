"""Smooth activations, each one primitive with a closed-form, overflow-free VJP.

Composed from elementwise ops they would take several graph nodes, and the composed
``softplus``/``logsigmoid`` overflow (``log(1 + e^x)`` at ``x = 1000``); each here is
one node whose forward never overflows and whose rule reads only the input:

- ``gelu(x) = x Phi(x)``, ``Phi`` the standard normal CDF ``(1 + erf(x/sqrt 2))/2``;
  ``approximate="tanh"``: ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (PyTorch's);
- ``silu(x) = x sigmoid(x)``;
- ``softplus(x) = log(1 + e^(beta x)) / beta``, and ``x`` where ``beta x > threshold``;
- ``elu(x) = x if x > 0 else alpha (e^x - 1)``;
- ``logsigmoid(x) = log sigmoid(x) = min(x, 0) - log(1 + e^-|x|)``.

Rules that branch use ``xp.where`` on finite values only: an ``inf`` in the branch not
taken would still give ``0 * inf = nan`` in a second derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply_unary
from ..tensor import Tensor
from .elementwise import _stable_sigmoid
from .namespaces import NUMPY_NS

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715  # the tanh approximation's cubic coefficient
GELU_APPROXIMATIONS = ("none", "tanh")


def check_gelu_approximation(where: str, approximate: str) -> None:
    """``ValueError`` naming ``where`` unless ``approximate`` is one of GELU's."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(
            f"{where}: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}"
        )


def _gelu_inner(xp: Any, x: Any, approximate: str) -> Any:
    """What both the value and the slope need: ``Phi(x)`` (exact) or ``tanh(u(x))``."""
    if approximate == "tanh":
        return xp.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x))
    return 0.5 * (1 + xp.erf(x * _SQRT_HALF))


def _gelu(x: np.ndarray, approximate: str, _residual: dict[str, Any]) -> np.ndarray:
    """Keeps ``Phi(x)`` (or ``tanh u``) for the first-order VJP: one ``erf`` per step."""
    inner = _residual["inner"] = _gelu_inner(NUMPY_NS, x, approximate)
    return x * inner if approximate == "none" else 0.5 * x * (1 + inner)


def _gelu_vjp(
    xp: Any, g: Any, out: Any, x: Any, approximate: str, _residual: dict[str, Any]
) -> Any:
    """Exact: ``Phi(x) + x phi(x)``; tanh form: ``(1 + t)/2 + x/2 (1 - t^2) u'(x)``."""
    inner = _residual["inner"] if not isinstance(x, Tensor) else _gelu_inner(xp, x, approximate)
    if approximate == "tanh":
        slope = _SQRT_2_OVER_PI * (1 + 3 * _CUBIC * x * x)
        return g * (0.5 * (1 + inner) + 0.5 * x * (1 - inner * inner) * slope)
    return g * (inner + x * (_INV_SQRT_2PI * xp.exp(-0.5 * (x * x))))


def _softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    bx = x * beta
    smooth = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > threshold, x, smooth)


def _softplus_vjp(xp: Any, g: Any, out: Any, x: Any, beta: float, threshold: float) -> Any:
    bx = x * beta
    return xp.where(bx > threshold, g, g * xp.sigmoid(bx))


def _elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_vjp(xp: Any, g: Any, out: Any, x: Any, alpha: float) -> Any:
    return xp.where(x > 0, g, g * (alpha * xp.exp(xp.where(x > 0, 0, x))))


def _silu_vjp(xp: Any, g: Any, out: Any, x: Any) -> Any:
    s = xp.sigmoid(x)
    return g * s * (1 + x * (1 - s))


def _logsigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


GELU = Primitive(
    "gelu",
    _gelu,
    vjps=(_gelu_vjp,),
    saves=(0,),
    doc="x Phi(x);  d/dx = Phi(x) + x phi(x) (tanh form: its own closed form)",
)
SILU = Primitive(
    "silu",
    lambda x: x * _stable_sigmoid(x),
    vjps=(_silu_vjp,),
    saves=(0,),
    doc="x s(x);  d/dx = s(x) (1 + x (1 - s(x)))",
)
SOFTPLUS = Primitive(
    "softplus",
    _softplus,
    vjps=(_softplus_vjp,),
    saves=(0,),
    doc="log(1 + e^(b x))/b;  d/dx = sigmoid(b x) (1 beyond the threshold)",
)
ELU = Primitive(
    "elu",
    _elu,
    vjps=(_elu_vjp,),
    saves=(0,),
    doc="x if x > 0 else a (e^x - 1);  d/dx = 1 if x > 0 else a e^x",
)
LOGSIGMOID = Primitive(
    "logsigmoid",
    _logsigmoid,
    vjps=(lambda xp, g, out, x: g * xp.sigmoid(-x),),
    saves=(0,),
    doc="log sigmoid(x);  d/dx = sigmoid(-x)",
)


@op(GELU)
def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x Phi(x)`` (``Phi``: the standard normal CDF, by
    :func:`erf`); ``approximate="tanh"`` uses PyTorch's tanh approximation."""
    check_gelu_approximation("gelu", approximate)
    return apply_unary(GELU, x, {"approximate": approximate, "_residual": {}})


@op(SILU)
def silu(x: Any) -> Tensor:
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``."""
    return apply_unary(SILU, x)


@op(SOFTPLUS)
def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + e^(beta x)) / beta``, computed without overflow; ``x`` itself where
    ``beta * x > threshold`` (as PyTorch)."""
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    return apply_unary(SOFTPLUS, x, {"beta": float(beta), "threshold": float(threshold)})


@op(ELU)
def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha (e^x - 1)``."""
    return apply_unary(ELU, x, {"alpha": float(alpha)})


@op(LOGSIGMOID)
def logsigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x))`` computed stably (finite for ``x`` near -1000)."""
    return apply_unary(LOGSIGMOID, x)
