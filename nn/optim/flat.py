"""A parameter group in flat buffers, so an elementwise rule updates it in one pass.

Every built-in rule (SGD, Adam, AdamW, RMSprop, Adagrad) treats each element on its own,
given the group's hyper-parameters and the step count. Run once over the concatenation of
a group's parameters, gradients and state, it gives the bits it gives parameter by
parameter, with one numpy call per operation instead of one per operation and parameter:
PyTorch's multi-tensor (``foreach``) update, and the one fused update a compiled step
replays (``ag.compile`` replays ``Optimizer.step``).

:class:`FlatGroup` moves a group's arrays into one buffer per kind: each parameter's
``data`` and each state entry becomes a view of its buffer (the step counts, views of one
int64 vector). It moves an array only when nothing else refers to it (its reference count),
so the move cannot be seen: any array that can still be reached is memory the updates
write. Before each fused step it checks that the views are in place (an array put in
their place, such as a loaded state, is copied in and replaced by its view the same way),
that every parameter has a gradient of its shape and dtype, and that the step counts agree;
when one of these fails, that step runs parameter by parameter, on the same views.

Fusing pays where the cost per numpy call dominates: the gradients are copied into one
vector at every step, which costs more than it saves once parameters are large
(:data:`MAX_MEAN_SIZE`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd as ag

if TYPE_CHECKING:
    from .optimizer import Optimizer

ndarray = np.ndarray

#: The per-parameter state entry that counts the steps taken (a 0-d int64 array).
STEP = "step"

#: Fuse a group only if its parameters hold at most this many elements on average: above
#: it, copying the gradients into one vector costs more than the numpy calls it saves
#: (``benchmarks/bench_optim.py`` measures both sides).
MAX_MEAN_SIZE = 16384


class _Holder:
    __slots__ = ("value",)


def _held_once() -> int:
    """The reference count of an array that one attribute refers to, as seen by
    ``sys.getrefcount(holder.value)``: the baseline of "nothing else refers to it"."""
    holder = _Holder()
    holder.value = np.empty(1)
    return sys.getrefcount(holder.value)


_HELD_ONCE = _held_once()


def _movable(array: Any, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    """Whether ``array`` may be moved into a buffer: an ndarray of this shape and dtype,
    owning its memory, C-contiguous and writeable. (Its reference count is checked by
    :func:`_movable_param` and :func:`_movable_entry`, where the count is known.)"""
    return (
        type(array) is ndarray
        and array.base is None
        and array.shape == shape
        and array.dtype == dtype
        and array.flags.c_contiguous
        and array.flags.writeable
    )


class FlatGroup:
    """The parameters of one group, their state entries and step counts as views of flat
    buffers (module docstring). :meth:`build` makes one when the group can be moved;
    :meth:`step` runs the optimizer's rule once over the buffers."""

    def __init__(self, params: list[ag.Tensor], dtype: np.dtype) -> None:
        self.source = params  # the group's list (load_state_dict keeps it)
        self.params = list(params)  # its parameters when the buffers were made
        self.dtype = dtype
        self.shapes = [p.shape for p in params]
        sizes = [int(np.prod(s)) for s in self.shapes]
        ends = np.cumsum(sizes).tolist()
        self.slices = [slice(end - size, end) for size, end in zip(sizes, ends)]
        self.size = ends[-1]
        buffer = np.empty(self.size, dtype)
        for p, part in zip(params, self.slices):
            buffer[part] = p.data.reshape(-1)
        self.views = [self._view(buffer, i) for i in range(len(params))]
        for p, view in zip(params, self.views):
            p.data = view
        self.flat = ag.Tensor(buffer)  # the parameter the rule updates
        self.grad = np.empty(self.size, dtype)  # the gradients, copied in at each step
        grad_views = [self._view(self.grad, i) for i in range(len(params))]
        self.parts = list(zip(params, self.views, self.shapes, grad_views))
        self.flat_state: dict[str, ndarray] = {}  # the state the rule reads and writes
        self.states: list[dict[str, ndarray] | None] = [None] * len(params)
        self.steps: ndarray | None = None  # the step counts, one per parameter
        self.entries: list[tuple[dict[str, ndarray], str, ndarray]] = []  # (state, key, view)

    def _view(self, buffer: ndarray, i: int) -> ndarray:
        return buffer[self.slices[i]].reshape(self.shapes[i])

    # ------------------------------------------------------------------ making one
    @classmethod
    def build(cls, optimizer: Optimizer, group: dict[str, Any]) -> FlatGroup | None:
        """The group in flat buffers, or None if it cannot be moved unseen or would not
        gain (fewer than two parameters, large ones, a missing gradient, mixed dtypes,
        arrays something else refers to, state entries that differ between parameters)."""
        params = group["params"]
        if len(params) < 2 or any(p._grad is None for p in params):
            return None
        dtype = params[0].data.dtype
        if dtype.kind != "f" or sum(p.data.size for p in params) > MAX_MEAN_SIZE * len(params):
            return None
        if not all(_movable_param(p, p.shape, dtype) for p in params):
            return None
        states = optimizer.state
        has_state = any(states.get(p) is not None for p in params)
        if has_state:
            keys = [set(states[p]) if p in states else None for p in params]
            if any(k != keys[0] for k in keys) or not all(
                _movable_entry(states[p], key, p.shape, dtype) for p in params for key in keys[0]
            ):
                return None
        flat = cls(params, dtype)
        if has_state:
            for i, p in enumerate(params):
                flat.states[i] = states[p]
            for key in states[params[0]]:
                flat._adopt(key)
        else:
            flat._publish(optimizer._init_state(flat.flat, group))
            for p, state in zip(params, flat.states):
                states[p] = state
        return flat

    def _publish(self, entries: dict[str, ndarray]) -> None:
        """Take ``entries`` (made for the flat parameter) as flat state and give each
        parameter's state its views (a new dict for a parameter that had none)."""
        for i, state in enumerate(self.states):
            if state is None:
                self.states[i] = {}
        for key, entry in entries.items():
            if key == STEP:
                self._count_steps([entry] * len(self.params))
                continue
            self.flat_state[key] = entry
            for i, state in enumerate(self.states):
                state[key] = self._view(entry, i)
        self._remember_views()

    def _count_steps(self, counts: list[Any]) -> None:
        """Keep the step counts in one int64 vector, each parameter's count a view."""
        self.steps = np.array(counts, np.int64)
        for i, state in enumerate(self.states):
            state[STEP] = self.steps[i : i + 1].reshape(())
        self.flat_state[STEP] = self.states[0][STEP]  # the count the rule reads (all agree)
        self._remember_views()

    def _adopt(self, key: str) -> None:
        """Move each parameter's own ``key`` entry (checked movable) into a flat buffer."""
        if key == STEP:
            self._count_steps([state[STEP] for state in self.states])
            return
        entry = np.empty(self.size, self.dtype)
        for state, part in zip(self.states, self.slices):
            entry[part] = state[key].reshape(-1)
        self._publish({key: entry})

    # ------------------------------------------------------------------ stepping
    def step(self, optimizer: Optimizer, group: dict[str, Any]) -> bool:
        """Run ``optimizer``'s rule once over the buffers, if every check passes; returns
        whether it did (else the caller steps parameter by parameter, on the views).

        Raises :class:`_StaleBuffersError` when the group can no longer be kept in these
        buffers: an array put in place of a view, or a state, that cannot be moved unseen.
        """
        dtype, params = self.dtype, group["params"]
        if len(params) != len(self.parts):
            raise _StaleBuffersError  # parameters were added to (or taken from) the list
        for i, (p, view, shape, grad_view) in enumerate(self.parts):
            if p is not params[i]:
                raise _StaleBuffersError
            if p.data is not view:
                self._take(p, i)
            grad = p._grad
            if grad is None:
                return False
            grad = grad.data
            if grad.shape != shape or (grad.dtype is not dtype and grad.dtype != dtype):
                return False
            grad_view[...] = grad  # (cheaper than np.concatenate(..., out=) on small arrays)
        if not self._state_intact(optimizer.state):
            self._take_state(optimizer.state)
        steps = self.steps
        if steps is not None:
            counts = steps.tolist()
            if counts.count(counts[0]) != len(counts):
                return False
            steps += 1  # in place: every parameter's count, and the one the rule reads
        optimizer._update(self.flat, self.grad, self.flat_state, group)
        if len(self.flat_state) != len(self.states[0]):  # the rule made an entry
            self._publish({k: v for k, v in self.flat_state.items() if k not in self.states[0]})
        return True

    def _take(self, p: ag.Tensor, i: int) -> None:
        """``p.data`` was replaced: copy the new array into the buffer and give ``p`` its
        view again (:class:`_StaleBuffersError` if something else refers to the new array)."""
        if not _movable_param(p, self.shapes[i], self.dtype):
            raise _StaleBuffersError
        self.views[i][...] = p.data
        p.data = self.views[i]

    def _state_intact(self, own: dict[ag.Tensor, dict[str, ndarray]]) -> bool:
        """Whether each parameter's state is still the dict of views this group made."""
        count = len(self.flat_state)
        for p, state in zip(self.params, self.states):
            if own.get(p) is not state or len(state) != count:
                return False
        for state, key, view in self.entries:
            if state.get(key) is not view:
                return False
        return True

    def _remember_views(self) -> None:
        """Note every state entry's view: ``entries`` holds ``(state, key, view)``."""
        self.entries = [(s, key, s[key]) for s in self.states for key in self.flat_state]

    def _take_state(self, own: dict[ag.Tensor, dict[str, ndarray]]) -> None:
        """Check that each parameter's state entries are its views; entries put in their
        place (a loaded state) are copied into the buffers and replaced by their views
        (:class:`_StaleBuffersError` when they cannot be moved unseen, or the entries differ)."""
        owners = {k: self.steps if k == STEP else entry for k, entry in self.flat_state.items()}
        for i, p in enumerate(self.params):
            state = own.get(p)
            if state is self.states[i] and all(state[k].base is b for k, b in owners.items()):
                continue
            if state is None or set(state) != set(owners):
                raise _StaleBuffersError
            for key, owner in owners.items():
                if state[key].base is owner:
                    continue
                if not _movable_entry(state, key, self.shapes[i], self.dtype):
                    raise _StaleBuffersError
                if key == STEP:
                    self.steps[i] = state[STEP]
                    view = self.steps[i : i + 1].reshape(())
                else:
                    view = self._view(owner, i)
                    view[...] = state[key]
                state[key] = view
            self.states[i] = state
        if STEP in owners:
            self.flat_state[STEP] = self.states[0][STEP]
        self._remember_views()


