"""The reverse-mode pass: ``Tensor.backward`` and :func:`run_backward`.

Every op result that requires grad holds a :class:`~autograd.node.Node`: the primitive
that made it, its *parents* (per input: the input's node; the input tensor itself when
it is a leaf, which receives a gradient only if it requires grad; None for raw arrays
and Python scalars), the input arrays its VJP reads and its own output array.
:func:`run_backward` takes the root's node and then, node after node:

1. **check**: the node's arrays are still there (not released by an earlier backward)
   and none its rules read was changed in place since it was recorded;
2. **VJP**: runs the rule of each input that needs a gradient (or the joint rule) and
   fits each gradient to its input's shape and dtype (:func:`fit_grad`, the one
   broadcasting helper);
3. **route**: adds each input's gradient to what its parent has received. The newest
   parent reached is carried straight to the next iteration (a chain never waits);
   others wait in a heap, and leaves collect their sums;
4. **release**: drops the node's saved arrays unless ``retain_graph=True`` (a small
   constant input, which no tensor holds, stays as ``node.constant`` for pictures);
5. **next**: the newest node reached. Nodes are numbered when recorded, after their
   inputs, so when the newest reached node runs, every consumer of it (all newer)
   has run: each VJP runs once, with its full gradient, and no counting pass or
   recursion is needed (a million-node chain works).

When no node is left, each leaf's sum is added to its ``.grad`` (or returned, for
``ag.gradients``). First-order backward runs every rule on raw ndarrays with ``xp`` =
numpy, recording nothing; ``create_graph=True`` runs the same rules on Tensors with
``xp`` = the differentiable ops, so the gradient is itself a graph. While a compiled
function is traced (``ag.compile``), its tracer wraps the values the rules see, so the
same pass is recorded as it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .mode import enable_grad, state, tracing_threads
from .node import SMALL_CONSTANT, FreedArray, Node, changed_since, last_mutation
from .ops.namespaces import NUMPY_NS, TENSOR_NS
from .primitive import check_finite, unchanged
from .tensor import Tensor, as_tensor, result_tensor, unwrap

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)

ndarray = np.ndarray


def backward(
    self: Tensor, grad: Any = None, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Accumulate ``d(self)/d(leaf)``-weighted gradients into every leaf's ``.grad``.

    ``grad`` is ``dL/d(self)``; it may be omitted only for one-element tensors
    (where it is 1). The graph's saved arrays are freed unless ``retain_graph``;
    ``create_graph`` records the backward pass itself, for higher derivatives.
    """
    if not self._requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "call backward() on a result computed from tensors with requires_grad=True"
        )
    run_backward(
        self,
        seed_gradient(self, grad),
        retain_graph=retain_graph or create_graph,
        create_graph=create_graph,
    )


Tensor.backward = backward  # attached here: the engine sits above the Tensor class


def seed_gradient(output: Tensor, grad: Any) -> Any:
    """Validate or create ``dL/d(output)`` for starting a backward pass."""
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {output.shape}: pass backward(grad=...) of that shape, or reduce "
                f"it first (e.g. .sum())"
            )
        seed = np.empty(output.data.shape, output.data.dtype)
        seed.fill(1)  # cheaper than np.ones for the one-element seed
        return seed
    if isinstance(grad, Tensor):
        if grad.shape != output.shape:
            raise ValueError(_grad_shape_message(grad.shape, output.shape))
        return grad if grad.dtype == output.dtype else grad.astype(output.dtype)
    grad = np.asarray(grad, dtype=output.dtype)
    if grad.shape != output.shape:
        raise ValueError(_grad_shape_message(grad.shape, output.shape))
    return grad


