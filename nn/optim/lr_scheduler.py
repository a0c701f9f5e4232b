"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``: ``StepLR LambdaLR
ExponentialLR CosineAnnealingLR OneCycleLR``.

A scheduler sets ``group["lr"]`` in its optimizer's parameter groups. Building one
notes each group's starting rate as ``group["initial_lr"]`` (the ``base_lrs``) and
applies epoch 0; each ``step()``, called after ``optimizer.step()``, advances
``last_epoch`` by one and sets the rates for it; ``get_last_lr()`` returns them.
Where PyTorch computes a rate from the group's current rate (StepLR, ExponentialLR,
CosineAnnealingLR: "chainable" forms that compose with other changes of the rate),
so does this module, with PyTorch's arithmetic in PyTorch's order: the rates equal
PyTorch's to the last bit. ``state_dict()``/``load_state_dict()`` save and restore
the schedule's position (save the optimizer's state too).
"""

from __future__ import annotations

import copy
import math
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from autograd.ops.inplace import update

from ..checks import check_size
from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``base_lrs``, ``last_epoch``, ``step()``, ``get_last_lr()``, state dicts.

    A subclass implements ``get_lr()``: the rates for the (already advanced)
    ``last_epoch``, one per parameter group. ``last_epoch=-1`` starts a schedule;
    another value resumes one and needs ``initial_lr`` in every group (restore the
    optimizer's state first).
    """

    #: Attributes that ``state_dict`` leaves out.
    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _require_optimizer(type(self).__name__, optimizer)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming a scheduler with last_epoch >= 0: load the optimizer's "
                        f"state_dict first, or start with last_epoch=-1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for ``last_epoch`` (``step()`` calls it; read rates with
        :meth:`get_last_lr`)."""
        raise NotImplementedError

    def _check_in_step(self) -> None:
        if not self._in_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()` (get_lr() computes the next one from the current rates)",
                UserWarning,
                stacklevel=3,
            )

    def step(self) -> None:
        """Advance ``last_epoch`` by one and set every group's rate for it."""
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`: call "
                "`optimizer.step()` first, else the first value of the learning rate "
                "schedule is skipped (PyTorch's order since 1.1.0)",
                UserWarning,
                stacklevel=2,
            )
        update(self._advance)  # one call, which a compiled step makes again (ag.compile)

    def _advance(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        self._in_step = True
        try:
            rates = self.get_lr()
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = self._rates()

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set (one per parameter group)."""
        return list(self._last_lr)

    def _rates(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (copies), as PyTorch's."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the keys must be this scheduler's)."""
        own, given = set(self.state_dict()), set(state_dict)
        if own != given:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected the keys {sorted(own)}, "
                f"got {sorted(given)} (a state from another kind of scheduler?)"
            )
        saved = {k: v for k, v in state_dict.items() if k not in self._not_saved}
        self.__dict__.update(copy.deepcopy(saved))


def _require_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an nn.optim optimizer, got {type(optimizer).__name__}")
    return optimizer


def _per_group(name: str, value: Any, optimizer: Optimizer) -> list[Any]:
    """``value`` for each parameter group: a list of one per group, or one for all."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups: "
                f"{name} has {len(value)} values, param_groups has {count}"
            )
        return list(value)
    return [value] * count


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs:
    ``lr = base_lr * gamma ** (last_epoch // step_size)``."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = check_size("StepLR", "step_size", step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current rates, times ``gamma`` at a multiple of ``step_size``."""
        self._check_in_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._rates()
        return [lr * self.gamma for lr in self._rates()]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(last_epoch)``; ``lr_lambda`` is one function or one per
    group. ``state_dict`` saves the ``__dict__`` of callable objects, not functions."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _per_group("lr_lambda", lr_lambda, optimizer)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``base_lr * lr_lambda(last_epoch)`` for each group."""
        self._check_in_step()
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    _not_saved = ("optimizer", "lr_lambdas")

    def state_dict(self) -> dict[str, Any]:
        """As the base, with ``lr_lambdas`` saved as the callable objects' ``__dict__``
        (None for plain functions and lambdas), as PyTorch's."""
        saved = [
            None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return {**super().state_dict(), "lr_lambdas": saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As the base; saved callable objects' attributes are restored into ours."""
        saved = state_dict.get("lr_lambdas")
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict: expected 'lr_lambdas', a list of "
                f"{len(self.lr_lambdas)} entries"
            )
        super().load_state_dict(state_dict)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(copy.deepcopy(attributes))


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr = base_lr * gamma ** last_epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current rates times ``gamma`` (unchanged at the start)."""
        self._check_in_step()
        if self._is_initial:
            return self._rates()
        return [lr * self.gamma for lr in self._rates()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_max`` epochs (SGDR
    without restarts; past ``T_max`` the rate rises again, as PyTorch's):

        lr = eta_min + (base_lr - eta_min) (1 + cos(π last_epoch / T_max)) / 2

    computed as PyTorch does, from the current rate at each step.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.T_max = check_size("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The next rates by PyTorch's recursive form of the cosine schedule."""
        self._check_in_step()
        if self._is_initial:
            return self._rates()
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (epoch - 1 - period) % (2 * period) == 0:  # the lowest point: step back up
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / period)) / 2
                for base, lr in zip(self.base_lrs, self._rates())
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (
            1 + math.cos(math.pi * (epoch - 1) / period)
        )
        return [ratio * (lr - eta_min) + eta_min for lr in self._rates()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), PyTorch's ``OneCycleLR`` with its defaults.

    Over ``total_steps`` (or ``epochs * steps_per_epoch``) steps, call ``step()``
    after every batch. The rate rises from ``max_lr / div_factor`` to ``max_lr``
    during the first ``pct_start`` of the steps, then falls to ``initial_lr /
    final_div_factor`` (``anneal_strategy`` ``"cos"`` or ``"linear"``); with
    ``three_phase`` it falls back to the initial rate first, then to the minimum.
    With ``cycle_momentum`` the momentum (SGD/RMSprop ``momentum``, Adam's ``beta1``)
    moves the opposite way between ``max_momentum`` and ``base_momentum``. Sets
    ``initial_lr``, ``max_lr``, ``min_lr`` (and ``max_momentum``, ``base_momentum``)
    in each group. Stepping past ``total_steps`` raises ``ValueError``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _require_optimizer("OneCycleLR", optimizer)  # (its groups are read before the base's)
        if total_steps is not None:
            self.total_steps = check_size("OneCycleLR", "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            epochs = check_size("OneCycleLR", "epochs", epochs)
            self.total_steps = epochs * check_size("OneCycleLR", "steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if isinstance(pct_start, bool) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        self._schedule_phases = self._phases(float(pct_start), three_phase)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group("max_lr", max_lr, optimizer)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"optimizer must support momentum or beta1 with `cycle_momentum` option "
                    f"enabled ({type(optimizer).__name__} has neither: pass "
                    f"cycle_momentum=False)"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                tops = _per_group("max_momentum", max_momentum, optimizer)
                bases = _per_group("base_momentum", base_momentum, optimizer)
                for group, top, base in zip(optimizer.param_groups, tops, bases):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer, last_epoch)

    def _phases(self, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
        """Each phase: the step it ends at and the group keys it anneals between."""
        total = self.total_steps

        def phase(end: float, lr: tuple[str, str], momentum: tuple[str, str]) -> dict[str, Any]:
            return {"end_step": end, "start_lr": lr[0], "end_lr": lr[1],
                    "start_momentum": momentum[0], "end_momentum": momentum[1]}  # fmt: skip

        up, down = ("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")
        if three_phase:
            return [
                phase(float(pct_start * total) - 1, ("initial_lr", "max_lr"), up),
                phase(float(2 * pct_start * total) - 2, ("max_lr", "initial_lr"), down),
                phase(total - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
            ]
        return [
            phase(float(pct_start * total) - 1, ("initial_lr", "max_lr"), up),
            phase(total - 1, ("max_lr", "min_lr"), down),
        ]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        """The rate (and momentum) of the current phase at ``last_epoch``."""
        self._check_in_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        rates = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    rates.append(
                        self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    )
                    if self.cycle_momentum:
                        momentum = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        self._set_momentum(group, momentum)
                    break
                start = phase["end_step"]
        return rates
