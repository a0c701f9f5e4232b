"""``TransformerEncoderLayer`` and ``TransformerEncoder``, as PyTorch's.

A layer is self-attention then a two-layer feed-forward network, each with dropout, a
residual connection and a LayerNorm: post-norm (``norm_first=False``, the original
transformer) ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``, or pre-norm
``x = x + sa(norm1(x)); x = x + ff(norm2(x))``. Sub-modules and their names are
PyTorch's (``self_attn linear1 dropout linear2 norm1 norm2 dropout1 dropout2``), so a
state dict maps onto ``torch.nn.TransformerEncoderLayer``'s by name (the Linear weights
transposed: ours are ``(in, out)``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from .attention import MultiheadAttention
from .checks import check_size
from .layer_norm import LayerNorm
from .layers import Dropout, Linear
from .module import Module, Sequential

#: Activations a layer accepts by name (PyTorch's two).
ACTIVATIONS: dict[str, Callable[[Any], ag.Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and feed-forward blocks with residuals and LayerNorm (see the module
    docstring); ``activation`` is ``"relu"``, ``"gelu"`` or a callable (a Module is
    registered as ``activation``)."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Any], Any] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        rng = as_rng(rng)
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(
                    f"TransformerEncoderLayer: activation must be one of {sorted(ACTIVATIONS)} "
                    f"or a callable, got {activation!r}"
                )
            activation = ACTIVATIONS[activation]
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, rng=rng
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=dtype, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=dtype, rng=rng)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.activation = activation

    def forward(
        self,
        src: Any,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> ag.Tensor:
        """The layer on ``src`` ``(S, N, d_model)`` (``(N, S, d_model)`` when
        ``batch_first``; ``(S, d_model)`` unbatched); masks as ``MultiheadAttention``'s
        (``is_causal``: the hint that ``src_mask`` is the causal mask)."""
        x = ag.as_tensor(src)
        if x.ndim not in (2, 3) or x.shape[-1] != self.self_attn.embed_dim:
            raise ValueError(
                f"TransformerEncoderLayer: src must be (S, N, {self.self_attn.embed_dim}) "
                f"(batch_first: (N, S, d_model); unbatched (S, d_model)), got {x.shape}"
            )
        masks = (src_mask, src_key_padding_mask, is_causal)
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), *masks)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._self_attention(x, *masks))
        return self.norm2(x + self._feed_forward(x))

    def _self_attention(self, x: Any, mask: Any, padding: Any, is_causal: bool) -> ag.Tensor:
        out, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )
        return self.dropout1(out)

    def _feed_forward(self, x: Any) -> ag.Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def extra_repr(self) -> str:
        """``norm_first=True`` when pre-norm."""
        return "norm_first=True" if self.norm_first else ""


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.

    As PyTorch's, the copies start with the same weights (deep copies) and are the
    children ``layers.0``, ``layers.1``, ...; random generators are shared, not copied,
    so dropout masks differ between layers. ``enable_nested_tensor`` is accepted for
    compatibility (a PyTorch speed option; nothing to switch here).
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
    ) -> None:
        super().__init__()
        num_layers = check_size("TransformerEncoder", "num_layers", num_layers)
        generators = {
            id(value): value
            for module in encoder_layer.modules()
            for value in vars(module).values()
            if isinstance(value, np.random.Generator)
        }
        self.layers = Sequential(
            *(copy.deepcopy(encoder_layer, dict(generators)) for _ in range(num_layers))
        )
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: Any,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> ag.Tensor:
        """Every layer on ``src`` with the same masks, then ``norm``."""
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask, bool(is_causal))
        return x if self.norm is None else self.norm(x)
