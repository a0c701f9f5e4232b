"""Neural-network primitives with their own numerically stable forwards and VJPs.

``softmax_cross_entropy`` is fused: its gradient is the notes' closed form
``(S - I_y) / m`` (``S`` the softmax of the logits, ``I_y`` the one-hot labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply_binary, apply_unary
from ..tensor import Tensor, unwrap

REDUCTIONS = ("mean", "sum", "none")


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    x = np.asarray(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _one_hot(target: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    if target.dtype.kind in "iu":
        return np.eye(k, dtype=dtype)[target]
    return target.astype(dtype, copy=False)


def _cross_entropy(
    logits: np.ndarray, target: np.ndarray, reduction: str, _residual: dict[str, Any]
) -> np.ndarray:
    """Per-example ``logsumexp(z) - z_y``, reduced; leaves ``S`` in ``_residual`` for the VJP."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    log_total = np.log(total)
    exp /= total
    _residual["probs"] = exp
    if target.dtype.kind in "iu":  # -log S_y = log sum e^z - z_y, on the shifted logits
        losses = log_total[:, 0] - shifted[np.arange(len(target)), target]
    else:
        losses = -(target * (shifted - log_total)).sum(axis=-1)
    if reduction == "none":
        return losses
    total_loss = losses.sum()
    return total_loss / len(losses) if reduction == "mean" else total_loss


def _cross_entropy_vjp(
    xp: Any, g: Any, out: Any, logits: Any, target: Any, reduction: str, _residual: dict[str, Any]
) -> Any:
    """``(S - I_y) * g / m``. First order reuses the forward's ``S`` (in place, once);
    under ``create_graph`` (Tensor logits) ``S`` is recomputed with differentiable ops."""
    m, k = logits.shape
    probs = None if isinstance(logits, Tensor) else _residual.pop("probs", None)
    if probs is None:
        delta = xp.softmax(logits, axis=-1) - _one_hot(target, k, logits.dtype)
    elif target.dtype.kind in "iu":
        delta = probs
        delta[np.arange(m), target] -= 1
    else:
        delta = probs
        delta -= target
    if reduction == "none":
        return delta * xp.expand_dims(g, -1)
    return delta * (g / m if reduction == "mean" else g)


SOFTMAX = Primitive(
    "softmax",
    _softmax,
    vjps=(lambda xp, g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)),),
    saves=("out",),
    doc="S = e^x / sum e^x;  dx = S (g - sum(g S))",
)
LOG_SOFTMAX = Primitive(
    "log_softmax",
    _log_softmax,
    vjps=(lambda xp, g, out, x, axis: g - xp.exp(out) * g.sum(axis=axis, keepdims=True),),
    saves=("out",),
    doc="x - logsumexp x;  dx = g - softmax(x) sum g",
)
SOFTMAX_CROSS_ENTROPY = Primitive(
    "softmax_cross_entropy",
    _cross_entropy,
    vjps=(
        _cross_entropy_vjp,
        lambda xp, g, out, logits, target, reduction, _residual: None,
    ),
    saves=(0, 1),
    doc="-sum I_y log softmax(z);  dz = (S - I_y) / m",
)


@op(SOFTMAX)
def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max (no overflow)."""
    return apply_unary(SOFTMAX, x, {"axis": axis})


@op(LOG_SOFTMAX)
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, computed stably."""
    return apply_unary(LOG_SOFTMAX, x, {"axis": axis})


@op(SOFTMAX_CROSS_ENTROPY, method=False)
def softmax_cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of ``(m, k)`` logits, fused; gradient ``(S - I_y)/m``.

    ``target`` is int labels of shape ``(m,)`` or class probabilities (e.g. one-hot)
    of shape ``(m, k)``; ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``.
    """
    shape = np.shape(unwrap(logits))
    labels = np.asarray(unwrap(target))
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if len(shape) != 2:
        raise ValueError(f"cross_entropy: logits must have shape (m, k), got {shape}")
    m, k = shape
    if labels.dtype.kind in "iu":
        if labels.shape != (m,):
            raise ValueError(
                f"cross_entropy: int labels must have shape ({m},) for logits {shape}, "
                f"got {labels.shape}"
            )
        as_unsigned = labels.view(f"u{labels.dtype.itemsize}")  # negatives become huge
        if m and as_unsigned.max() >= k:
            raise ValueError(
                f"cross_entropy: labels must lie in [0, {k}), got {labels.min()}..{labels.max()}"
            )
    elif labels.shape != shape:
        raise ValueError(
            f"cross_entropy: one-hot/probability targets must have the logits' shape {shape}, "
            f"got {labels.shape}"
        )
    target = target if isinstance(target, Tensor) else labels  # keep a Tensor's name for pictures
    params = {"reduction": reduction, "_residual": {}}  # "_": not an op parameter
    return apply_binary(SOFTMAX_CROSS_ENTROPY, logits, target, params)
