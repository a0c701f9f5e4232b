"""Loss modules: ``loss_fn = nn.CrossEntropyLoss(); loss = loss_fn(logits, y)``.

Each holds a ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) and calls the
function of the same name in :mod:`nn.functional`.
"""

from __future__ import annotations

from typing import Any

import autograd as ag

from . import functional as F  # noqa: N812 - PyTorch's alias
from .module import Module


class _Loss(Module):
    """A loss ``function(input, target, reduction)`` as a module."""

    function: Any  # a staticmethod of nn.functional, set by each subclass

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {F.REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> ag.Tensor:  # noqa: A002 - PyTorch's name
        """The loss of ``input`` against ``target``."""
        return self.function(input, target, self.reduction)

    def extra_repr(self) -> str:
        """``reduction=...``."""
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against int labels or one-hot targets.

    See :func:`nn.functional.cross_entropy`; gradient ``(S - I_y)/m`` for ``"mean"``.
    """

    function = staticmethod(F.cross_entropy)


class MSELoss(_Loss):
    """Squared error ``(input - target)²`` (no ½), see :func:`nn.functional.mse_loss`."""

    function = staticmethod(F.mse_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, see :func:`nn.functional.binary_cross_entropy`."""

    function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, stable form; gradient ``sigmoid(z) - y``.

    See :func:`nn.functional.binary_cross_entropy_with_logits`.
    """

    function = staticmethod(F.binary_cross_entropy_with_logits)
