"""Functional transforms in the style of JAX: ``grad``, ``vjp``, ``jvp``, ``jacobian``...

and ``gradients`` (PyTorch's ``torch.autograd.grad``), on which they are built.

**Containers.** Arguments and results may be tuples (namedtuples too), lists and dicts
(``OrderedDict`` too) of tensors, nested in any way, with None as an empty container:
JAX's and HIPS autograd's *pytrees*. A transform returns the structure it was given:
``grad(f)(params)`` of a dict of parameters is a dict of gradients, the cotangent of
a tuple-valued function is a tuple, the Jacobian of a dict-valued function is a dict
holding, per entry, the structure of the arguments. :func:`flatten` and
:func:`unflatten` do this once for every transform.

**Arguments.** Each differentiated leaf of the arguments becomes an input of its own:
a fresh leaf tensor, or, when the value already requires grad (an enclosing
transform's argument, a model's parameter), an ``argument`` node on top of it, so the
result stays connected to it. The engine differentiates only with respect to those
inputs, so a transform differentiates with respect to argument *positions*, as JAX
and ``torch.func`` do: the same tensor passed twice is two inputs, and an inner
transform never confuses its argument with a tensor it closes over
(``grad(lambda y: grad(lambda x: x * y)(y))(3.0)`` is 1, not 2). ``argnums=(0, 0)``
gives argument 0's gradient twice.

**Which results keep a graph.** A result is connected to the tensors that require
grad it depends on, other than the transform's own inputs (an enclosing transform's
arguments, closed-over parameters, a cotangent or tangent that requires grad), like
any op result and like ``torch.func``: then the gradients are computed with
``create_graph=True``, so transforms nest (``grad(grad(f))`` is ``f''``) and a
gradient penalty ``(grad(critic)(x) ** 2).sum()`` reaches the critic's parameters.
Otherwise (and always under ``ag.no_grad()``) the first-order pass runs on ndarrays
and the results are constants.

**Closures.** When ``f``'s result does not depend on some differentiated argument but
does depend on closed-over tensors that require grad, that argument's gradient would
be silently zero, and the function almost certainly reads a model's parameters where
it meant its argument (``hessian(lambda w: loss(model(X)))(w)``): the transform warns
with :class:`ClosureWarning`, once per call site, naming the remedy. A closure the
result depends on *besides* its arguments is legitimate (``grad(lambda x:
loss(model(x)))(x)`` is the gradient with respect to the input) and stays quiet.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from .backward import run_backward, seed_gradient
from .mode import enable_grad, in_transform, is_grad_enabled, transform_call
from .node import Node, clock
from .ops import stack
from .primitive import Primitive, apply_unary, unchanged
from .tensor import Tensor, as_tensor

Argnums = int | tuple[int, ...]


# ---------------------------------------------------------------- containers (pytrees)
class TreeDef(NamedTuple):
    """The structure of a container of leaves, without the leaves."""

    kind: type | None = None  #: the container's type; None for a leaf
    keys: tuple[Any, ...] = ()  #: a dict's keys, in order
    children: tuple[TreeDef, ...] = ()


LEAF = TreeDef()
_DICTS = (dict, OrderedDict)
_NONE_TYPE = type(None)


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of ``tree`` in order (dicts in insertion order) and its structure."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list[Any]) -> TreeDef:
    kind = type(tree)
    if kind in _DICTS:
        return TreeDef(kind, tuple(tree), tuple(_flatten(v, leaves) for v in tree.values()))
    if kind is tuple or kind is list or (issubclass(kind, tuple) and hasattr(kind, "_fields")):
        return TreeDef(kind, (), tuple(_flatten(v, leaves) for v in tree))  # (namedtuples too)
    if tree is None:
        return TreeDef(_NONE_TYPE)
    leaves.append(tree)
    return LEAF


def unflatten(treedef: TreeDef, leaves: Sequence[Any]) -> Any:
    """The container of structure ``treedef`` holding ``leaves`` (inverse of :func:`flatten`)."""
    if treedef.kind is None and len(leaves) == 1:  # a single leaf: the common case
        return leaves[0]
    items = iter(leaves)
    tree = _build(treedef, items)
    if next(items, _END) is not _END:
        raise ValueError(f"unflatten: more than the {count_leaves(treedef)} leaves the tree holds")
    return tree


_END = object()


def _build(treedef: TreeDef, leaves: Iterator[Any]) -> Any:
    kind = treedef.kind
    if kind is None:
        leaf = next(leaves, _END)
        if leaf is _END:
            raise ValueError("unflatten: fewer leaves than the tree holds")
        return leaf
    children = [_build(child, leaves) for child in treedef.children]
    if kind in _DICTS:
        return kind(zip(treedef.keys, children))
    if kind is _NONE_TYPE:
        return None
    return kind(*children) if kind is not tuple and kind is not list else kind(children)


def count_leaves(treedef: TreeDef) -> int:
    """Number of leaves a tree of structure ``treedef`` holds."""
    if treedef.kind is None:
        return 1
    return sum(count_leaves(child) for child in treedef.children)


def leaf_paths(treedef: TreeDef, root: str) -> list[str]:
    """Each leaf's place, for messages: ``argument 0['W']``, ``output[1]``."""
    if treedef.kind is None:
        return [root]
    labels = treedef.keys if treedef.kind in _DICTS else range(len(treedef.children))
    return [
        path
        for label, child in zip(labels, treedef.children)
        for path in leaf_paths(child, f"{root}[{label!r}]")
    ]


