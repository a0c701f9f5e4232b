"""Stateless layer functions and losses, built only from public ``autograd`` ops.

Also importable as ``nn.F``. Activations are the engine's primitives; the losses
are written in numerically stable forms:

- ``cross_entropy`` is the fused primitive ``ag.softmax_cross_entropy`` (softmax
  and negative log likelihood in one op, gradient exactly ``(S - I_y)/m``);
- ``binary_cross_entropy_with_logits`` uses ``max(z, 0) - z y + log(1 + e^-|z|)``,
  which never overflows and whose gradient is ``sigmoid(z) - y`` everywhere
  (including ``z = 0``);
- ``binary_cross_entropy`` is the fused ``ag.binary_cross_entropy``: each log clamped
  at -100 and PyTorch's gradient, so a probability of exactly 0 or 1 gives a finite loss
  and gradient.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd as ag
from autograd import (  # the engine's primitives, one node each
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    elu,
    embedding,
    gelu,
    group_norm,
    layer_norm,
    leaky_relu,
    log_softmax,
    logsigmoid,
    max_pool1d,
    max_pool2d,
    relu,
    scaled_dot_product_attention,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from autograd.ops.neural import check_reduction, checked_labels, classes_last
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
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "group_norm",
    "max_pool1d",
    "max_pool2d",
    "pad",
    # sequence models
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "logsigmoid",
    "nll_loss",
    "one_hot",
    "scaled_dot_product_attention",
    "silu",
    "smooth_l1_loss",
    "softplus",
]


def _reduce(losses: ag.Tensor, reduction: str, fn: str) -> ag.Tensor:
    check_reduction(reduction, fn)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


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


def cross_entropy(
    logits: Any,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> ag.Tensor:
    """Softmax cross-entropy ``-log softmax(z)_y`` of ``(m, k)`` logits (also ``(k,)`` and
    ``(N, k, d1, ...)``, classes on axis 1, as PyTorch).

    ``target`` is int labels of shape ``(m,)`` (``(N, d1, ...)``) or one-hot / class
    probabilities of the logits' shape. With ``reduction="mean"`` the gradient is
    ``(S - I_y)/m``, ``S = softmax(z)`` (the fused primitive ``ag.softmax_cross_entropy``).
    Labels equal to ``ignore_index`` count for nothing (``"mean"`` divides by the others);
    ``label_smoothing`` ``eps`` replaces ``I_y`` by ``(1 - eps) I_y + eps / k``.
    """
    return ag.softmax_cross_entropy(logits, target, reduction, ignore_index, label_smoothing)


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

    Each log is clamped at -100 and the gradient is PyTorch's ``(p - y) / max(p (1-p),
    1e-12)`` (the fused ``ag.binary_cross_entropy``), so ``p = 0`` or ``1`` (and float32
    probabilities far below any clamp) keep a finite loss and gradient.
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
    return _reduce(ag.binary_cross_entropy(prob, target), reduction, "binary_cross_entropy")


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


#: PyTorch's padding modes and the ``ag.pad`` (numpy) modes they are.
PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def pad(x: Any, pad: Any, mode: str = "constant", value: float = 0.0) -> ag.Tensor:
    """Pad as ``torch.nn.functional.pad``: ``pad`` lists ``(before, after)`` pairs from the
    *last* axis backwards, ``(left, right, top, bottom, ...)``; ``mode`` ``"constant"``
    (``value``), ``"reflect"`` (mirror without the edge; padding smaller than the axis) or
    ``"replicate"`` (repeat the edge). It is ``ag.pad`` with numpy's ``pad_width``.
    """
    x = ag.as_tensor(x)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(PAD_MODES)}, got {mode!r}")
    sizes = tuple(pad)
    if len(sizes) % 2 or len(sizes) > 2 * x.ndim:
        raise ValueError(
            f"pad: pad must hold (before, after) pairs for at most the {x.ndim} axes of the "
            f"input of shape {x.shape}, got {pad!r}"
        )
    if any(not isinstance(p, (int, np.integer)) or p < 0 for p in sizes):
        raise ValueError(f"pad: padding sizes must be non-negative ints, got {pad!r}")
    pad_width = [(0, 0)] * x.ndim
    for i in range(len(sizes) // 2):
        axis = x.ndim - 1 - i
        pad_width[axis] = (int(sizes[2 * i]), int(sizes[2 * i + 1]))
        if mode == "reflect" and max(pad_width[axis]) >= x.shape[axis]:
            raise ValueError(
                f"pad: reflect padding {pad_width[axis]} must be smaller than axis {axis} "
                f"(size {x.shape[axis]}) of the input of shape {x.shape}"
            )
    if mode == "constant":
        return ag.pad(x, pad_width, "constant", value)
    return ag.pad(x, pad_width, PAD_MODES[mode])


def one_hot(labels: Any, num_classes: int = -1) -> ag.Tensor:
    """int64 one-hot rows of integer ``labels`` (any shape): the result has shape
    ``labels.shape + (num_classes,)``; ``-1`` means ``labels.max() + 1``. Not
    differentiable (PyTorch's ``one_hot``); ``.astype(float)`` for a float target."""
    values = np.asarray(ag.as_tensor(labels).data)
    if values.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {values.dtype}")
    if num_classes == -1:
        if values.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass it")
        num_classes = int(values.max()) + 1
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise IndexError(
            f"one_hot: labels must lie in [0, {num_classes}), got values in "
            f"[{values.min()}, {values.max()}] (labels shape {values.shape})"
        )
    return ag.Tensor(np.eye(num_classes, dtype=np.int64)[values])


def nll_loss(
    log_probs: Any, target: Any, reduction: str = "mean", ignore_index: int = -100
) -> ag.Tensor:
    """Negative log likelihood ``-log_probs[y]`` of int labels (PyTorch's ``nll_loss``).

    ``log_probs``: ``(m, k)``, ``(k,)`` or ``(N, k, d1, ...)`` (classes on axis 1), e.g.
    from ``log_softmax(z, axis=1)``; ``target``: labels of that shape without the class
    axis. Labels equal to ``ignore_index`` add nothing and ``"mean"`` divides by the
    number of the others. ``nll_loss(log_softmax(z, 1), y) == cross_entropy(z, y)``.
    """
    labels = np.asarray(ag.as_tensor(target).data)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must be int labels, got dtype {labels.dtype}")
    check_reduction(reduction, "nll_loss")
    rows, flat, label_shape = classes_last(log_probs, labels, "nll_loss")
    ignore = checked_labels(flat, rows.shape[1], ignore_index, "nll_loss")
    keep = np.ones(flat.shape, bool) if ignore is None else flat != ignore
    picked = rows[np.arange(len(flat)), np.where(keep, flat, 0)]
    losses = -picked if ignore is None else -picked * keep.astype(picked.dtype)
    if reduction == "none":
        return losses.reshape(label_shape)
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore"):  # every label ignored: nan, as PyTorch
        return losses.sum() / int(np.count_nonzero(keep))


def l1_loss(pred: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Absolute error ``|pred - target|`` (gradient ``sign``, 0 at 0, as PyTorch)."""
    pred, target = ag.as_tensor(pred), ag.as_tensor(target)
    _same_shape("l1_loss", pred, target)
    return _reduce(ag.abs(pred - target), reduction, "l1_loss")


def smooth_l1_loss(pred: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> ag.Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = pred -
    target``; PyTorch's ``smooth_l1_loss``; ``beta = 0`` is :func:`l1_loss`)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(pred, target, reduction)
    pred, target = ag.as_tensor(pred), ag.as_tensor(target)
    _same_shape("smooth_l1_loss", pred, target)
    diff = pred - target
    size = ag.abs(diff)
    losses = ag.where(size.data < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return _reduce(losses, reduction, "smooth_l1_loss")


def huber_loss(pred: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> ag.Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = pred -
    target``; PyTorch's ``huber_loss``: ``smooth_l1_loss`` times ``delta`` at ``beta = delta``)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    pred, target = ag.as_tensor(pred), ag.as_tensor(target)
    _same_shape("huber_loss", pred, target)
    diff = pred - target
    size = ag.abs(diff)
    losses = ag.where(size.data < delta, diff * diff * 0.5, (size - 0.5 * delta) * delta)
    return _reduce(losses, reduction, "huber_loss")
