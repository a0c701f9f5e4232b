"""``LayerNorm``: normalisation over the trailing axes with learnable scale and shift."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from .module import Module, Parameter


class LayerNorm(Module):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the trailing ``normalized_shape``.

    As PyTorch: ``weight`` starts at ones and ``bias`` at zeros (``elementwise_affine``
    and ``bias`` switch them off); the variance is the biased one. One fused primitive
    (:func:`autograd.layer_norm`). ``rng`` is accepted as by every layer with
    parameters; the initialisation draws nothing.
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else normalized_shape
        self.normalized_shape = tuple(int(n) for n in shape)
        if not self.normalized_shape or min(self.normalized_shape) <= 0:
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}"
            )
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))

    def forward(self, x: Any) -> ag.Tensor:
        """Normalise ``x`` over its trailing ``normalized_shape`` axes."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """``normalized_shape, eps=..., elementwise_affine=...``."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
