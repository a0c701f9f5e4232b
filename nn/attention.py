"""``MultiheadAttention`` with PyTorch's parameters, masks and return values.

``num_heads`` heads of size ``d = embed_dim / num_heads``: ``q, k, v`` are the inputs
projected by ``in_proj_weight`` ``(3 E, E)`` (PyTorch's layout; ``q/k/v_proj_weight`` when
``kdim``/``vdim`` differ) plus ``in_proj_bias``, split into heads, attended with
:func:`autograd.scaled_dot_product_attention` (one fused node for all heads), joined and
projected by ``out_proj``, an :class:`nn.Linear` (weight ``(in, out)``, like every Linear
here).

Masks follow PyTorch's MultiheadAttention: a boolean ``attn_mask`` (``(L, S)`` or
``(N num_heads, L, S)``) or ``key_padding_mask`` (``(N, S)``) is True where attention is
*not* allowed; float masks are added to the scores.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .layers import Linear
from .module import Module, Parameter


def _disallowed_as_additive(mask: Any, dtype: Any) -> Any:
    """PyTorch's MultiheadAttention masks as additive ones: boolean True (not allowed) ->
    ``-inf``, False -> 0; float masks unchanged."""
    data = np.asarray(ag.as_tensor(mask).data)
    return np.where(data, -np.inf, 0).astype(dtype) if data.dtype == bool else mask


class MultiheadAttention(Module):
    """Multi-head attention (``torch.nn.MultiheadAttention``): ``forward`` returns
    ``(output, attention weights)``, the weights averaged over the heads unless
    ``average_attn_weights=False``, None when ``need_weights=False``.

    Initialisation as PyTorch's: ``in_proj_weight`` Xavier-uniform, biases 0, ``out_proj``
    like a Linear. ``dropout`` drops attention probabilities while training.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        if num_heads <= 0 or embed_dim <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                f"num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.rng = as_rng(rng)
        e = self.embed_dim
        self._same_embed_dim = self.kdim == e and self.vdim == e
        if self._same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=dtype))
            init.xavier_uniform_(self.in_proj_weight, rng=self.rng)
        else:
            for name, size in (("q", e), ("k", self.kdim), ("v", self.vdim)):
                weight = Parameter(np.empty((e, size), dtype=dtype))
                setattr(self, f"{name}_proj_weight", init.xavier_uniform_(weight, rng=self.rng))
        self.in_proj_bias = Parameter(np.zeros(3 * e, dtype=dtype)) if bias else None
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype, rng=self.rng)
        if bias:
            init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[ag.Tensor, ag.Tensor | None]:
        """Attend from ``query`` ``(L, N, E)`` to ``key``/``value`` ``(S, N, kdim/vdim)``
        (``(N, L, E)``... when ``batch_first``; ``(L, E)`` unbatched). ``is_causal`` is
        PyTorch's hint that ``attn_mask`` is the causal mask (it must be given)."""
        if is_causal and attn_mask is None:
            raise ValueError(
                "MultiheadAttention: need attn_mask if specifying the is_causal hint, e.g. "
                "np.triu(np.ones((L, L), bool), 1) (True above the diagonal: not allowed)"
            )
        inputs = [ag.as_tensor(t) for t in (query, key, value)]
        self._check_inputs(*inputs)
        batched = inputs[0].ndim == 3
        if not batched:  # one sequence: a batch of one
            inputs = [ag.expand_dims(t, 0) for t in inputs]
        elif not self.batch_first:  # the heads are computed batch-first: (N, L, E)
            inputs = [ag.swapaxes(t, 0, 1) for t in inputs]
        q, k, v = self._project(*inputs, query is key and key is value)
        mask = self._mask(attn_mask, key_padding_mask, q.shape, k.shape[-2], batched, q.dtype)
        dropout = self.dropout if self.training else 0.0
        if need_weights:  # composed, as PyTorch's (a fully masked row gives NaN there too)
            scores = (q * (1 / math.sqrt(self.head_dim))) @ ag.swapaxes(k, -1, -2)
            weights = ag.softmax(scores if mask is None else scores + mask, axis=-1)
            weights = F.dropout(weights, dropout, rng=self.rng)
            heads = weights @ v
        else:
            heads = ag.scaled_dot_product_attention(q, k, v, mask, dropout, rng=self.rng)
            weights = None
        n, _, length, _ = heads.shape  # (N, heads, L, d) -> (N, L, E)
        joined = ag.reshape(ag.transpose(heads, (0, 2, 1, 3)), (n, length, self.embed_dim))
        out = self.out_proj(joined)
        if not batched:
            out = ag.squeeze(out, 0)
        elif not self.batch_first:
            out = ag.swapaxes(out, 0, 1)
        if weights is not None:
            weights = weights.mean(axis=1) if average_attn_weights else weights
            weights = weights if batched else ag.squeeze(weights, 0)
        return out, weights

    def _check_inputs(self, q: ag.Tensor, k: ag.Tensor, v: ag.Tensor) -> None:
        dims = {"query": (q, self.embed_dim), "key": (k, self.kdim), "value": (v, self.vdim)}
        for name, (t, size) in dims.items():
            if t.ndim != q.ndim or t.ndim not in (2, 3) or t.shape[-1] != size:
                raise ValueError(
                    f"MultiheadAttention: {name} must be (L, N, {size}) (batch_first: (N, L, "
                    f"{size}); unbatched (L, {size})), got {t.shape} (query {q.shape})"
                )
        batch_axis = 0 if self.batch_first else 1
        if k.shape != v.shape[:-1] + (k.shape[-1],) or (
            q.ndim == 3 and q.shape[batch_axis] != k.shape[batch_axis]
        ):
            raise ValueError(
                f"MultiheadAttention: query {q.shape}, key {k.shape} and value {v.shape} "
                f"must share the batch, and key and value the source length"
            )

    def _project(
        self, query: ag.Tensor, key: ag.Tensor, value: ag.Tensor, self_attention: bool
    ) -> tuple[ag.Tensor, ...]:
        """``q, k, v`` of the batch-first inputs, split into heads: ``(N, heads, len, d)``.
        Self-attention projects once with the packed ``(3 E, E)`` weight."""
        e, b = self.embed_dim, self.in_proj_bias
        if self_attention and self._same_embed_dim:
            packed = ag.linear(query, ag.transpose(self.in_proj_weight), b)
            projected = [packed[..., i * e : (i + 1) * e] for i in range(3)]
        else:
            if self._same_embed_dim:
                weights = [self.in_proj_weight[i * e : (i + 1) * e] for i in range(3)]
            else:
                weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
            biases = [None] * 3 if b is None else [b[i * e : (i + 1) * e] for i in range(3)]
            projected = [
                ag.linear(x, ag.transpose(w), bias)
                for x, w, bias in zip((query, key, value), weights, biases)
            ]
        n = query.shape[0]
        return tuple(
            ag.transpose(
                ag.reshape(t, (n, t.shape[1], self.num_heads, self.head_dim)), (0, 2, 1, 3)
            )
            for t in projected
        )

    def _mask(
        self,
        attn_mask: Any,
        key_padding_mask: Any,
        q_shape: tuple[int, ...],
        source: int,
        batched: bool,
        dtype: Any,
    ) -> Any:
        """One additive mask for the ``(N, heads, L, S)`` scores, or None."""
        n, heads, length, _ = q_shape
        scores = (n, heads, length, source)
        mask = None
        if attn_mask is not None:
            shape = np.shape(ag.as_tensor(attn_mask).data)
            if shape not in ((length, source), (n * heads, length, source)):
                raise ValueError(
                    f"MultiheadAttention: attn_mask must have shape {(length, source)} or "
                    f"{(n * heads, length, source)} (L, S or N * num_heads, L, S), got {shape}"
                )
            mask = _disallowed_as_additive(attn_mask, dtype)
            if len(shape) == 3:
                mask = ag.reshape(mask, scores)
        if key_padding_mask is not None:
            shape = np.shape(ag.as_tensor(key_padding_mask).data)
            expected = (n, source) if batched else (source,)
            if shape != expected:
                raise ValueError(
                    f"MultiheadAttention: key_padding_mask must have shape {expected} (N, S), "
                    f"got {shape}"
                )
            padding = ag.reshape(
                _disallowed_as_additive(key_padding_mask, dtype), (n, 1, 1, source)
            )
            mask = padding if mask is None else mask + padding
        return mask  # its parts have the shapes checked above: it fits the scores

    def extra_repr(self) -> str:
        """``embed_dim, num_heads`` and the options that differ from the defaults."""
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text + (", batch_first=True" if self.batch_first else "")
