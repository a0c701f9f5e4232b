"""The computation graph and the reverse-mode pass that walks it.

Every op result that requires grad holds a :class:`Node`: the primitive that made
it, its *parents* (for each input: the input's node; the input tensor itself when it
is a leaf, which receives a gradient only if it requires grad; None for raw arrays and
Python scalars), the input arrays its VJP needs and its own output array. Backward:

1. runs each node's VJP once every consumer has sent its gradient: nodes are numbered
   as they are made (``epoch``, after their inputs), so running the reached node with
   the largest number first is a reverse topological order. No pass over the graph
   comes first, and there is no recursion (a million-node chain works). The parent
   a node reaches that is newer than every other waiting node runs next, its
   gradient handed over directly (chains never wait in the heap);
2. sums gradients that meet at a node and reduces each input's gradient back to the
   input's shape and dtype (:func:`fit_grad`, the one broadcasting helper);
3. frees each node's saved arrays as soon as its VJP has run, unless
   ``retain_graph=True``; sums the gradients arriving at each leaf in the same way
   and, once every node has run, adds each leaf's sum to its ``.grad``.

First-order backward runs every VJP on raw ndarrays with ``xp`` = numpy, recording
nothing. ``create_graph=True`` runs the same rules on Tensors with ``xp`` = the
differentiable ops, so the gradient is itself a graph (higher-order derivatives).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .mode import enable_grad, state
from .tensor import Tensor, as_tensor, changed_since, last_mutation, result_tensor, unwrap

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)

ndarray = np.ndarray

#: Arrays up to this size (64 KiB) are kept rather than released: swapping one for a
#: stand-in costs about a microsecond, as much as computing on it, and keeping it costs
#: at most 64 KiB per node. Big arrays, where memory matters, are always released.
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


class Node(list):
    """One recorded application of a primitive (PyTorch's ``grad_fn``).

    The node is the list of its parents (per input: its node, the leaf tensor, or None;
    :attr:`parents` as a tuple), so an op leaves one object for Python's garbage
    collector to walk, not two (a node and a tuple): a 10⁶-op chain records in 1.4 s
    instead of 2.0, most of the difference being the collector's passes. A node always
    has a parent (it is recorded because an input requires grad), so it is truthy; it
    is equal only to itself.
    Slots: ``prim``; ``saved`` (per input: the array, a :class:`FreedArray`, or a
    Python scalar); ``params``; ``out`` (the output array); ``epoch`` (a number from the
    clock that also counts in-place mutations: later than its inputs' nodes, and than
    every change before it); ``name`` and ``scope`` (the nn modules under way) for
    pictures. Only :func:`~autograd.primitive.apply` makes nodes; it fills the slots
    directly (this runs once per op), and backward releases ``saved`` and ``out``
    (:func:`stand_in`).
    """

    __slots__ = ("prim", "saved", "params", "out", "epoch", "name", "scope")
    __hash__ = object.__hash__  # a graph vertex, not a value: dict keys by identity
    __eq__ = object.__eq__
    __ne__ = object.__ne__

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

    def __repr__(self) -> str:
        return f"<{self.prim.name}Backward>"


def unchanged(xp: Any, g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    """The VJP rule ``g ↦ g`` of an input that passes into the output unchanged
    (``a + b``, a cast, a broadcast); :func:`fit_grad` restores its shape and dtype.
    Backward recognises it and hands ``g`` on without calling it."""
    return g


def sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    If ``y = broadcast(x)`` then ``dL/dx = sum of dL/dy over the broadcast axes``.
    Works on ndarrays and Tensors alike.
    """
    lead = grad.ndim - len(shape)
    if lead:  # axes broadcasting prepended: sum them away
        grad = grad.sum(axis=0 if lead == 1 else tuple(range(lead)))
    if grad.shape != shape:  # length-1 axes broadcasting stretched: sum, keeping them
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def fit_grad(grad: Any, like: Any) -> Any:
    """Give ``grad`` the shape and dtype of the input ``like`` it is the gradient of."""
    if grad.shape != like.shape:
        grad = sum_to_shape(grad, like.shape)
    if grad.dtype != like.dtype:
        grad = grad.astype(like.dtype)
    return grad


def check_finite(values: Any, what: str) -> None:
    """Anomaly mode: raise ``FloatingPointError`` naming ``what`` if ``values`` has NaN/inf."""
    if not np.isfinite(np.asarray(values)).all():
        raise FloatingPointError(
            f"Function {what} returned nan or inf values (detected by ag.detect_anomaly())."
        )


def run_backward(
    root: Tensor,
    grad: Any,
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    targets: dict[Any, int] | None = None,
    on_step: Callable[[Node, Any, list[Any]], None] | None = None,
) -> list[Any] | None:
    """Propagate ``grad`` (dL/droot, already of root's shape) back through the graph.

    With ``targets`` None, gradients accumulate into the ``.grad`` of leaves that
    require grad. Otherwise ``targets`` maps graph objects (a leaf tensor, or the node
    of a non-leaf) to result slots, nothing is accumulated, and the list of gradients
    (None where none arrived) is returned, as ``torch.autograd.grad`` does.
    ``on_step(node, grad_out, input_grads)`` is called after each VJP.
    """
    if create_graph:
        xp = _namespaces().TENSOR_NS
        grad = as_tensor(grad)
    else:
        xp = _namespaces().NUMPY_NS
        grad = unwrap(grad)
    results = None if targets is None else [None] * len(targets)
    node = root._node
    if node is None:  # backward on a leaf: its gradient is the seed itself
        _store_leaf_grads({root: grad}, targets, results, create_graph, grad)
        return results

    grads: dict[Any, Any] = {}  # gradients summed so far, keyed by waiting node or by leaf
    waiting: list[tuple[int, Node]] = []  # heap of (-epoch, node): reached, not yet run
    g = grad
    anomaly = state.anomaly
    inspect = anomaly or on_step is not None
    with enable_grad() if create_graph else _NO_CONTEXT:
        while node is not None:
            parents = node  # a node is the list of its parents
            if targets is not None and node in targets:
                results[targets[node]] = g
            saved = node.saved
            if saved is None:
                raise RuntimeError(FREED_GRAPH_MESSAGE)
            if node.epoch < last_mutation[0]:  # read per node: another thread may write
                _check_versions(node)
            if create_graph:
                args, out = _graph_inputs(node)
            else:
                args = saved
                out = node.out
            prim = node.prim
            params = node.params
            vjps = prim.vjps  # one rule per input, or None when the rule is joint:
            joint = None
            if vjps is None:
                joint = (
                    prim.vjp(xp, g, out, *args, **params) if params else prim.vjp(xp, g, out, *args)
                )
            in_grads = [None] * len(parents) if on_step is not None else None
            newest = None  # the newest parent reached first by this node: it may run next
            for i, parent in enumerate(parents):
                if parent is None:
                    continue  # a raw array or Python scalar: no gradient wanted
                is_node = type(parent) is Node
                if not is_node and not parent._requires_grad:
                    continue  # a constant leaf
                if joint is not None:
                    gi = joint[i]
                elif vjps[i] is unchanged:
                    gi = g
                elif params:
                    gi = vjps[i](xp, g, out, *args, **params)
                else:
                    gi = vjps[i](xp, g, out, *args)
                if gi is None:
                    continue
                like = saved[i]
                kind = type(gi)  # numpy scalars of one type share shape () and dtype
                if kind is not type(like) or kind is ndarray and (
                    gi.shape != like.shape or gi.dtype is not like.dtype
                ):
                    gi = fit_grad(gi, like)
                if inspect:
                    if anomaly:
                        check_finite(gi, f"'{prim.name}Backward' in its gradient for input {i}")
                    if in_grads is not None:
                        in_grads[i] = gi
                prev = grads.get(parent)
                if prev is not None:  # a leaf or a waiting node: add
                    grads[parent] = prev + gi
                elif not is_node:
                    grads[parent] = gi
                elif newest is None:
                    newest, newest_grad = parent, gi
                elif parent is newest:
                    newest_grad = newest_grad + gi
                elif parent.epoch > newest.epoch:
                    _wait(newest, newest_grad, grads, waiting)
                    newest, newest_grad = parent, gi
                else:
                    _wait(parent, gi, grads, waiting)
            if on_step is not None:
                on_step(node, g, in_grads)
            if not retain_graph:  # release what the VJP read; keep out's shape for pictures
                node.saved = None
                if prim.reads_out:  # (a large output no rule reads was released when recorded)
                    node.out = stand_in(node.out)
            # next: the newest reached node (its consumers, all newer, have run)
            if newest is not None and (not waiting or newest.epoch > -waiting[0][0]):
                node, g = newest, newest_grad
            else:
                if newest is not None:
                    _wait(newest, newest_grad, grads, waiting)
                if waiting:
                    node = heappop(waiting)[1]
                    g = grads.pop(node)
                else:
                    node = None
        # every node has run: what is left in grads arrived at leaves
        _store_leaf_grads(grads, targets, results, create_graph, grad)
    return results


@functools.cache
def _namespaces() -> Any:
    """The ``xp`` namespaces (imported on first use: they import the ops, which import us)."""
    from .ops import namespaces

    return namespaces


def _graph_inputs(node: Node) -> tuple[tuple[Any, ...], Tensor]:
    """For ``create_graph``: the node's inputs and output as Tensors attached to the graph."""
    args = tuple(as_graph_input(p, d) for p, d in zip(node.parents, node.saved))
    return args, as_graph_input(node, node.out)


def as_graph_input(parent: Any, data: Any) -> Any:
    """For ``create_graph``: saved ``data`` as a value attached to the graph at ``parent``.

    A leaf is its own tensor; a node's output is re-wrapped as a tensor of that node;
    constants and released arrays (only their shape is read) stay as they are.
    """
    if isinstance(parent, Tensor):
        return parent
    if parent is None or type(data) is FreedArray:
        return data
    return result_tensor(data, parent)


def _wait(node: Node, grad: Any, grads: dict[Any, Any], waiting: list[tuple[int, Node]]) -> None:
    """Park a reached node and its gradient so far until it is the newest waiting one."""
    grads[node] = grad
    heappush(waiting, (-node.epoch, node))


def _store_leaf_grads(
    grads: dict[Tensor, Any],
    targets: dict[Any, int] | None,
    results: list[Any] | None,
    create_graph: bool,
    seed: Any,
) -> None:
    """Hand each leaf its summed gradient: a result slot (``targets``), or its ``.grad``.

    A ``.grad`` adds to the one already there. It never shares its array with another
    leaf's ``.grad``, with the seed, or (as a view) with some other array.
    """
    if targets is not None:
        for leaf, g in grads.items():
            slot = targets.get(leaf)
            if slot is not None:
                results[slot] = g
        return
    given = {id(seed)}
    for leaf, g in grads.items():
        old = leaf._grad
        if create_graph:
            leaf._grad = g if old is None else old + g
        elif old is not None:
            leaf._grad = result_tensor(old.data + g, None)
        else:
            if g.base is not None or id(g) in given:
                g = g.copy()
            given.add(id(g))
            leaf._grad = result_tensor(g, None)


def _check_versions(node: Node) -> None:
    """Raise if an array the VJP will read was changed in place after it was saved."""
    for i, data in enumerate((*node.saved, node.out)):
        if changed_since(data, node.epoch):
            parent = node[i] if i < len(node) else None  # a node is the list of its parents
            what = f"input {i}" if i < len(node) else "output"
            if isinstance(parent, Tensor) and parent.name:
                what += f" ('{parent.name}')"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: {what} of {node.prim.name}, of shape "
                f"{np.shape(data)}, was changed in place after the graph was recorded. "
                f"Compute the graph again after changing the tensor."
            )


_NO_CONTEXT = contextlib.nullcontext()
