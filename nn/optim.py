"""Optimizers with ``torch.optim``'s update rules: SGD (momentum, Nesterov), Adam, AdamW.

Usage::

    opt = nn.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()

``params`` is an iterable of parameters, or of dicts ``{"params": [...], "lr": ...}``
(parameter groups with their own hyper-parameters). ``step()`` updates ``p.data``
in place under ``no_grad`` through the Tensor in-place methods (so version counters
bump, and a graph that saved an old value refuses to backward); parameters whose
``grad`` is None are skipped. ``state_dict()`` / ``load_state_dict()`` save and
restore the per-parameter state (keyed by the parameter's index, as PyTorch) and
the hyper-parameters.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd as ag
from autograd.ops.inplace import update


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, state dicts.

    Subclasses set ``state_keys`` and implement ``_check(group)`` and
    ``_update(param, grad, state, group)``.
    """

    state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}  # flat parameter index -> its state
        if isinstance(params, ag.Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors (e.g. "
                f"model.parameters() or [w]), got a single Tensor"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add ``{"params": [...], **hyper_parameters}``; missing ones take the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{type(self).__name__}: a parameter group must be a dict with a 'params' "
                f"entry, got {group!r}"
            )
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown hyper-parameter(s) {sorted(unknown)}; "
                f"valid ones are {sorted(self.defaults)}"
            )
        params = group["params"]
        params = [params] if isinstance(params, ag.Tensor) else list(params)
        known = {id(p) for p in self._params()}
        for p in params:
            if not isinstance(p, ag.Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
            if id(p) in known:
                raise ValueError(
                    f"{type(self).__name__}: some parameters appear more than once "
                    f"(in this group or in two groups)"
                )
            known.add(id(p))
        merged = {**self.defaults, **group, "params": params}
        self._check(merged)
        self.param_groups.append(merged)

    def _params(self) -> list[Any]:
        return [p for group in self.param_groups for p in group["params"]]

    def _check(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update(self, param: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``None``, or zeros if not ``set_to_none``)."""
        for p in self._params():
            p.grad = None if set_to_none else np.zeros_like(p.data)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        update(self._step)  # one call a compiled step makes again (reading groups, state afresh)

    def _step(self) -> None:
        index = 0
        states = self.state
        with ag.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is not None:
                        state = states.get(index)
                        if state is None:
                            state = states[index] = {}
                        self._update(p, grad.data, state, group)
                    index += 1

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The state and hyper-parameters, as PyTorch lays them out.

        ``{"state": {index: {name: copy}}, "param_groups": [{**hyper, "params": [indices]}]}``.
        """
        groups = []
        start = 0
        for group in self.param_groups:
            n = len(group["params"])
            hyper = {k: v for k, v in group.items() if k != "params"}
            groups.append({**hyper, "params": list(range(start, start + n))})
            start += n
        return {"state": copy.deepcopy(self.state), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and hyper-parameters saved by ``state_dict()``.

        Everything is checked first (group and parameter counts, state names and
        shapes, hyper-parameter values); on error nothing changes.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and "
                f"'param_groups' (from state_dict()), got {type(state_dict).__name__}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter "
                f"groups, this optimizer has {len(self.param_groups)}"
            )
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {i} has {len(saved['params'])} "
                    f"parameters in the state, {len(group['params'])} in this optimizer"
                )
            merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            if set(merged) != set(group):
                raise ValueError(
                    f"{name}.load_state_dict: group {i} has hyper-parameters "
                    f"{sorted(set(merged) - {'params'})}, expected {sorted(self.defaults)}"
                )
            self._check(merged)
            new_groups.append(merged)
        params = self._params()
        new_state = {}
        for key, entry in state_dict["state"].items():
            if not isinstance(key, (int, np.integer)) or not 0 <= key < len(params):
                raise ValueError(
                    f"{name}.load_state_dict: state key {key!r} is not a parameter index "
                    f"in [0, {len(params)})"
                )
            new_state[int(key)] = self._checked_entry(int(key), entry, params[key])
        self.param_groups[:] = new_groups
        self.state = new_state

    def _checked_entry(self, index: int, entry: dict[str, Any], param: Any) -> dict[str, Any]:
        name = type(self).__name__
        if set(entry) - set(self.state_keys):
            raise ValueError(
                f"{name}.load_state_dict: state of parameter {index} has entries "
                f"{sorted(entry)}, expected {list(self.state_keys)}"
            )
        checked: dict[str, Any] = {}
        for key, value in entry.items():
            if key == "step":
                checked[key] = int(value)
                continue
            array = np.asarray(value)
            if array.shape != param.shape:
                raise ValueError(
                    f"{name}.load_state_dict: {key!r} of parameter {index} has shape "
                    f"{array.shape}, the parameter has shape {param.shape}"
                )
            checked[key] = array.astype(param.dtype, copy=True)
        return checked

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join([*lines, ")"])


def _require(condition: bool, optimizer: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{optimizer}: {message}")


class SGD(Optimizer):
    """Stochastic gradient descent, exactly ``torch.optim.SGD`` (dampening 0).

    For each parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                       (if weight_decay)
        b = g (first step),  b = momentum * b + g      (if momentum)
        g = g + momentum * b (nesterov)  or  g = b     (if momentum)
        p = p - lr * g
    """

    state_keys = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        super().__init__(params, {**defaults, "nesterov": nesterov})

    def _check(self, group: dict[str, Any]) -> None:
        _require(group["lr"] >= 0, "SGD", f"invalid learning rate {group['lr']}")
        _require(group["momentum"] >= 0, "SGD", f"invalid momentum {group['momentum']}")
        _require(group["weight_decay"] >= 0, "SGD", f"invalid weight_decay {group['weight_decay']}")
        _require(
            not group["nesterov"] or group["momentum"] > 0,
            "SGD",
            "Nesterov momentum requires a momentum > 0",
        )

    def _update(self, param: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if weight_decay:
            grad = grad + weight_decay * param.data
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= momentum
                buf += grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])


class Adam(Optimizer):
    """Adam, exactly ``torch.optim.Adam`` (``amsgrad=False``).

    At step ``t`` with gradient ``g`` (``g += weight_decay * p`` first, L2 style)::

        m = b1 m + (1 - b1) g;     v = b2 v + (1 - b2) g²
        p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    state_keys = ("step", "exp_avg", "exp_avg_sq")
    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        _require(group["lr"] >= 0, name, f"invalid learning rate {group['lr']}")
        _require(group["eps"] >= 0, name, f"invalid epsilon {group['eps']}")
        _require(len(group["betas"]) == 2, name, f"betas must be a pair, got {group['betas']}")
        for i, beta in enumerate(group["betas"]):
            _require(0 <= beta < 1, name, f"invalid beta parameter at index {i}: {beta}")
        _require(group["weight_decay"] >= 0, name, f"invalid weight_decay {group['weight_decay']}")

    def _update(self, param: Any, grad: np.ndarray, state: dict[str, Any], group: dict) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state.update(
                step=0, exp_avg=np.zeros_like(param.data), exp_avg_sq=np.zeros_like(param.data)
            )
        state["step"] += 1
        step = state["step"]
        if weight_decay:
            if self.decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad + weight_decay * param.data
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2**step) + group["eps"]
        param.add_(exp_avg / denom, alpha=-step_size)


class AdamW(Adam):
    """AdamW, exactly ``torch.optim.AdamW``: decoupled weight decay.

    Each step first shrinks ``p = p * (1 - lr * weight_decay)``, then applies the
    Adam update with the raw gradient (no decay term in ``g``).
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
