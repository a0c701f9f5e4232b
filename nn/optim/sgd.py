"""Stochastic gradient descent with momentum, exactly ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, exactly ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g`` (``-g`` with ``maximize``)::

        g = g + weight_decay * p                              (if weight_decay)
        b = g (first step),  b = momentum * b + (1 - dampening) * g    (if momentum)
        g = g + momentum * b (nesterov)  or  g = b            (if momentum)
        p = p - lr * g

    ``dampening`` and ``maximize`` are keyword-only here (PyTorch's positional order
    puts ``dampening`` before ``weight_decay``). The momentum buffer is the state
    entry ``momentum_buffer``, created at the first step with momentum.
    """

    state_keys = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        dampening: float = 0.0,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening}
        defaults |= {"weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    elementwise = True
    numbers = ("lr", "momentum", "dampening", "weight_decay")
    flags = ("nesterov", "maximize")

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ()  # the momentum buffer is the first step's gradient, made then

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict) -> None:
        momentum = group["momentum"]
        grad = self._gradient(param, grad, group)
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
            else:
                buf *= momentum
                buf += grad if not group["dampening"] else (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])
