"""The optimizer base class: parameter groups, per-parameter state, ``step``, state dicts.

``params`` is an iterable of parameters, or of dicts ``{"params": [...], "lr": ...}``
(parameter groups with their own hyper-parameters), as in ``torch.optim``. ``step()``
updates ``p.data`` in place under ``no_grad`` through the Tensor in-place methods (so
version counters bump, and a graph that saved an old value refuses to backward);
parameters whose ``grad`` is None are skipped. A group of small parameters whose rule
is ``elementwise`` is updated at once, its arrays moved into flat buffers where nothing
else can see the move (``flat.py``): the same bits, a numpy call per operation instead of
one per operation and parameter.

Per-parameter state lives in ``optimizer.state[p]`` (a dict, as PyTorch's). Every
entry is an ndarray updated in place, the step count included (a 0-d int64 array):
state that changes from step to step is data, never a Python number baked into the
code, so that a compiled training step (``ag.compile``) can read its current value at
every call. Hyper-parameters (``group["lr"]`` ...) are Python numbers that schedulers
change. ``state_dict()`` / ``load_state_dict()`` save and restore both, keyed by the
parameter's position as PyTorch's are; loading checks everything first.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from typing import Any

import numpy as np

import autograd as ag
from autograd.ops.inplace import update

from .flat import STEP, FlatGroup, fused_step

#: How error messages name hyper-parameters (as PyTorch's do); others by their key.
_LABELS = {"lr": "learning rate", "eps": "epsilon"}


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``, state dicts.

    A subclass lists every state entry it may hold in ``state_keys`` and its
    hyper-parameters in ``numbers`` (reals >= 0) and ``flags`` (bools), which
    ``_check(group)`` validates (extend it for other rules), and implements
    ``_state_names(group)`` (the entries a parameter's state must hold under
    ``group``'s hyper-parameters) and ``_update(param, grad, state, group)`` (one step
    for one parameter; ``state["step"]``, if it has one, already counts this step).
    Fresh state (``_init_state``) is a zero step count and zeros shaped like the
    parameter. A rule that treats each element on its own sets ``elementwise``: the
    step then updates each group of small parameters at once (``flat.py``).
    """

    state_keys: tuple[str, ...] = ()
    #: Whether ``_update`` treats each element on its own, given the group's
    #: hyper-parameters and the step count, and keeps no reference to the gradient array
    #: it is given, so that one call over a group's parameters, gradients and state in
    #: flat buffers gives the bits of one call per parameter. A rule that reads a whole
    #: parameter at once (a norm, as LARS's) leaves it False.
    elementwise: bool = False
    #: Hyper-parameters that must be real numbers >= 0, and those that must be bools.
    numbers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[ag.Tensor, dict[str, np.ndarray]] = {}
        self._step_count = 0  # steps taken (learning-rate schedulers check the order of calls)
        self._flat_groups: dict[int, FlatGroup] = {}  # group index -> its flat buffers
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
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{name}: a parameter group must be a dict with a 'params' entry, got {group!r}"
            )
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(
                f"{name}: unknown hyper-parameter(s) {sorted(unknown)}; "
                f"valid ones are {sorted(self.defaults)}"
            )
        params = group["params"]
        params = [params] if isinstance(params, ag.Tensor) else list(params)
        known = {id(p) for p in self._params()}
        for p in params:
            if not isinstance(p, ag.Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
            if id(p) in known:
                raise ValueError(
                    f"{name}: some parameters appear more than once "
                    f"(in this group or in two groups)"
                )
            known.add(id(p))
        merged = {**self.defaults, **group, "params": params}
        self._check(merged)
        self.param_groups.append(merged)

    def __getstate__(self) -> dict[str, Any]:
        """What ``copy.deepcopy`` and ``pickle`` keep: everything but the flat buffers (a
        copy of a view is not a view, so a copy remakes its own at its first step)."""
        return {**self.__dict__, "_flat_groups": {}}

    def _params(self) -> list[Any]:
        return [p for group in self.param_groups for p in group["params"]]

    # ------------------------------------------------------------------ subclass hooks
    def _check(self, group: dict[str, Any]) -> None:
        """Validate ``group``'s hyper-parameters (``ValueError`` naming the first bad one)."""
        name = type(self).__name__
        for key in self.numbers:
            check_hyper(name, _LABELS.get(key, key), group[key])
        for key in self.flags:
            if not isinstance(group[key], (bool, np.bool_)):
                raise ValueError(f"{name}: {key} must be True or False, got {group[key]!r}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        raise NotImplementedError

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict) -> None:
        raise NotImplementedError

    def _init_state(self, param: ag.Tensor, group: dict[str, Any]) -> dict[str, np.ndarray]:
        """A parameter's state before its first step: step 0, zeros for the rest."""
        return {name: _fresh(name, param) for name in self._state_names(group)}

    @staticmethod
    def _gradient(param: ag.Tensor, grad: Any, group: dict[str, Any], l2: bool = True) -> Any:
        """The gradient a rule follows: ``-grad`` with ``maximize``, plus
        ``weight_decay * p`` (L2 weight decay, unless ``l2`` is False)."""
        if group["maximize"]:
            grad = -grad
        if l2 and group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        return grad

    @staticmethod
    def _entry(state: dict[str, np.ndarray], name: str, param: ag.Tensor) -> np.ndarray:
        """``state[name]``, made fresh if missing (a hyper-parameter that switches an
        entry on, such as ``amsgrad``, was changed after the first step)."""
        entry = state.get(name)
        if entry is None:
            entry = state[name] = _fresh(name, param)
        return entry

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``None``, or zeros if not ``set_to_none``)."""
        for p in self._params():
            p.grad = None if set_to_none else np.zeros_like(p.data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place.

        ``closure`` (optional, as PyTorch's) re-evaluates the model and returns the
        loss; it runs first, with grad mode on, and its result is returned.
        """
        loss = None
        if closure is not None:
            with ag.enable_grad():
                loss = closure()
        update(self._update_all)  # one call, which a compiled step makes again (ag.compile)
        return loss

    def _update_all(self) -> None:
        """Update every parameter that has a gradient (``step`` without the closure)."""
        groups = self.param_groups
        if self.elementwise:  # fused groups need no grad mode: no graph holds the flat buffers
            groups = []
            for index, group in enumerate(self.param_groups):
                if not fused_step(self, index, group):
                    groups.append(group)
        if groups:
            with ag.no_grad():
                for group in groups:
                    self._update_group(group)
        self._step_count += 1

    def _update_group(self, group: dict[str, Any]) -> None:
        """Update each parameter of ``group`` that has a gradient, one by one."""
        states = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                state = states.get(p)
                if state is None:
                    state = states[p] = self._init_state(p, group)
                step = state.get(STEP)
                if step is not None:
                    step += 1  # in place: the count is data (see the module docstring)
                self._update(p, grad.data, state, group)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The state and hyper-parameters, as PyTorch lays them out (copies).

        ``{"state": {index: {name: array}}, "param_groups": [{**hyper, "params":
        [indices]}]}``, ``index`` counting the parameters of all groups in order.
        """
        index = {id(p): i for i, p in enumerate(self._params())}
        groups = [
            {**{k: v for k, v in group.items() if k != "params"},
             "params": [index[id(p)] for p in group["params"]]}
            for group in self.param_groups
        ]  # fmt: skip
        state = {index[id(p)]: copy.deepcopy(entry) for p, entry in self.state.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore state and hyper-parameters saved by ``state_dict()``.

        Everything is checked before anything changes: the group and parameter
        counts, every hyper-parameter (keys added by a scheduler, such as
        ``initial_lr``, are kept), and each parameter's state: the entries its
        group's hyper-parameters need (e.g. Adam's ``exp_avg`` and ``exp_avg_sq``),
        no unknown ones, shapes, and values of a numeric kind. Raises ``ValueError``
        naming what is wrong; the optimizer is then unchanged.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and "
                f"'param_groups' (from state_dict()), got {_describe(state_dict)}"
            )
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter "
                f"groups, this optimizer has {len(self.param_groups)}"
            )
        new_groups, param_of, group_of = [], {}, {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            merged = self._merged_group(i, saved, group)
            for key, p in zip(saved["params"], group["params"]):
                param_of[key], group_of[key] = p, merged
            new_groups.append(merged)
        saved_state = state_dict["state"]
        if not isinstance(saved_state, Mapping):
            raise ValueError(
                f"{name}.load_state_dict: 'state' must be a dict index -> state, "
                f"got {_describe(saved_state)}"
            )
        new_state = {}
        for key, entry in saved_state.items():
            if isinstance(key, bool) or key not in param_of:
                raise ValueError(
                    f"{name}.load_state_dict: state key {key!r} is not a parameter index "
                    f"in [0, {len(param_of)})"
                )
            param = param_of[key]
            new_state[param] = self._checked_state(key, entry, param, group_of[key])
        self.param_groups[:] = new_groups
        self.state = new_state

    def _merged_group(self, i: int, saved: Any, group: dict[str, Any]) -> dict[str, Any]:
        """Group ``i`` with the hyper-parameters of ``saved``, checked."""
        name = type(self).__name__
        if not isinstance(saved, Mapping) or "params" not in saved:
            raise ValueError(
                f"{name}.load_state_dict: parameter group {i} must be a dict with a 'params' "
                f"entry, got {_describe(saved)}"
            )
        if len(saved["params"]) != len(group["params"]):
            raise ValueError(
                f"{name}.load_state_dict: group {i} has {len(saved['params'])} "
                f"parameters in the state, {len(group['params'])} in this optimizer"
            )
        missing = sorted(set(self.defaults) - set(saved))
        if missing:
            raise ValueError(
                f"{name}.load_state_dict: group {i} lacks the hyper-parameter(s) {missing} "
                f"(was it saved by another optimizer?)"
            )
        merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
        self._check(merged)
        return merged

    def _checked_state(
        self, key: Any, entry: Any, param: ag.Tensor, group: dict[str, Any]
    ) -> dict[str, np.ndarray]:
        """A parameter's saved state as fresh arrays of its shape and dtype, checked."""
        name = type(self).__name__
        where = f"{name}.load_state_dict: state of parameter {key}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a dict name -> array, got {_describe(entry)}")
        missing = [k for k in self._state_names(group) if k not in entry]
        unknown = sorted(set(entry) - set(self.state_keys))
        if missing or unknown:
            problems = []
            if missing:
                problems.append(f"lacks {missing}")
            if unknown:
                problems.append(f"has unknown entries {unknown}")
            raise ValueError(
                f"{where} {' and '.join(problems)} (a {name} state has "
                f"{list(self._state_names(group))} with these hyper-parameters)"
            )
        return {k: _checked_entry(where, k, value, param) for k, value in entry.items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join([*lines, ")"])


def _fresh(name: str, param: ag.Tensor) -> np.ndarray:
    """A state entry before the first step: a 0-d count, or zeros like the parameter."""
    return np.zeros((), np.int64) if name == STEP else np.zeros(param.shape, param.dtype)


def _checked_entry(where: str, key: str, value: Any, param: ag.Tensor) -> np.ndarray:
    """One saved state entry as a fresh array (a count, or the parameter's shape and dtype)."""
    try:
        array = np.array(value.data if isinstance(value, ag.Tensor) else value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {key!r} is not an array ({exc})") from None
    if key == STEP:
        if array.shape != () or array.dtype.kind not in "iuf" or not _is_count(array):
            raise ValueError(f"{where}: 'step' must be a step count (an int >= 0), got {value!r}")
        return array.astype(np.int64)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{where}: {key!r} holds {array.dtype} values, expected numbers")
    if array.shape != param.shape:
        raise ValueError(
            f"{where}: {key!r} has shape {array.shape}, the parameter has shape {param.shape}"
        )
    return array.astype(param.dtype)


def _is_count(array: np.ndarray) -> bool:
    value = float(array)
    return math.isfinite(value) and value >= 0 and value == int(value)


def _describe(value: Any) -> str:
    return repr(value) if isinstance(value, (Real, str)) or value is None else type(value).__name__


def check_hyper(
    optimizer: str,
    label: str,
    value: Any,
    low: float = 0.0,
    high: float = math.inf,
    high_open: bool = False,
) -> None:
    """``value`` must be a real number in ``[low, high]`` (``[low, high)`` if
    ``high_open``), else ``ValueError("<optimizer>: invalid <label> <value>")``."""
    number = isinstance(value, Real) and not isinstance(value, bool)
    if not number or not (low <= value < high if high_open else low <= value <= high):
        raise ValueError(f"{optimizer}: invalid {label} {value!r}")


def scratch(grad: Any, entry: np.ndarray) -> np.ndarray:
    """An uninitialised array for a rule's intermediates, shaped like the state ``entry``
    (0-d for a scalar parameter) and of the gradient's and entry's common dtype: one
    allocation a step instead of one per operation (each large one a fresh mapping)."""
    return np.empty(np.shape(entry), np.result_type(grad, entry))


def in_dtype(value: Any, param: ag.Tensor) -> np.ndarray:
    """A scalar computed from the step count (float64) as a value of ``param``'s dtype,
    so a float32 update stays float32 (PyTorch rounds such scalars the same way)."""
    return np.asarray(value, dtype=param.dtype)


def lerp_(average: np.ndarray, grad: Any, weight: float, work: np.ndarray) -> None:
    """``average += weight (grad - average)`` in place (PyTorch's ``lerp_``), ``work`` the
    scratch buffer (:func:`scratch`): a running mean of the gradient."""
    np.subtract(grad, average, out=work)
    work *= weight
    average += work


def decay_square_(average: np.ndarray, grad: Any, decay: float, work: np.ndarray) -> None:
    """``average = decay average + (1 - decay) grad²`` in place, ``work`` the scratch
    buffer (:func:`scratch`): a running mean of the squared gradient."""
    average *= decay
    np.multiply(grad, 1 - decay, out=work)
    work *= grad
    average += work