def leaves_like(treedef: TreeDef, tree: Any, root: str) -> list[Any]:
    """The leaves of ``tree``, which must have ``treedef``'s structure; ``ValueError``
    naming the first place where it differs. Dict keys may come in any order and a
    list may stand for a tuple (positions decide); a leaf of ``treedef`` takes
    whatever is there as one value (a list of numbers where an array is expected)."""
    leaves: list[Any] = []
    pending = [(treedef, tree, root)]
    while pending:
        want, got, path = pending.pop()
        kind = want.kind
        if kind is None:
            leaves.append(got)
            continue
        if kind in _DICTS:
            if not isinstance(got, dict) or set(got) != set(want.keys):
                raise ValueError(
                    f"{path} should be a dict with keys {list(want.keys)}, got {_describe(got)}"
                )
            labels, values = want.keys, [got[key] for key in want.keys]
        elif kind is _NONE_TYPE:
            if got is not None:
                raise ValueError(f"{path} should be None, got {_describe(got)}")
            continue
        else:
            if not isinstance(got, (tuple, list)) or len(got) != len(want.children):
                raise ValueError(
                    f"{path} should be a {kind.__name__} of {len(want.children)}, "
                    f"got {_describe(got)}"
                )
            labels, values = range(len(got)), got
        pending += reversed(
            [(c, v, f"{path}[{k!r}]") for c, v, k in zip(want.children, values, labels)]
        )
    return leaves


def _describe(value: Any) -> str:
    name = type(value).__name__
    if isinstance(value, dict):
        return f"a {name} with keys {list(value)}"
    if isinstance(value, (tuple, list)):
        return f"a {name} of {len(value)}"
    if isinstance(value, (Tensor, np.ndarray)):
        return f"{'a Tensor' if isinstance(value, Tensor) else 'an array'} of shape {value.shape}"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


