"""The graph's data types: nodes, released arrays, the clock and the mutation registry.

This module imports nothing from the package; every other module builds on it.

- :class:`Node`: one recorded application of a primitive (PyTorch's ``grad_fn``);
- :class:`FreedArray`: the shape and dtype of an array a node no longer holds;
- :data:`clock`: numbers every node when it is recorded and every in-place change
  when it is made, so "recorded before that change" is a comparison of two numbers;
- the mutation registry (:func:`record_change`, :func:`changed_since`): the clock
  value of the latest in-place change of each array, keyed by the array that owns the
  memory (numpy's ``.base`` chain), so a change made through any view is seen.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

import numpy as np

ndarray = np.ndarray

#: A constant input with at most this many elements outlives backward (``Node.constant``):
#: a label vector or a scale factor stays in pictures, at a bounded cost.
SMALL_CONSTANT = 20

#: Arrays up to this size (64 KiB) are kept rather than released: swapping one for a
#: stand-in costs as much as computing on it, and keeping it costs at most 64 KiB per
#: node. Big arrays, where memory matters, are always released once nothing reads them.
SMALL_BYTES = 64 * 1024


def is_large(data: Any) -> bool:
    """An array worth releasing once nothing reads it (bigger than ``SMALL_BYTES``)."""
    return type(data) is ndarray and data.nbytes > SMALL_BYTES


class FreedArray:
    """A released array's stand-in: its shape and dtype, no data.

    Nodes hold one for an input their VJP does not read (from the start) and for
    their output once backward has run, so pictures still know every shape.
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions of the released array."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"FreedArray(shape={self.shape}, dtype={self.dtype})"


def stand_in(data: Any) -> Any:
    """``data`` itself, or a :class:`FreedArray` in its place if :func:`is_large`."""
    return FreedArray(data.shape, data.dtype) if is_large(data) else data


def _fixed(self: Node, *args: Any, **kwargs: Any) -> Any:
    raise TypeError("a Node's parents are fixed when it is recorded; build a new graph instead")


class Node(list):
    """One recorded application of a primitive (PyTorch's ``grad_fn``).

    Made only by :func:`autograd.primitive.apply` (and its unary and binary forms).
    Its contents are its parents, one per input: the
    input's node, the input tensor itself when that is a leaf, or None for a raw array
    or Python number. A node is that list (not an object holding a tuple) so an op
    leaves one object for Python's garbage collector instead of two; the list is
    frozen (every mutator raises), so read it as :attr:`parents`. The engine's own
    loops iterate the node directly.

    Slots: ``prim``; ``saved`` (per input: the array, a :class:`FreedArray` or a
    Python number; None once backward released them); ``params``; ``out`` (the output
    array); ``epoch`` (its number from :data:`clock`: larger than its inputs' nodes'
    and than every in-place change made before it); ``name`` and ``scope`` (the
    ``nn`` module calls under way, outermost first) for pictures; and, for pictures
    too, ``constant``: set only when backward releases the node, to its last constant
    input (a raw array or number, which no tensor holds) if that has at most
    :data:`SMALL_CONSTANT` elements.
    """

    __slots__ = ("prim", "saved", "params", "out", "epoch", "name", "scope", "constant")
    __hash__ = object.__hash__  # a graph vertex, not a value: dict keys by identity
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _fixed
    append = extend = insert = pop = remove = clear = sort = reverse = _fixed

    def __bool__(self) -> bool:
        return True

    @property
    def parents(self) -> tuple[Any, ...]:
        """Per input: its node, the leaf tensor, or None (a raw array or Python scalar)."""
        return tuple(self)

    @property
    def freed(self) -> bool:
        """True once backward has released the arrays this node saved."""
        return self.saved is None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the node's output (known even after the arrays are freed)."""
        return self.out.shape

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the node's output (known even after the arrays are freed)."""
        return self.out.dtype

    def release(self) -> None:
        """Drop the saved inputs (backward is done with them); a large output that a rule
        reads becomes its :class:`FreedArray` (one no rule reads already is one)."""
        self.saved = None
        if self.prim.reads_out:
            self.out = stand_in(self.out)

    def __repr__(self) -> str:
        return f"<{self.prim.name}Backward>"


def ancestors(root: Node) -> list[Node]:
    """Every node ``root`` depends on (itself included), inputs before consumers.

    Nodes are numbered in creation order, so sorting by number is a topological order.
    """
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop():
            if type(parent) is Node and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_epoch)


def _epoch(node: Node) -> int:
    return node.epoch


# ---------------------------------------------------------------- clock and mutations
#: Ticks for every recorded node and every in-place change (thread-safe: ``next`` on
#: an ``itertools.count`` is one atomic step).
clock = itertools.count(1)

#: ``last_mutation[0]``: the clock value of the latest in-place change anywhere. A node
#: newer than it cannot have been changed since it was recorded (backward's fast test).
last_mutation = [0]

_changes: dict[int, tuple[weakref.ref, int]] = {}  # id(owner) -> (owner, clock value)
_changes_lock = threading.Lock()  # one writer at a time: the clock value and the entry agree
_lock_changes, _unlock_changes = _changes_lock.acquire, _changes_lock.release
_live_changes = [0]  # entries after the last sweep of dead arrays


def owner(array: ndarray) -> ndarray:
    """The array that owns ``array``'s memory: the end of its ``.base`` chain of arrays."""
    base = array.base
    while type(base) is ndarray:
        array, base = base, base.base
    return array


def record_change(array: ndarray) -> int:
    """Note that ``array`` (and so every view of its memory) was just changed in place.

    Call it *after* the write: a node recorded while the write was under way is then
    older than the change, and backward refuses it. Returns the change's clock value.
    """
    root = array
    base = array.base
    while type(base) is ndarray:  # owner(array), inline: this runs once per update
        root, base = base, base.base
    _lock_changes()  # (bound methods: half the cost of a with block, once per update)
    try:
        count = next(clock)
        _changes[id(root)] = (weakref.ref(root), count)
        last_mutation[0] = count
        if len(_changes) > 2 * _live_changes[0] + 1024:
            for key in [k for k, (ref, _) in _changes.items() if ref() is None]:
                del _changes[key]
            _live_changes[0] = len(_changes)
    finally:
        _unlock_changes()
    return count


def version(data: Any) -> int:
    """Clock value of the latest in-place change of ``data``'s memory (0 if none)."""
    if type(data) is not ndarray:
        return 0
    root = owner(data)
    entry = _changes.get(id(root))
    return entry[1] if entry is not None and entry[0]() is root else 0


def changed_since(data: Any, count: int) -> bool:
    """True if ``data``'s memory was changed in place after clock value ``count``."""
    return version(data) > count
