"""The smooth activations as modules: ``GELU SiLU Softplus ELU LogSigmoid``.

Each calls the engine primitive of the same name (one graph node, a closed-form VJP
that does not overflow), as :mod:`nn.layers` does for ``ReLU`` and ``Tanh``.
"""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd.ops.activation import check_gelu_approximation

from . import functional as F  # noqa: N812 - PyTorch's alias
from .module import Module


class GELU(Module):
    """``x Phi(x)`` (``approximate="tanh"``: PyTorch's tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        check_gelu_approximation("GELU", approximate)
        self.approximate = approximate

    def forward(self, x: Any) -> ag.Tensor:
        """Apply GELU."""
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        """``approximate=...``."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x sigmoid(x)`` (swish)."""

    def forward(self, x: Any) -> ag.Tensor:
        """Apply SiLU."""
        return F.silu(x)


class Softplus(Module):
    """``log(1 + e^(beta x)) / beta``, linear where ``beta x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must be nonzero")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Any) -> ag.Tensor:
        """Apply softplus."""
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """``beta=..., threshold=...``."""
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """``x`` for ``x > 0``, else ``alpha (e^x - 1)``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> ag.Tensor:
        """Apply ELU."""
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        """``alpha=...``."""
        return f"alpha={self.alpha}"


class LogSigmoid(Module):
    """``log sigmoid(x)``, stable for large ``|x|``."""

    def forward(self, x: Any) -> ag.Tensor:
        """Apply log-sigmoid."""
        return F.logsigmoid(x)