# ---------------------------------------------------------------- gradients
def gradients(
    output: Tensor,
    inputs: Sequence[Tensor],
    grad_output: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """``d(output)/d(inputs)`` weighted by ``grad_output``, like ``torch.autograd.grad``.

    Nothing is accumulated into ``.grad``; an input that ``output`` does not depend
    on gets zeros, and a tensor listed twice gets its full gradient twice.
    ``retain_graph`` defaults to ``create_graph``.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"gradients: output must be a Tensor, got {type(output).__name__}")
    _check_float_output(output, "gradients: output")
    inputs = tuple(inputs)
    slots: dict[Any, int] = {}  # graph object (a leaf, or a non-leaf's node) -> result slot
    distinct: list[Tensor] = []  # the first input of each slot
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradients: inputs[{i}] must be a Tensor, got {type(x).__name__}")
        if slots.setdefault(_graph_key(x), len(distinct)) == len(distinct):
            distinct.append(x)
    results: list[Any] = [None] * len(distinct)
    if output.requires_grad:
        results = run_backward(
            output,
            seed_gradient(output, grad_output),
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph,
            targets=slots,
        )
    grads = [
        Tensor(np.zeros_like(x.data)) if r is None else as_tensor(r)
        for r, x in zip(results, distinct)
    ]
    return tuple(grads[slots[_graph_key(x)]] for x in inputs)


def _graph_key(x: Tensor) -> Any:
    """What backward reaches for ``x``: its node, or the tensor itself for a leaf."""
    return x if x._node is None else x._node


def _check_float_output(value: Tensor, what: str) -> None:
    if value.dtype.kind != "f":
        hint = " (a comparison such as v > 0 is a constant)" if value.dtype.kind == "b" else ""
        raise TypeError(
            f"{what} is a Tensor of dtype {value.dtype}{hint}; only floating-point "
            f"results can be differentiated"
        )


# ---------------------------------------------------------------- a transform's inputs
#: The identity through which a value that already requires grad enters a transform:
#: the transform differentiates with respect to this node, its own input, while the
#: result stays connected to the value (a copy: in-place changes inside ``f`` stay there).
ARGUMENT = Primitive(
    "argument",
    lambda x: x.copy(),
    vjps=(unchanged,),
    saves=(),
    doc="x entering a transform;  d/dx = 1",
    register=False,
)

#: Leaves made by transforms, by id. Once no transform is evaluating its function,
#: nothing can differentiate with respect to them any more (a ``vjp`` whose ``f`` has
#: returned), so reaching one does not connect a result to anything.
_TRANSFORM_LEAVES: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def _made_here(leaves: Sequence[Tensor]) -> None:
    for leaf in leaves:
        _TRANSFORM_LEAVES[id(leaf)] = leaf


class _CallCount(threading.local):
    """Transform calls started in this thread (so a call knows if ``f`` made others)."""

    started = 0


_CALLS = _CallCount()


class _Inputs:
    """A transform's differentiated inputs, one per leaf of the differentiated arguments."""

    __slots__ = ("tensors", "call_args", "argnums", "single", "trees", "start", "call")

    def __init__(self, args: tuple[Any, ...], argnums: Argnums, what: str) -> None:
        self.start = next(clock)  # nodes numbered below were recorded before this call
        _CALLS.started += 1
        self.call = _CALLS.started  # calls numbered above were made by f (nested)
        self.single = isinstance(argnums, int)
        self.argnums = _argnum_tuple(argnums, len(args))
        self.call_args = list(args)
        self.tensors: list[Tensor] = []
        self.trees: dict[int, tuple[TreeDef, int, int]] = {}  # argnum -> structure, its inputs
        for n in dict.fromkeys(self.argnums):  # each argument once, however often listed
            leaves, tree = flatten(args[n])
            start = len(self.tensors)
            self.trees[n] = (tree, start, start + len(leaves))
            for leaf in leaves:
                x = _input(leaf)
                if x is None:
                    path = self.paths()[len(self.tensors)]
                    raise TypeError(f"{what}: {path} {_not_float(leaf)}")
                self.tensors.append(x)
            self.call_args[n] = unflatten(tree, self.tensors[start:])

    def paths(self) -> list[str]:
        """Each input's place, for messages: ``argument 0['W']``."""
        return [
            path
            for n, (tree, _, _) in self.trees.items()
            for path in leaf_paths(tree, f"argument {n}")
        ]

    def per_argnum(self, flat: Sequence[Any]) -> Any:
        """Per-input values (gradients) back in the arguments' structure: one tree for
        an int ``argnums``, a tuple of trees (one per entry, repeats included) otherwise."""
        trees = {
            n: unflatten(tree, flat[start:stop]) for n, (tree, start, stop) in self.trees.items()
        }
        return trees[self.argnums[0]] if self.single else tuple(trees[n] for n in self.argnums)


def _argnum_tuple(argnums: Argnums, nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums} is out of range for {nargs} positional arguments")
    return tuple(n % nargs for n in nums)


def _input(value: Any) -> Tensor | None:
    """The input tensor for one differentiated leaf (see the module docstring), or None
    if the value is not floating-point."""
    try:
        x = as_tensor(value)
    except TypeError:
        return None
    if x.dtype.kind != "f":
        return None
    if x.requires_grad:
        with enable_grad():
            return apply_unary(ARGUMENT, x)
    leaf = Tensor(x.data, requires_grad=True)
    _made_here((leaf,))
    return leaf


def _not_float(value: Any) -> str:
    """Why ``value`` cannot be differentiated with respect to (for a message)."""
    try:
        dtype = as_tensor(value).dtype
    except TypeError:
        return (
            f"is {_describe(value)}; differentiated arguments must be floating-point "
            f"tensors, arrays or numbers, or tuples, lists and dicts of them"
        )
    return (
        f"has dtype {dtype}: can only differentiate with respect to floating-point inputs "
        f"(pass e.g. 3.0 instead of 3)"
    )


def _evaluate(f: Callable[..., Any], inputs: _Inputs) -> Any:
    with transform_call(), enable_grad():
        return f(*inputs.call_args)


def _outputs(result: Any, what: str) -> tuple[list[Tensor], TreeDef]:
    """``f``'s result as a list of float tensors and its structure (``TypeError`` naming
    any leaf that is not floating-point: a bool, an int, a string...)."""
    leaves, tree = flatten(result)
    outs = []
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, Tensor):
            if leaf.dtype.kind != "f":
                _check_float_output(leaf, f"{what}: f's {leaf_paths(tree, 'output')[k]}")
        elif not isinstance(leaf, (float, np.floating)) and not (
            isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"
        ):
            raise TypeError(
                f"{what}: f's {leaf_paths(tree, 'output')[k]} is {_describe(leaf)}"
                f"{f' ({leaf!r:.40})' if isinstance(leaf, (str, int)) else ''}; f must return "
                f"floating-point tensors (or containers of them) to be differentiated"
            )
        outs.append(as_tensor(leaf))
    return outs, tree


