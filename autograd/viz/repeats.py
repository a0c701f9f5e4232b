"""Repeated structure: runs of graph nodes that do the same thing again and again.

A *fold* is a run of ``count`` consecutive *periods* of ``period`` nodes each (in the
engine's recording order, which is topological), where node ``j + period`` does what
node ``j`` does: the same primitive, parameters, output shape and dtype, inside
modules of the same classes, with each input wired the same way. The wiring of an
input is its distance back in the node list for an op result (so "the previous node"
or "the node one period back" match, and a fixed far-away node does not), or its kind,
shape and dtype for a leaf or a constant. Values do not count: ``x[0]`` and ``x[1]``
are the same step, and so are layers with different weights.

Folds are found by comparing the node list with itself shifted by each period up to
:data:`MAX_PERIOD` (one vectorised comparison per period). A run is then extended back
over the nodes that differ from the next period only in reading an input from outside
the run (the first layer reads the data where the others read the previous layer), so
an MLP folds from its first layer and an unrolled RNN from its first step. Folds do
not overlap; the one hiding the most nodes wins.

Pictures draw a fold's first period once, labelled ``×count`` (see
:mod:`autograd.viz.picture`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..node import Node

#: Longest period searched for (nodes per repeat: a transformer block is ~50).
MAX_PERIOD = 256
#: A fold must hide at least this many nodes to be worth a ``×N`` box.
MIN_HIDDEN = 4


class Fold:
    """``count`` repeats of the ``period`` nodes starting at index ``start``."""

    __slots__ = ("start", "period", "count")

    def __init__(self, start: int, period: int, count: int) -> None:
        self.start = start
        self.period = period
        self.count = count

    @property
    def stop(self) -> int:
        """Index after the fold's last node."""
        return self.start + self.period * self.count

    @property
    def hidden(self) -> int:
        """Nodes the fold hides (all periods but the first)."""
        return self.period * (self.count - 1)

    def __repr__(self) -> str:
        return f"Fold(start={self.start}, period={self.period}, count={self.count})"


def _value_free(value: Any) -> Any:
    """A hashable stand-in for a parameter that keeps its structure, not its numbers."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    if isinstance(value, (tuple, list)):
        return tuple(_value_free(v) for v in value)
    if isinstance(value, slice):
        return "slice"
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return type(value).__name__
    return repr(value)


def _params_key(params: dict[str, Any] | None) -> Any:
    """Parameters as a hashable key: exact, except the values inside an ``index``."""
    if not params:
        return ()
    return tuple(
        (k, _value_free(v) if k == "index" else _exact(v))
        for k, v in params.items()
        if not k.startswith("_")
    )


def _exact(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    if isinstance(value, (tuple, list)):
        return tuple(_exact(v) for v in value)
    return repr(value)


def _leaf_key(parent: Any, saved: Any) -> tuple[Any, ...]:
    """How a leaf tensor or a constant input looks, whatever its values."""
    if parent is None:
        return ("const", np.shape(saved) if saved is not None else None)
    kind = "param" if parent._requires_grad else "input"
    return (kind, parent.shape, parent.dtype.str)


def signatures(nodes: Sequence[Node]) -> tuple[np.ndarray, np.ndarray, list[tuple[Any, ...]]]:
    """Per node: an integer code (equal codes: the node does the same thing, wired the
    same way), a loose code that ignores how its inputs are wired (only what the node
    does, and where), and its inputs' keys (``("node", distance)`` or a leaf's key)."""
    index = {node: i for i, node in enumerate(nodes)}
    codes: dict[Any, int] = {}
    loose_codes: dict[Any, int] = {}
    out = np.empty(len(nodes), dtype=np.int64)
    loose = np.empty(len(nodes), dtype=np.int64)
    inputs: list[tuple[Any, ...]] = []
    for i, node in enumerate(nodes):
        saved = node.saved
        keys = []
        for slot, parent in enumerate(node):
            if type(parent) is Node:
                j = index.get(parent)
                keys.append(("node", None if j is None else i - j, parent.shape))
            else:
                keys.append(_leaf_key(parent, None if saved is None else saved[slot]))
        keys_t = tuple(keys)
        scope = tuple(type(m) for m in node.scope) if node.scope else ()
        what = (node.prim, _params_key(node.params), node.shape, node.dtype, scope)
        out[i] = codes.setdefault((what, keys_t), len(codes))
        loose[i] = loose_codes.setdefault((what, len(keys_t)), len(loose_codes))
        inputs.append(keys_t)
    return out, loose, inputs


def find_folds(nodes: Sequence[Node], max_period: int = MAX_PERIOD) -> list[Fold]:
    """The non-overlapping folds of ``nodes`` (topologically ordered), by position."""
    n = len(nodes)
    if n < 2 * 2:
        return []
    codes, loose, inputs = signatures(nodes)
    candidates = []
    for p in range(1, min(max_period, n // 2) + 1):
        same = np.concatenate(([False], codes[p:] == codes[:-p], [False]))
        edges = np.flatnonzero(same[1:] != same[:-1])
        for begin, end in zip(edges[::2], edges[1::2]):  # node j matches j + p on [begin, end)
            stop = end + p
            if (stop - begin) // p * p < MIN_HIDDEN:
                continue  # too short even with one more repeat in front
            start = _extend_back(begin, p, loose, inputs)
            count = (stop - start) // p
            if count >= 2 and (count - 1) * p >= MIN_HIDDEN:
                candidates.append(Fold(start, p, count))
    candidates.sort(key=lambda f: (-f.hidden, f.period, f.start))
    taken: list[Fold] = []
    for fold in candidates:
        if all(fold.stop <= t.start or fold.start >= t.stop for t in taken):
            taken.append(fold)
    return sorted(taken, key=lambda f: f.start)


def _extend_back(begin: int, p: int, loose: np.ndarray, inputs: list[tuple[Any, ...]]) -> int:
    """The earliest start ``s`` (at most ``p`` nodes before ``begin``) such that every
    node ``i`` in ``[s, begin)`` matches node ``i + p`` except, input by input, in
    reading from before ``s`` (or a leaf) where node ``i + p`` reads from the period
    before its own: the first repeat reads the model's input where the others read
    the previous repeat's output."""
    best = begin
    for s in range(begin - 1, max(begin - p, 0) - 1, -1):
        if not all(_first_repeat_of(i, p, s, loose, inputs) for i in range(s, begin)):
            break
        best = s
    return best


def _first_repeat_of(
    i: int, p: int, s: int, loose: np.ndarray, inputs: list[tuple[Any, ...]]
) -> bool:
    """Whether node ``i`` (in the first repeat, which starts at ``s``) does what node
    ``i + p`` does, reading from outside the run where that one reads the repeat before."""
    if i + p >= len(loose) or loose[i] != loose[i + p]:
        return False
    for mine, theirs in zip(inputs[i], inputs[i + p]):
        if mine == theirs:
            continue
        if theirs[0] != "node" or theirs[1] is None or i + p - theirs[1] >= s + p:
            return False  # the later node reads a leaf, or inside its own repeat
        shape = mine[2] if mine[0] == "node" else mine[1] if mine[0] != "const" else None
        if mine[0] == "node" and (mine[1] is None or i - mine[1] >= s):
            return False  # the first repeat reads inside itself where the next does not
        if mine[0] != "const" and shape != theirs[2]:
            return False
    return True
