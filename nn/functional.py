"""Stateless layer functions and losses, built only from public ``autograd`` ops.

Also importable as ``nn.F``. Activations are the engine's primitives; the losses
are written in numerically stable forms:

- ``cross_entropy`` is the fused primitive ``ag.softmax_cross_entropy`` (softmax
  and negative log likelihood in one op, gradient exactly ``(S - I_y)/m``);
- ``binary_cross_entropy_with_logits`` uses ``max(z, 0) - z y + log(1 + e^-|z|)``,
  which never overflows and whose gradient is ``sigmoid(z) - y`` everywhere
  (including ``z = 0``);
- ``binary_cross_entropy`` clamps each log at -100, like PyTorch, so a
  probability of exactly 0 or 1 gives a finite loss and gradient.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd as ag
from autograd import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from autograd.random import Rng, draw

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "l2_penalty",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

REDUCTIONS = ("mean", "sum", "none")
# exp(-100): probabilities are floored here so that log(p) >= -100 (PyTorch's clamp).
_PROB_FLOOR = math.exp(-100.0)


def _reduce(losses: ag.Tensor, reduction: str, fn: str) -> ag.Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{fn}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _same_shape(fn: str, a: ag.Tensor, b: ag.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{fn}: input has shape {a.shape} but target has shape {b.shape}; they must "
            f"match (reshape one of them, e.g. target.reshape(input.shape))"
        )


def linear(x: Any, weight: Any, bias: Any = None) -> ag.Tensor:
    """``x @ weight + bias`` with ``weight`` of shape ``(in, out)`` (the notes' ``Z W``).

    One fused graph node (``ag.linear``): ``dx = G Wᵀ``, ``dW = xᵀ G``, ``db = 1ᵀ G``.
    """
    return ag.linear(x, weight, bias)


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: Rng = None) -> ag.Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1/(1-p)``.

    The expected value is unchanged, so evaluation (``training=False``) is the
    identity. ``rng`` (a Generator or int seed) draws the mask.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    x = ag.as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros(x.shape, dtype=x.dtype)
    keep = ag.greater_equal(draw(rng, "random", x.shape), p)  # (ops: compiled calls redraw)
    return x * (keep / (1.0 - p)).astype(x.dtype)


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Softmax cross-entropy ``-log softmax(z)_y`` of ``(m, k)`` logits.

    ``target`` is int labels of shape ``(m,)`` or one-hot / class probabilities of
    shape ``(m, k)``. With ``reduction="mean"`` the gradient is ``(S - I_y)/m``,
    ``S = softmax(z)`` (the fused primitive ``ag.softmax_cross_entropy``).
    """
    return ag.softmax_cross_entropy(logits, target, reduction)


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Squared error ``(pred - target)²``, averaged (``"mean"``), summed, or per element.

    Like PyTorch, there is no factor ½ (the notes' ``½||h(x) - y||²`` is
    ``mse_loss(..., reduction="sum") / 2``).
    """
    pred, target = ag.as_tensor(pred), ag.as_tensor(target)
    _same_shape("mse_loss", pred, target)
    diff = pred - target
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy(prob: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """``-(y log p + (1 - y) log(1 - p))`` for probabilities ``p`` in [0, 1].

    Each log is clamped at -100 (as PyTorch) so ``p = 0`` or ``1`` stays finite.
    For raw scores use :func:`binary_cross_entropy_with_logits`, which is stabler.
    """
    prob, target = ag.as_tensor(prob), ag.as_tensor(target)
    _same_shape("binary_cross_entropy", prob, target)
    if prob.size and (np.min(prob.data) < 0 or np.max(prob.data) > 1):
        raise ValueError(
            f"binary_cross_entropy: prob must lie in [0, 1], got values in "
            f"[{np.min(prob.data)}, {np.max(prob.data)}]; for raw scores use "
            f"binary_cross_entropy_with_logits"
        )
    log_p = ag.log(ag.maximum(prob, _PROB_FLOOR))
    log_not_p = ag.log(ag.maximum(1 - prob, _PROB_FLOOR))
    losses = -(target * log_p + (1 - target) * log_not_p)
    return _reduce(losses, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logit: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Binary cross-entropy of ``sigmoid(z)``, computed as ``max(z,0) - z y + log1p(e^-|z|)``.

    Equal to ``binary_cross_entropy(sigmoid(z), y)`` without overflow or log(0);
    its gradient is ``sigmoid(z) - y`` (the notes' ``A - Y``), also at ``z = 0``.
    """
    logit, target = ag.as_tensor(logit), ag.as_tensor(target)
    _same_shape("binary_cross_entropy_with_logits", logit, target)
    losses = ag.maximum(logit, 0) - logit * target + ag.log1p(ag.exp(-ag.abs(logit)))
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def l2_penalty(params: Any, lam: float) -> ag.Tensor:
    """Weight decay ``lam/2 * sum ||W||²`` over the weights; biases are excluded.

    ``params`` is a Module, one tensor, or an iterable of tensors (e.g.
    ``model.parameters()``).
    Weights are the tensors with two or more axes; biases (vectors added to
    every row) have one and are skipped, as in the notes. The gradient adds
    ``lam * W`` to each weight's gradient.
    """
    if isinstance(params, ag.Tensor):
        params = [params]
    tensors: Iterable[Any] = params.parameters() if hasattr(params, "parameters") else params
    weights = [ag.as_tensor(t) for t in tensors]
    weights = [w for w in weights if w.ndim >= 2]
    if not weights:
        return ag.Tensor(0.0)
    total = (weights[0] * weights[0]).sum()
    for w in weights[1:]:
        total = total + (w * w).sum()
    return total * (lam / 2)