def _returned(outs: list[Tensor], tree: TreeDef, connected: bool) -> Any:
    """``f``'s result as the transform returns it: detached unless it stays connected."""
    return unflatten(tree, outs if connected else [o.detach() for o in outs])


# ---------------------------------------------------------------- what a result reaches
class _Reach(NamedTuple):
    """What the graph of ``f``'s result reaches besides the transform's inputs."""

    outside: bool  #: tensors that require grad: the result stays connected to them
    shared: bool  #: nodes recorded before the call (another graph): backward keeps them


def _examine(what: str, outs: list[Tensor], inputs: _Inputs) -> _Reach:
    """Walk the graph of ``outs``: warn about ignored arguments (:class:`ClosureWarning`)
    and say what else it reaches (see the module docstring)."""
    index = {_graph_key(x): i for i, x in enumerate(inputs.tensors)}
    reached = [False] * len(inputs.tensors)
    closures: list[Tensor] = []
    shared = False
    finished = not in_transform()  # no transform is running: every transform leaf is done
    seen: set[Any] = set()
    pending: list[Any] = [_graph_key(o) for o in outs]
    while pending:
        item = pending.pop()
        if item is None or item in seen:
            continue
        seen.add(item)
        i = index.get(item)
        if i is not None:
            reached[i] = True
            if type(item) is Node and type(item[0]) is Node:  # an argument over a non-leaf:
                shared = True  # backward goes on into the graph that made it
        elif type(item) is Node:
            shared = shared or item.epoch < inputs.start
            pending += item
        elif item._requires_grad and not (finished and _TRANSFORM_LEAVES.get(id(item)) is item):
            closures.append(item)
    if closures and not all(reached) and _CALLS.started == inputs.call:
        # (when f called transforms itself, its result is a derivative, which may rightly
        # ignore an argument, as the Hessian of a linear function does: the inner
        # transforms, which ran the user's code, have warned if it ignored theirs)
        _warn_ignored(what, inputs, reached, closures)
    through_arguments = any(r and x._node is not None for r, x in zip(reached, inputs.tensors))
    return _Reach(bool(closures) or through_arguments, shared)


