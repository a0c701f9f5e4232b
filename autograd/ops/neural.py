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
from .axes import torch_name
from .shape import reshape, transpose

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` unless ``reduction`` is one of :data:`REDUCTIONS`."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


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


def _is_plain(target: np.ndarray, ignore_index: int | None, label_smoothing: float | None) -> bool:
    """Int labels, none ignored, no smoothing: the fast path, ``(S - I_y)``."""
    return target.dtype.kind in "iu" and ignore_index is None and not label_smoothing


def _target_distribution(
    target: np.ndarray,
    k: int,
    dtype: np.dtype,
    ignore_index: int | None,
    label_smoothing: float | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(q, keep)``: the target distribution ``q = (1 - eps) I_y + eps / k`` (for
    probabilities ``(1 - eps) p + eps / k``) and, when labels are ignored, the ``(m, 1)``
    float mask of the rows that count (None otherwise)."""
    keep = None
    if target.dtype.kind in "iu":
        if ignore_index is not None:
            kept = target != ignore_index
            target, keep = np.where(kept, target, 0), kept[:, None].astype(dtype)
        q = _one_hot(target, k, dtype)
    else:
        q = target.astype(dtype, copy=False)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / k
    return q, keep


def _counted(target: np.ndarray, ignore_index: int | None) -> int:
    """How many rows the mean divides by: those whose label is not ``ignore_index``."""
    if ignore_index is None or target.dtype.kind not in "iu":
        return len(target)
    return int(np.count_nonzero(target != ignore_index))


def _cross_entropy(
    logits: np.ndarray,
    target: np.ndarray,
    reduction: str,
    ignore_index: int | None,
    label_smoothing: float | None,
    _residual: dict[str, Any],
) -> np.ndarray:
    """Per-example ``logsumexp(z) - sum q z``, reduced; leaves ``S`` in ``_residual`` for the
    VJP. ``ignore_index`` is None unless some label equals it (the caller checks)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    log_total = np.log(total)
    exp /= total
    _residual["probs"] = exp
    if _is_plain(target, ignore_index, label_smoothing):  # -log S_y = log sum e^z - z_y
        losses = log_total[:, 0] - shifted[np.arange(len(target)), target]
    else:
        q, keep = _target_distribution(
            target, logits.shape[-1], logits.dtype, ignore_index, label_smoothing
        )
        losses = -(q * (shifted - log_total)).sum(axis=-1)
        if keep is not None:
            losses *= keep[:, 0]
    if reduction == "none":
        return losses
    total_loss = losses.sum()
    if reduction == "sum":
        return total_loss
    count = _counted(target, ignore_index)
    return total_loss / count if count else np.asarray(np.nan, losses.dtype)[()]


def _cross_entropy_vjp(
    xp: Any,
    g: Any,
    out: Any,
    logits: Any,
    target: Any,
    reduction: str,
    ignore_index: int | None,
    label_smoothing: float | None,
    _residual: dict[str, Any],
) -> Any:
    """``(S - q) * g / m`` (``q = I_y`` for plain labels; ignored rows get 0). First order
    reuses the forward's ``S`` (in place, once); under ``create_graph`` (Tensor logits)
    ``S`` is recomputed with differentiable ops."""
    m, k = logits.shape
    probs = _residual.pop("probs", None) if not isinstance(logits, Tensor) else None
    if probs is not None and _is_plain(target, ignore_index, label_smoothing):
        delta = probs
        delta[np.arange(m), target] -= 1
    else:
        q, keep = _target_distribution(target, k, logits.dtype, ignore_index, label_smoothing)
        if probs is None:
            delta = xp.softmax(logits, axis=-1) - q
        else:
            delta = probs
            delta -= q
        if keep is not None:
            delta = delta * keep
    if reduction == "none":
        return delta * xp.expand_dims(g, -1)
    return delta * (g / _counted(target, ignore_index) if reduction == "mean" else g)


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
    vjps=(_cross_entropy_vjp, lambda xp, g, out, logits, target, **params: None),
    saves=(0, 1),
    doc="-sum I_y log softmax(z);  dz = (S - I_y) / m",
)


@op(SOFTMAX)
def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (PyTorch's ``dim=``), shifted by the max
    (no overflow)."""
    if dim is not None:
        axis = torch_name("softmax", axis, dim, default=-1)
    return apply_unary(SOFTMAX, x, {"axis": axis})


@op(LOG_SOFTMAX)
def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (PyTorch's ``dim=``), computed stably."""
    if dim is not None:
        axis = torch_name("log_softmax", axis, dim, default=-1)
    return apply_unary(LOG_SOFTMAX, x, {"axis": axis})


@op(SOFTMAX_CROSS_ENTROPY, method=False)
def softmax_cross_entropy(
    logits: Any,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy, fused; gradient ``(S - I_y)/m``.

    ``logits``: ``(m, k)``, ``(k,)`` or ``(N, k, d1, ...)`` (classes on axis 1, as PyTorch).
    ``target``: int labels of the logits' shape without the class axis, or class
    probabilities (e.g. one-hot) of the logits' shape. Labels equal to ``ignore_index``
    add nothing and are not counted by ``"mean"``; ``label_smoothing`` ``eps`` mixes the
    target with the uniform distribution, ``q = (1 - eps) I_y + eps / k``, and the
    gradient is ``(S - q)`` over the rows that count. ``reduction``: ``"mean"``, ``"sum"``
    or ``"none"`` (one loss per label, in the labels' shape).
    """
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if np.ndim(unwrap(logits)) == 2:
        return _cross_entropy_rows(logits, target, reduction, ignore_index, label_smoothing)
    rows, labels, label_shape = classes_last(logits, target, "cross_entropy")
    losses = _cross_entropy_rows(
        rows, labels, reduction, ignore_index, label_smoothing, np.shape(unwrap(logits))
    )
    return losses if reduction != "none" else reshape(losses, label_shape)


def classes_last(scores: Any, target: Any, what: str) -> tuple[Tensor, np.ndarray, tuple[int, ...]]:
    """``(k,)`` or ``(N, k, d1, ...)`` class scores (classes on axis 1, as PyTorch) as
    ``(m, k)`` rows, with the target to match: int labels flattened to ``(m,)``,
    probabilities moved and flattened like the scores. Also returns the labels' shape
    (the scores' without the class axis), which ``reduction="none"`` gives back."""
    shape = np.shape(unwrap(scores))
    if len(shape) == 0:
        raise ValueError(f"{what}: the input must have a class axis, got a 0-d tensor")
    classes = shape[0] if len(shape) == 1 else shape[1]
    label_shape = _label_shape(shape)
    moved = (0, *range(2, len(shape)), 1) if len(shape) > 1 else (0,)
    rows = reshape(transpose(scores, moved), (-1, classes))
    labels = np.asarray(unwrap(target))
    if labels.dtype.kind == "f" and labels.shape == shape:
        labels = labels.transpose(moved).reshape(rows.shape)
    elif labels.dtype.kind != "f":
        if labels.shape != label_shape:
            raise ValueError(_label_shape_message(what, shape, labels.shape))
        labels = labels.reshape(-1)
    return rows, labels, label_shape


def _label_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of int labels for class scores of ``shape``: without the class axis."""
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def _label_shape_message(what: str, shape: tuple[int, ...], got: tuple[int, ...]) -> str:
    return (
        f"{what}: int labels for an input of shape {shape} must have shape "
        f"{_label_shape(shape)}, got {got}"
    )


def checked_labels(labels: np.ndarray, k: int, ignore_index: int, what: str) -> int | None:
    """Check that int ``labels`` lie in ``[0, k)`` or equal ``ignore_index``; returns
    ``ignore_index`` if some label equals it, else None."""
    as_unsigned = labels.view(f"u{labels.dtype.itemsize}")  # negatives become huge
    if labels.size and as_unsigned.max() >= k:
        if (labels[as_unsigned >= k] != ignore_index).any():
            raise ValueError(
                f"{what}: labels must lie in [0, {k}) or equal ignore_index={ignore_index}, "
                f"got {labels.min()}..{labels.max()}"
            )
        return ignore_index
    if 0 <= ignore_index < k and (labels == ignore_index).any():
        return ignore_index
    return None


def _cross_entropy_rows(
    logits: Any,
    target: Any,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
    given: tuple[int, ...] | None = None,
) -> Tensor:
    """The fused primitive on ``(m, k)`` logits, after checking the targets (``given``:
    the caller's logits shape, for messages)."""
    shape = np.shape(unwrap(logits))
    given = shape if given is None else given
    labels = np.asarray(unwrap(target))
    ignore = None
    if labels.dtype.kind in "iu":
        if len(given) == 2 and labels.shape != given[:1]:  # (others: by classes_last)
            raise ValueError(_label_shape_message("cross_entropy", given, labels.shape))
        ignore = checked_labels(labels, shape[1], ignore_index, "cross_entropy")
    elif labels.shape != shape:
        raise ValueError(
            f"cross_entropy: one-hot/probability targets must have the logits' shape {given}, "
            f"got {np.shape(unwrap(target))}"
        )
    target = target if isinstance(target, Tensor) and labels.shape == np.shape(target) else labels
    params = {  # "_": not an op parameter
        "reduction": reduction,
        "ignore_index": ignore,
        "label_smoothing": float(label_smoothing) or None,  # (None: pictures skip it)
        "_residual": {},
    }
    return apply_binary(SOFTMAX_CROSS_ENTROPY, logits, target, params)


#: PyTorch's floor for ``p (1 - p)`` in the BCE gradient, and its clamp for each log.
BCE_EPSILON = 1e-12
LOG_FLOOR = -100.0


def _clamped_log(x: Any) -> Any:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_FLOOR)


def _binary_cross_entropy(prob: np.ndarray, target: Any) -> np.ndarray:
    """``-(y log p + (1 - y) log(1 - p))`` per element, each log clamped at -100."""
    return -(target * _clamped_log(prob) + (1 - target) * _clamped_log(1 - prob))


BINARY_CROSS_ENTROPY = Primitive(
    "binary_cross_entropy",
    _binary_cross_entropy,
    vjps=(
        lambda xp, g, out, p, y: g * (p - y) / xp.maximum((1 - p) * p, BCE_EPSILON),
        lambda xp, g, out, p, y: (
            g * (xp.maximum(xp.log(1 - p), LOG_FLOOR) - xp.maximum(xp.log(p), LOG_FLOOR))
        ),
    ),
    saves=(0, 1),
    doc=(
        "-(y log p + (1-y) log(1-p)), logs clamped at -100;  "
        "dp = (p - y) / max(p (1-p), 1e-12), dy = log(1-p) - log p"
    ),
)


@op(BINARY_CROSS_ENTROPY, method=False)
def binary_cross_entropy(prob: Any, target: Any) -> Tensor:
    """Elementwise binary cross-entropy of probabilities ``prob`` in [0, 1], as PyTorch's:
    each log is clamped at -100 and the gradient's denominator ``p (1 - p)`` at 1e-12, so
    probabilities of exactly 0 or 1 (or float32 values far below any clamp) give a finite
    loss and gradient. Not reduced (``nn.functional.binary_cross_entropy`` reduces)."""
    return apply_binary(BINARY_CROSS_ENTROPY, prob, target)
