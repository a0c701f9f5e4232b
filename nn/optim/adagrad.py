"""Adagrad, exactly ``torch.optim.Adagrad``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, in_dtype, scratch


class Adagrad(Optimizer):
    """Adagrad, exactly ``torch.optim.Adagrad``.

    At step ``t`` with gradient ``g`` (``-g`` with ``maximize``; ``+ weight_decay * p``
    if set)::

        lr_t = lr / (1 + (t - 1) lr_decay)
        s = s + g²                       (s starts at initial_accumulator_value)
        p = p - lr_t g / (sqrt(s) + eps)

    State: ``step sum``, made at a parameter's first step (PyTorch makes it when the
    optimizer is built; the values are the same).
    """

    state_keys = ("step", "sum")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay}
        defaults |= {"initial_accumulator_value": initial_accumulator_value, "eps": eps}
        super().__init__(params, {**defaults, "maximize": maximize})

    elementwise = True
    numbers = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    flags = ("maximize",)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, np.ndarray]:
        state = super()._init_state(param, group)
        state["sum"] += group["initial_accumulator_value"]
        return state

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict) -> None:
        grad = self._gradient(param, grad, group)
        state_sum = state["sum"]
        work = scratch(grad, state_sum)  # one buffer for every intermediate below
        np.multiply(grad, grad, out=work)
        state_sum += work  # s + g²
        np.sqrt(state_sum, out=work)
        work += group["eps"]
        np.divide(grad, work, out=work)
        work *= in_dtype(-group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"]), param)
        param.add_(work)