class ClosureWarning(UserWarning):
    """A transform's result ignores a differentiated argument but depends on tensors
    that require grad read from ``f``'s closure: that argument's gradient is zero."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn_ignored(what: str, inputs: _Inputs, reached: list[bool], closures: list[Tensor]) -> None:
    ignored = [path for path, r in zip(inputs.paths(), reached) if not r]
    passed = {
        id(_origin(x)) for x, r in zip(inputs.tensors, reached) if not r and x._node is not None
    }
    shapes = ", ".join(str(c.shape) for c in closures[:4]) + (", ..." if len(closures) > 4 else "")
    places = ", ".join(ignored[:4]) + (", ..." if len(ignored) > 4 else "")
    if any(id(c) in passed for c in closures):
        cause = (
            f"f reads the tensor passed as {places} from its closure instead of using the "
            f"argument it receives, and transforms differentiate with respect to the "
            f"argument (as JAX and torch.func do): use the argument inside f"
        )
    else:
        which = (
            "1 tensor that requires"
            if len(closures) == 1
            else f"{len(closures)} tensors that require"
        )
        cause = (
            f"it depends on {which} grad read from f's closure (shapes {shapes}), and "
            f"transforms differentiate only with respect to their arguments: pass those "
            f"tensors as arguments"
        )
    frame, level = sys._getframe(), 1  # up to the first frame outside autograd: the call site
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"ag.{what}: the result does not depend on {places}, so its gradient is zero, but "
        f"{cause}. For a module's parameters, differentiate a function of them: "
        f"lambda params: loss(nn.functional_call(module, params, x)).",
        ClosureWarning,
        stacklevel=level,
    )


def _origin(x: Tensor) -> Any:
    """The value an ``argument`` input stands for (through nested transforms)."""
    node = x._node
    while type(node) is Node and node.prim is ARGUMENT:
        parent = node[0]
        if isinstance(parent, Tensor):
            return parent
        node = parent
    return node


# ---------------------------------------------------------------- the transforms
def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """A function returning ``(f(*args), df/dargs[argnums])``; ``f`` must return a scalar.

    Differentiated arguments may be containers (the gradient has their structure).
    With ``has_aux=True``, ``f`` returns ``(scalar, aux)`` and the result is
    ``((value, aux), grad)``, as in JAX.
    """

    @functools.wraps(f)
    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        inputs = _Inputs(args, argnums, "grad")
        result = _evaluate(f, inputs)
        value, aux = _split_aux(result, has_aux)
        outs, tree = _outputs(value, "grad")
        if tree.kind is not None:
            raise TypeError(
                f"grad requires f to return one scalar; it returned {_describe(value)}: use "
                f"ag.jacobian or ag.vjp for several outputs, or has_aux=True to return "
                f"(scalar, auxiliary data)"
            )
        (out,) = outs
        if out.size != 1:
            raise ValueError(
                f"grad requires f to return a scalar (one element); it returned shape "
                f"{out.shape}: use ag.jacobian or ag.vjp for non-scalar outputs"
            )
        reach = _examine("grad", outs, inputs)
        connected = is_grad_enabled() and reach.outside
        grads = gradients(
            out, inputs.tensors, retain_graph=connected or reach.shared, create_graph=connected
        )
        grads = inputs.per_argnum(grads)
        value = out if connected else out.detach()
        if has_aux:
            aux_leaves, aux_tree = flatten(aux)
            detached = [
                a if connected or not isinstance(a, Tensor) else a.detach() for a in aux_leaves
            ]
            return (value, unflatten(aux_tree, detached)), grads
        return value, grads

    return value_and_grad_f


def _split_aux(result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(
            f"grad with has_aux=True requires f to return a pair (scalar, aux); it "
            f"returned {_describe(result)}"
        )
    return result[0], result[1]


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function computing ``df/dx`` for the arguments ``argnums`` (a tuple gives a tuple).

    ``f`` must return a scalar. Nests: ``grad(grad(f))`` is the second derivative.
    Arguments may be containers: ``grad(loss)(params)`` of a dict is a dict. With
    ``has_aux=True``, ``f`` returns ``(scalar, aux)`` and the result is ``(grad, aux)``.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args: Any) -> Any:
        value, grads = value_and_grad_f(*args)
        return (grads, value[1]) if has_aux else grads

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(v)`` returns ``vᵀ J`` for each primal.

    ``v`` has the structure of ``f``'s result (a tuple for a tuple-valued ``f``); each
    gradient has its primal's. ``vjp_fn`` is differentiable with respect to ``v``
    (decided when it runs: a ``v`` that requires grad keeps the graph).
    """
    inputs = _Inputs(primals, tuple(range(len(primals))), "vjp")
    outs, tree = _outputs(_evaluate(f, inputs), "vjp")
    reaches_outside = _examine("vjp", outs, inputs).outside

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        cotangents = leaves_like(tree, cotangent, "vjp_fn: the cotangent")
        _check_like(cotangents, outs, lambda: leaf_paths(tree, "the cotangent"), "vjp_fn", "output")
        keep = is_grad_enabled() and (
            reaches_outside or any(isinstance(c, Tensor) and c.requires_grad for c in cotangents)
        )
        total = [Tensor(np.zeros_like(x.data)) for x in inputs.tensors]
        for i, (out, c) in enumerate(zip(outs, cotangents)):
            grads = gradients(out, inputs.tensors, c, retain_graph=True, create_graph=keep)
            total = list(grads) if i == 0 else [t + g for t, g in zip(total, grads)]
        return inputs.per_argnum(total)

    return _returned(outs, tree, is_grad_enabled() and reaches_outside), vjp_fn


