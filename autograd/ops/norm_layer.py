"""Layer normalisation as one fused primitive (PyTorch's ``layer_norm``).

Over the trailing axes ``A`` (``normalized_shape``), with ``n`` elements each:
``mu = mean_A x``, ``var = mean_A (x - mu)^2`` (biased), ``r = 1/sqrt(var + eps)``,
``xhat = (x - mu) r``, ``y = xhat w + b``. With ``gw = g w`` the VJP is closed form:

- ``dx = r (gw - mean_A gw - xhat mean_A(gw xhat))``,
- ``dw = sum over the leading axes of g xhat``, ``db = sum of g`` (the engine sums a
  gradient of the input's shape back to the parameters' shape).

The node keeps ``x`` and ``w`` and, from the forward, the small per-row ``mu`` and ``r``
(PyTorch's saved statistics); first-order backward rebuilds ``xhat`` from them, and under
``create_graph`` the rule recomputes them with differentiable ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply
from ..tensor import Tensor, unwrap
from .normalization import moments, standardised_grad


def _layer_norm(
    x: np.ndarray,
    weight: Any,
    bias: Any,
    axes: tuple[int, ...],
    eps: float,
    _residual: dict[str, Any],
) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    out = x - mean
    rstd = 1 / np.sqrt(np.mean(out * out, axis=axes, keepdims=True) + eps)
    out *= rstd
    _residual["mean"], _residual["rstd"] = mean, rstd
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    return out


def _layer_norm_vjp(
    xp: Any,
    g: Any,
    out: Any,
    x: Any,
    weight: Any,
    bias: Any,
    axes: tuple[int, ...],
    eps: float,
    _residual: dict[str, Any],
) -> tuple[Any, Any, Any]:
    if not isinstance(x, Tensor):  # first order: the forward's statistics
        rstd = _residual["rstd"]
        xhat = (x - _residual["mean"]) * rstd
    else:  # create_graph: the same statistics as differentiable functions of x
        centred, _, _, rstd = moments(x, axes, eps)
        xhat = centred * rstd
    gw = g if weight is None else g * weight
    return standardised_grad(gw, xhat, rstd, axes), None if weight is None else g * xhat, g


LAYER_NORM = Primitive(
    "layer_norm",
    _layer_norm,
    vjp=_layer_norm_vjp,
    saves=(0, 1),
    doc="(x - mean) / sqrt(var + eps) w + b;  dx = r (gw - mean gw - xhat mean(gw xhat))",
)


def _normalized_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


@op(LAYER_NORM, method=False)
def layer_norm(
    x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Tensor:
    """Normalise ``x`` over its trailing axes ``normalized_shape`` to mean 0 and variance 1
    (biased), then scale by ``weight`` and shift by ``bias`` (both of that shape, optional)."""
    normalized = _normalized_shape(normalized_shape)
    shape = np.shape(unwrap(x))
    k = len(normalized)
    if k == 0 or shape[len(shape) - k :] != normalized or len(shape) < k:
        raise ValueError(
            f"layer_norm: normalized_shape {normalized} must be the trailing axes of the "
            f"input, whose shape is {shape}"
        )
    for label, param in (("weight", weight), ("bias", bias)):
        if param is not None and np.shape(unwrap(param)) != normalized:
            raise ValueError(
                f"layer_norm: {label} has shape {np.shape(unwrap(param))}, expected "
                f"normalized_shape {normalized}"
            )
    axes = tuple(range(len(shape) - k, len(shape)))
    params = {"axes": axes, "eps": float(eps), "_residual": {}}
    return apply(LAYER_NORM, (x, weight, bias), params)
