"""RMSprop (centered, with momentum), exactly ``torch.optim.RMSprop``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, decay_square_, lerp_, scratch


class RMSprop(Optimizer):
    """RMSprop, exactly ``torch.optim.RMSprop``.

    With gradient ``g`` (``-g`` with ``maximize``; ``+ weight_decay * p`` if set)::

        v = alpha v + (1 - alpha) g²
        a = g_avg + (1 - alpha) (g - g_avg);  d = sqrt(v - a²) + eps   (centered)
        d = sqrt(v) + eps                                               (otherwise)
        b = momentum b + g / d;  p = p - lr b       (momentum > 0)
        p = p - lr g / d                            (otherwise)

    State: ``step square_avg`` (+ ``momentum_buffer`` with momentum, ``grad_avg``
    when centered).
    """

    state_keys = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    elementwise = True
    numbers = ("lr", "alpha", "eps", "weight_decay", "momentum")
    flags = ("centered", "maximize")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        names = ("step", "square_avg")
        names += ("momentum_buffer",) * (group["momentum"] > 0)
        return names + ("grad_avg",) * bool(group["centered"])

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        grad = self._gradient(param, grad, group)
        square_avg = state["square_avg"]
        work = scratch(grad, square_avg)  # one buffer for every intermediate below
        decay_square_(square_avg, grad, alpha, work)  # alpha v + (1 - alpha) g²
        if group["centered"]:
            grad_avg = self._entry(state, "grad_avg", param)
            lerp_(grad_avg, grad, 1 - alpha, work)  # a + (1 - alpha)(g - a)
            np.multiply(grad_avg, grad_avg, out=work)
            np.subtract(square_avg, work, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(square_avg, out=work)
        work += group["eps"]  # the denominator d
        np.divide(grad, work, out=work)
        if momentum > 0:
            buf = self._entry(state, "momentum_buffer", param)
            buf *= momentum
            buf += work
            work[...] = buf
        work *= -group["lr"]
        param.add_(work)
