"""Scaled dot-product attention as one fused primitive.

For queries ``q`` ``(..., L, E)``, keys ``k`` ``(..., S, E)`` and values ``v`` ``(..., S, Ev)``:
``P = softmax(q k^T c + M)`` over the keys (``c`` the scale, ``1/sqrt(E)`` by default;
``M`` an additive mask, ``-inf`` where a query may not look), ``A = P D`` (``D`` the
dropout mask, scaled by ``1/(1 - p)``), ``out = A v``. With ``G = d out``:

- ``dv = A^T G``, ``dA = G v^T``, ``dP = dA D``;
- ``dS = P (dP - sum_keys(dP P))`` (the softmax VJP), ``dq = dS k c``, ``dk = dS^T q c``,
  and ``dM = dS`` for a float mask that requires grad.

One node instead of six, and the ``(..., L, S)`` probabilities are the only thing kept
besides the inputs. A query row whose keys are all masked gets probabilities 0 (output
0), as PyTorch's ``scaled_dot_product_attention``. The mask and the dropout mask are
inputs of the node (not parameters), so a recorded program reads each call's own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply
from ..random import Rng, draw
from ..tensor import Tensor, unwrap
from .elementwise import astype, greater_equal


def _safe_softmax(xp: Any, scores: Any) -> Any:
    """Softmax over the last axis; a row that is all ``-inf`` gives zeros, not NaN."""
    shift = scores.max(axis=-1, keepdims=True)
    exp = xp.exp(scores - xp.where(shift > -np.inf, shift, 0))
    total = exp.sum(axis=-1, keepdims=True)
    return exp / xp.where(total > 0, total, 1)


def _scores(q: Any, k: Any, mask: Any, scale: float) -> Any:
    """``q k^T scale + mask``."""
    scores = (q * scale) @ k.swapaxes(-1, -2)
    return scores if mask is None else scores + mask


def _attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: Any,
    keep: Any,
    scale: float,
    _residual: dict[str, Any],
) -> np.ndarray:
    scores = _scores(q, k, None, scale)
    if mask is not None:
        scores += mask  # (a fresh array: in place, the mask broadcast)
    # softmax in place; a fully masked row (max -inf) becomes zeros: with its shift set to
    # the lowest float, every e^(-inf) is 0, and its sum 0 is divided as 1
    shift = scores.max(axis=-1, keepdims=True)
    np.maximum(shift, np.finfo(scores.dtype).min, out=shift)
    scores -= shift
    probs = np.exp(scores, out=scores)
    total = probs.sum(axis=-1, keepdims=True)
    probs /= np.maximum(total, 1, out=total)  # a row with a finite max sums to >= 1
    _residual["probs"] = probs
    return (probs if keep is None else probs * keep) @ v


def _attention_vjp(
    xp: Any,
    g: Any,
    out: Any,
    q: Any,
    k: Any,
    v: Any,
    mask: Any,
    keep: Any,
    scale: float,
    _residual: dict[str, Any],
) -> tuple[Any, ...]:
    if not isinstance(q, Tensor):  # first order: the forward's probabilities
        probs = _residual["probs"]
    else:
        probs = _safe_softmax(xp, _scores(q, k, mask, scale))
    weights = probs if keep is None else probs * keep
    dv = weights.swapaxes(-1, -2) @ g
    dp = g @ v.swapaxes(-1, -2)
    if keep is not None:
        dp = dp * keep
    ds = probs * (dp - (dp * probs).sum(axis=-1, keepdims=True))
    return (ds @ k) * scale, (ds.swapaxes(-1, -2) @ q) * scale, dv, ds, None


ATTENTION = Primitive(
    "scaled_dot_product_attention",
    _attention,
    vjp=_attention_vjp,
    saves=(0, 1, 2, 3, 4),
    doc="softmax(q k^T c + M) v;  dS = P (dP - sum dP P), dq = dS k c, dk = dS^T q c, dv = P^T G",
)


def attention_shapes(q: Any, k: Any, v: Any, what: str) -> tuple[int, ...]:
    """The scores' shape ``(..., L, S)`` for ``q`` ``(..., L, E)``, ``k`` ``(..., S, E)``,
    ``v`` ``(..., S, Ev)``; ``ValueError`` naming ``what`` and the shapes otherwise."""
    qs, ks, vs = (np.shape(unwrap(t)) for t in (q, k, v))
    try:
        batch = np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
        fits = min(len(qs), len(ks), len(vs)) >= 2 and qs[-1] == ks[-1] and ks[-2] == vs[-2]
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{what}: query (..., L, E), key (..., S, E) and value (..., S, Ev) do not fit: "
            f"got query {qs}, key {ks}, value {vs}"
        )
    return (*batch, qs[-2], ks[-2])


def additive_mask(mask: Any, scores_shape: tuple[int, ...], dtype: Any, what: str) -> Any:
    """A boolean mask (True: the query may look at the key) as ``0 / -inf`` of ``dtype``;
    a float mask as it is (a Tensor stays one, so it can be differentiated). Either must
    broadcast to the scores' shape ``(..., L, S)``, else ``ValueError`` naming ``what``."""
    shape = np.shape(unwrap(mask))
    try:
        fits = np.broadcast_shapes(shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{what}: a mask of shape {shape} does not broadcast to the attention scores' "
            f"shape {scores_shape} (batch..., L queries, S keys)"
        )
    if np.asarray(unwrap(mask)).dtype == bool:
        return _allowed_as_additive(unwrap(mask), dtype)
    return mask


def _allowed_as_additive(allowed: Any, dtype: Any) -> np.ndarray:
    """A boolean mask as ``0`` where True (the query may look) and ``-inf`` elsewhere."""
    return np.where(allowed, 0, -np.inf).astype(dtype)


@op(ATTENTION, method=False)
def scaled_dot_product_attention(
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    rng: Rng = None,
) -> Tensor:
    """``softmax(q k^T / sqrt(E) + mask) v`` over the keys, fused, as PyTorch's.

    ``q`` ``(..., L, E)``, ``k`` ``(..., S, E)``, ``v`` ``(..., S, Ev)`` -> ``(..., L, Ev)``.
    ``attn_mask``: boolean (True where a query may look at a key) or float (added to the
    scores), broadcasting to ``(..., L, S)``. ``is_causal``: query ``i`` sees keys
    ``j <= i`` (combined with ``attn_mask`` if both are given). ``dropout_p``: dropout on
    the probabilities, drawn from ``rng``. ``scale`` replaces ``1/sqrt(E)``.
    """
    what = "scaled_dot_product_attention"
    shape = attention_shapes(q, k, v, what)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{what}: dropout_p must be in [0, 1), got {dropout_p}")
    dtype = np.result_type(unwrap(q), unwrap(k), unwrap(v))
    mask = None if attn_mask is None else additive_mask(attn_mask, shape, dtype, what)
    if is_causal:
        causal = _allowed_as_additive(np.tri(shape[-2], shape[-1], dtype=bool), dtype)
        mask = causal if mask is None else mask + causal
    keep = None
    if dropout_p > 0:
        drawn = greater_equal(draw(rng, "random", shape), dropout_p)  # ops: compiled calls redraw
        keep = astype(drawn / np.asarray(1 - dropout_p, dtype), dtype)
    scale = 1 / math.sqrt(np.shape(unwrap(q))[-1]) if scale is None else float(scale)
    params = {"scale": scale, "_residual": {}}
    return apply(ATTENTION, (q, k, v, mask, keep), params)
