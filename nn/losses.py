"""Loss modules: ``loss_fn = nn.CrossEntropyLoss(); loss = loss_fn(logits, y)``.

Each holds a ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``) and any options of its
function (``ignore_index``, ``beta``, ...), and calls the function of the same name in
:mod:`nn.functional`.
"""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd.ops.neural import check_reduction

from . import functional as F  # noqa: N812 - PyTorch's alias
from .module import Module


class _Loss(Module):
    """A loss ``function(input, target, reduction)`` as a module."""

    function: Any  # a staticmethod of nn.functional, set by each subclass

    def __init__(self, reduction: str = "mean", **options: Any) -> None:
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.reduction = reduction
        self.options = options  # the function's keyword arguments

    def forward(self, input: Any, target: Any) -> ag.Tensor:  # noqa: A002 - PyTorch's name
        """The loss of ``input`` against ``target``."""
        return self.function(input, target, self.reduction, **self.options)

    def extra_repr(self) -> str:
        """``reduction=...`` and the options."""
        return ", ".join(
            [f"reduction={self.reduction!r}"] + [f"{k}={v!r}" for k, v in self.options.items()]
        )


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against int labels or one-hot targets.

    See :func:`nn.functional.cross_entropy`; gradient ``(S - I_y)/m`` for ``"mean"``.
    """

    function = staticmethod(F.cross_entropy)

    def __init__(
        self, reduction: str = "mean", ignore_index: int = -100, label_smoothing: float = 0.0
    ) -> None:
        super().__init__(reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)


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


class NLLLoss(_Loss):
    """Negative log likelihood of log-probabilities, see :func:`nn.functional.nll_loss`."""

    function = staticmethod(F.nll_loss)

    def __init__(self, reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction, ignore_index=ignore_index)


class L1Loss(_Loss):
    """Absolute error ``|input - target|``, see :func:`nn.functional.l1_loss`."""

    function = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above, see :func:`nn.functional.smooth_l1_loss`."""

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction, beta=beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, ``delta``-linear above, see :func:`nn.functional.huber_loss`."""

    function = staticmethod(F.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction, delta=delta)