def _grad_shape_message(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    return f"backward: grad has shape {got} but the output has shape {want}; they must match"


def sum_to_shape(grad: Any, shape: tuple[int, ...], what: str = "an op") -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    If ``y = broadcast(x)`` then ``dL/dx = sum of dL/dy over the broadcast axes``.
    Only that direction is allowed: ``shape`` must broadcast to ``grad.shape``, else
    ``ValueError`` naming ``what`` and both shapes. Works on ndarrays and Tensors.
    """
    lead = grad.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, grad.shape[lead:])):
        raise ValueError(
            f"{what}: its gradient has shape {grad.shape}, which cannot be reduced to the "
            f"input's shape {shape} (only axes the forward broadcast are summed)"
        )
    if lead:  # axes broadcasting prepended: sum them away
        grad = grad.sum(axis=0 if lead == 1 else tuple(range(lead)))
    if grad.shape != shape:  # length-1 axes broadcasting stretched: sum, keeping them
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def fit_grad(grad: Any, like: Any, what: str = "an op") -> Any:
    """Give ``grad`` the shape and dtype of the input ``like`` it is the gradient of."""
    if grad.shape != like.shape:
        grad = sum_to_shape(grad, like.shape, what)
    if grad.dtype != like.dtype:
        grad = grad.astype(like.dtype)
    return grad


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
    The phases are the module docstring's.
    """
    xp = TENSOR_NS if create_graph else NUMPY_NS
    grad = as_tensor(grad) if create_graph else unwrap(grad)
    inputs_of = _graph_inputs if create_graph else None  # (node, g) -> args, out, params
    store = _store_leaf_grads
    tracer = state.tracer if tracing_threads else None
    if tracer is not None:  # tracing a compiled function: the pass is recorded as it runs
        xp, grad, inputs_of, store = tracer.backward(xp, grad, inputs_of, store)
    results = None if targets is None else [None] * len(targets)
    node = root._node
    if node is None:  # backward on a leaf: its gradient is the seed itself
        store({root: grad}, targets, results, create_graph, grad)
        return results

    grads: dict[Any, Any] = {}  # gradients summed so far, keyed by waiting node or by leaf
    waiting: list[tuple[int, Node]] = []  # heap of (-epoch, node): reached, not yet run
    g = grad
    anomaly = state.anomaly
    inspect = anomaly or on_step is not None
    with enable_grad() if create_graph else _NO_CONTEXT:
        while node is not None:
            # 1. check
            if targets is not None and node in targets:
                results[targets[node]] = g
            saved = node.saved
            if saved is None:
                raise RuntimeError(FREED_GRAPH_MESSAGE)
            if node.epoch < last_mutation[0]:  # some array changed after this node was made
                _check_versions(node)
            # 2. VJP
            if inputs_of is not None:
                args, out, params = inputs_of(node, g)
            else:
                args, out, params = saved, node.out, node.params
            prim = node.prim
            vjps = prim.vjps  # one rule per input, or None when the rule is joint
            joint = None
            if vjps is None:
                joint = (
                    prim.vjp(xp, g, out, *args, **params) if params else prim.vjp(xp, g, out, *args)
                )
            in_grads = [None] * len(node) if on_step is not None else None
            newest = None  # the newest node-parent reached: it may run next
            constant = None  # the last raw array or Python scalar among the inputs
            for i, parent in enumerate(node):  # a node is the list of its parents
                if parent is None:  # no gradient wanted; kept for pictures if small
                    constant = saved[i]
                    continue
                is_node = type(parent) is Node
                if not (is_node or parent._requires_grad):
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
                if kind is not type(like) or (
                    kind is ndarray and (gi.shape != like.shape or gi.dtype is not like.dtype)
                ):
                    gi = fit_grad(gi, like, f"{prim.name} (input {i})")
                if inspect:
                    if anomaly:
                        check_finite(gi, f"'{prim.name}Backward' in its gradient for input {i}")
                    if in_grads is not None:
                        in_grads[i] = gi
                # 3. route
                prev = grads.get(parent)
                if prev is not None:  # a leaf or a waiting node: add
                    grads[parent] = prev + gi
                elif not is_node:  # a leaf's first gradient
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
            # 4. release
            if not retain_graph:
                node.release()
                if constant is not None and (
                    type(constant) is not ndarray or constant.size <= SMALL_CONSTANT
                ):
                    node.constant = constant
            # 5. next: the newest reached node (its consumers, all newer, have run)
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
        store(grads, targets, results, create_graph, grad)
    return results


def _graph_inputs(node: Node, g: Any) -> tuple[tuple[Any, ...], Tensor, Any]:
    """For ``create_graph``: the node's inputs and output as Tensors attached to the graph
    (and its params)."""
    args = tuple(as_graph_input(p, d) for p, d in zip(node, node.saved))
    return args, as_graph_input(node, node.out), node.params


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
    """Raise if an array the node's rules read was changed in place after it was saved."""
    prim = node.prim
    reads = range(len(node)) if prim.reads is None else prim.reads
    for i in reads:
        _refuse_if_changed(node, node.saved[i], f"input {i}", node[i])
    if prim.reads_out:
        _refuse_if_changed(node, node.out, "output", None)


def _refuse_if_changed(node: Node, data: Any, what: str, parent: Any) -> None:
    if not changed_since(data, node.epoch):
        return
    if isinstance(parent, Tensor) and parent.name:
        what += f" ('{parent.name}')"
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {what} of {node.prim.name}, of shape {np.shape(data)}, was "
        f"changed in place after the graph was recorded. Compute the graph again after "
        f"changing the tensor."
    )


_NO_CONTEXT = contextlib.nullcontext()