def _check_like(
    values: Sequence[Any],
    likes: Sequence[Tensor],
    paths: Callable[[], list[str]],
    what: str,
    role: str,
) -> None:
    """Cotangents or tangents must be real numbers of their outputs' or primals' shapes
    (``paths()`` names them, computed only for a message)."""
    for k, (value, like) in enumerate(zip(values, likes)):
        kind = value.dtype.kind if isinstance(value, (Tensor, np.ndarray)) else None
        if kind is None:
            try:
                kind = np.asarray(value).dtype.kind
            except (TypeError, ValueError):
                kind = "O"
        if kind == "c":
            raise TypeError(
                f"{what}: {paths()[k]} is complex; topograd differentiates real floating-point "
                f"values only"
            )
        if kind not in "biuf":
            raise TypeError(f"{what}: {paths()[k]} must be real numbers, got {_describe(value)}")
        if np.shape(value) != like.shape:
            raise ValueError(
                f"{what}: {paths()[k]} has shape {np.shape(value)}, {role} {like.shape}"
            )


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J t)``: the forward-mode product, by differentiating a VJP.

    ``u -> Jᵀu`` is linear in ``u``, so ``J t = d/du <Jᵀu, t>``; this needs only
    reverse mode (every VJP rule is itself differentiable). Primals and tangents may be
    containers (each tangent has its primal's structure); ``J t`` has the result's.
    """
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(
                f"jvp: {name} must be a tuple or list with one entry per argument of f, got "
                f"{_describe(given)} (for one argument x, write ag.jvp(f, (x,), (t,)))"
            )
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    inputs = _Inputs(primals, tuple(range(len(primals))), "jvp")
    flat_tangents = []
    for n, (tree, _, _) in inputs.trees.items():
        flat_tangents += leaves_like(tree, tangents[n], f"jvp: tangent {n}")
    paths = lambda: [path.replace("argument", "tangent", 1) for path in inputs.paths()]
    _check_like(flat_tangents, inputs.tensors, paths, "jvp", "primal")
    outs, tree = _outputs(_evaluate(f, inputs), "jvp")
    reach = _examine("jvp", outs, inputs)
    keep = is_grad_enabled() and (
        reach.outside or any(isinstance(t, Tensor) and t.requires_grad for t in flat_tangents)
    )
    us = [Tensor(np.zeros_like(o.data), requires_grad=True) for o in outs]
    _made_here(us)
    with enable_grad():
        terms = [
            (g * t).sum()
            for out, u in zip(outs, us)
            for g, t in zip(gradients(out, inputs.tensors, u, create_graph=True), flat_tangents)
        ]
        total = sum(terms[1:], terms[0]) if terms else None
    if total is not None and total.requires_grad:
        tangent_out = gradients(total, us, retain_graph=keep or reach.shared, create_graph=keep)
    else:
        tangent_out = tuple(Tensor(np.zeros_like(o.data)) for o in outs)
    out = _returned(outs, tree, is_grad_enabled() and reach.outside)
    return out, unflatten(tree, tangent_out)


def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning ``df/dx``, of shape ``out.shape + x.shape``.

    For containers, the result has ``f``'s output structure with, at each output, the
    structure of the differentiated arguments (``J[out_key][in_key]``). Computed row
    by row: one backward pass per element of the output.
    """

    @functools.wraps(f)
    def jacobian_f(*args: Any) -> Any:
        inputs = _Inputs(args, argnums, "jacobian")
        outs, tree = _outputs(_evaluate(f, inputs), "jacobian")
        connected = is_grad_enabled() and _examine("jacobian", outs, inputs).outside
        blocks = [inputs.per_argnum(_jacobian_blocks(out, inputs, connected)) for out in outs]
        return unflatten(tree, blocks)

    return jacobian_f


def _jacobian_blocks(out: Tensor, inputs: _Inputs, connected: bool) -> list[Tensor]:
    """``d out / d x`` for each input ``x``, shape ``out.shape + x.shape``."""
    rows: list[list[Tensor]] = [[] for _ in inputs.tensors]
    for k in range(out.size if out.requires_grad else 0):
        seed = np.zeros(out.size, dtype=out.dtype)
        seed[k] = 1
        grads = gradients(
            out, inputs.tensors, seed.reshape(out.shape), retain_graph=True, create_graph=connected
        )
        for row, g in zip(rows, grads):
            row.append(g)
    return [
        stack(row).reshape(out.shape + x.shape)
        if row
        else Tensor(np.zeros(out.shape + x.shape, x.dtype))
        for row, x in zip(rows, inputs.tensors)
    ]


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning the matrix of second derivatives, shape ``x.shape + x.shape``.

    ``jacobian(grad(f, argnums), argnums)``: for a tuple ``argnums`` the blocks
    ``H[i][j] = d2f / dx_i dx_j``; for a container argument, ``H[key_i][key_j]``.
    """
    return jacobian(grad(f, argnums), argnums)
