"""Adam and AdamW (with AMSGrad), exactly ``torch.optim.Adam`` / ``torch.optim.AdamW``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_hyper, decay_square_, in_dtype, lerp_, scratch


class Adam(Optimizer):
    """Adam, exactly ``torch.optim.Adam``.

    At step ``t`` (the 0-d array ``state["step"]``) with gradient ``g`` (``-g`` with
    ``maximize``)::

        g = g + weight_decay * p   (L2),  or  p = p (1 - lr weight_decay)  (decoupled)
        m = m + (1 - b1) (g - m)               (PyTorch's lerp: b1 m + (1 - b1) g)
        v = b2 v + (1 - b2) g²
        v̂ = max(v̂, v) with amsgrad, else v̂ = v
        p = p - (lr / (1 - b1^t)) m / (sqrt(v̂) / sqrt(1 - b2^t) + eps)

    The bias corrections are computed from the step count at every step. State:
    ``step exp_avg exp_avg_sq`` (+ ``max_exp_avg_sq`` with ``amsgrad``).
    """

    state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        defaults |= {"amsgrad": amsgrad, "maximize": maximize}
        super().__init__(params, {**defaults, "decoupled_weight_decay": decoupled_weight_decay})

    elementwise = True
    numbers = ("lr", "eps", "weight_decay")
    flags = ("amsgrad", "maximize", "decoupled_weight_decay")

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        name, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair, got {betas!r}")
        for i in range(2):
            check_hyper(name, f"beta parameter at index {i}:", betas[i], 0, 1, True)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        names = ("step", "exp_avg", "exp_avg_sq")
        return (*names, "max_exp_avg_sq") if group["amsgrad"] else names

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict) -> None:
        lr, (beta1, beta2), step = group["lr"], group["betas"], state["step"]
        decoupled = group["decoupled_weight_decay"]
        if decoupled and group["weight_decay"]:
            param.mul_(1 - lr * group["weight_decay"])
        grad = self._gradient(param, grad, group, l2=not decoupled)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        work = scratch(grad, exp_avg)  # one buffer for every intermediate below
        lerp_(exp_avg, grad, 1 - beta1, work)  # m + (1 - b1)(g - m)
        decay_square_(exp_avg_sq, grad, beta2, work)  # b2 v + (1 - b2) g²
        if group["amsgrad"]:
            max_exp_avg_sq = self._entry(state, "max_exp_avg_sq", param)
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        np.sqrt(exp_avg_sq, out=work)
        work /= in_dtype((1 - beta2**step) ** 0.5, param)
        work += group["eps"]  # sqrt(v̂) / sqrt(1 - b2^t) + eps
        np.divide(exp_avg, work, out=work)
        work *= in_dtype(-lr / (1 - beta1**step), param)
        param.add_(work)


class AdamW(Adam):
    """AdamW, exactly ``torch.optim.AdamW``: Adam with decoupled weight decay.

    Each step first shrinks ``p = p (1 - lr weight_decay)``, then applies the Adam
    update with the raw gradient (no decay term in ``g``). Default weight decay 1e-2.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
            decoupled_weight_decay=True,
        )  # fmt: skip