class _StaleBuffersError(Exception):
    """The group's arrays were replaced in a way the buffers cannot take."""


def _movable_param(p: ag.Tensor, shape: tuple[int, ...], dtype: Any) -> bool:
    """Whether a parameter's array may be moved into a flat buffer: movable, and referred
    to by the parameter alone."""
    return _movable(p.data, shape, dtype) and sys.getrefcount(p.data) <= _HELD_ONCE


def _movable_entry(state: dict[str, Any], key: str, shape: tuple[int, ...], dtype: Any) -> bool:
    """Whether a parameter's state entry may be moved into a flat buffer."""
    if sys.getrefcount(state[key]) > _HELD_ONCE:
        return False
    entry = state[key]
    if key == STEP:
        return type(entry) is ndarray and entry.shape == () and entry.dtype == np.int64
    return _movable(entry, shape, dtype)


def fused_step(optimizer: Optimizer, index: int, group: dict[str, Any]) -> bool:
    """Update group ``index`` of ``optimizer`` in one pass over flat buffers, if it can be
    (making them at the first step that can); returns whether it did."""
    flats = optimizer._flat_groups
    flat = flats.get(index)
    if flat is None or flat.source is not group["params"]:
        flat = FlatGroup.build(optimizer, group)
        if flat is None:
            return False
        flats[index] = flat
        # the move is done; this step runs on the buffers like every later one
    try:
        return flat.step(optimizer, group)
    except _StaleBuffersError:
        del flats[index]
        return False
