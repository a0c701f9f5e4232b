"""``Embedding``: a lookup table of learnable vectors, one per token id."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .checks import check_size
from .module import Module, Parameter


class Embedding(Module):
    """``weight[indices]`` with ``weight`` of shape ``(num_embeddings, embedding_dim)``.

    As PyTorch: ``weight`` starts as ``N(0, 1)`` draws (from ``rng``), and the
    ``padding_idx`` row (if given) starts at zero and receives no gradient, so it stays
    the padding vector. Indices outside ``[0, num_embeddings)`` raise ``IndexError``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        init.normal_(self.weight, rng=as_rng(rng))
        if padding_idx is not None:
            with ag.no_grad():
                self.weight[padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of the 2-d ``embeddings``; ``freeze`` keeps it fixed
        (``weight.requires_grad`` False), as PyTorch's."""
        values = np.array(ag.as_tensor(embeddings).data, copy=True)
        if values.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-d, got {values.shape}"
            )
        module = cls(*values.shape, padding_idx=padding_idx, dtype=values.dtype, rng=0)
        module.weight = Parameter(values, requires_grad=not freeze)
        return module

    def forward(self, indices: Any) -> ag.Tensor:
        """The rows of ``weight`` at ``indices``: shape ``indices.shape + (embedding_dim,)``."""
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        """``num_embeddings, embedding_dim[, padding_idx=...]``."""
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
