"""Primitives: a forward in numpy and its vector-Jacobian product, declared together.

A primitive's VJP rule receives ``(xp, g, out, *inputs, **params)``: the array
namespace, the gradient of the output, the output and the inputs. First-order
backward passes ndarrays and ``xp`` = numpy; ``create_graph=True`` passes Tensors
and ``xp`` = the differentiable ops, so every rule is itself differentiable.
A rule may return a gradient larger than its input (broadcast) or of another
dtype; the engine sums and casts it back (``graph.fit_grad``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .graph import Node, check_finite, is_large, stand_in
from .mode import state, threads_off_defaults
from .tensor import Tensor, clock, result_tensor

VJP = Callable[..., Any]

ndarray = np.ndarray
_SEQUENCES = (list, tuple)  # raw sequences become arrays (never list concatenation)

#: numpy's float scalar types (0-d results): known float without a ``dtype`` lookup.
FLOAT_SCALARS = (np.float64, np.float32, np.float16)

#: Every primitive by name: the list the test suite and docs iterate over.
REGISTRY: dict[str, Primitive] = {}


class Primitive:
    """A differentiable operation: ``forward`` on ndarrays plus its VJP rule(s).

    Give either ``vjps``, one rule per input (only the rules of inputs that need a
    gradient run), or ``vjp``, one rule returning a tuple with a gradient (or None)
    for every input (for ops with a variable number of inputs). ``saves`` lists what
    the rules read: input indices and ``"out"`` (None: everything). Arrays not listed
    and bigger than ``SMALL_BYTES`` (64 KiB) are released at once, leaving only their
    shape and dtype (:class:`FreedArray`), so the graph holds no more memory than
    hand-written backprop would. A parameter
    named with a leading ``_`` is a residual: a dict the forward fills for the
    first-order VJP (e.g. the softmax inside the fused cross-entropy), not shown in
    pictures; under ``create_graph`` rules recompute it with differentiable ops.
    """

    __slots__ = ("name", "forward", "vjps", "vjp", "doc", "saves", "reads_out")

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: tuple[VJP, ...] | None = None,
        vjp: VJP | None = None,
        doc: str = "",
        saves: tuple[int | str, ...] | None = None,
        register: bool = True,
    ) -> None:
        if (vjps is None) == (vjp is None):
            raise TypeError(f"primitive {name!r}: give exactly one of vjps= or vjp=")
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.vjp = vjp
        self.doc = doc
        self.saves = None if saves is None else frozenset(saves)
        # whether a large output outlives recording (else it was released at once)
        self.reads_out = saves is None or "out" in self.saves
        if register:
            if name in REGISTRY:
                raise ValueError(f"a primitive named {name!r} is already registered")
            REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def apply(prim: Primitive, args: tuple[Any, ...], params: dict[str, Any] | None = None) -> Tensor:
    """Run ``prim`` on ``args`` (Tensors, arrays or Python scalars) and record a node.

    A node is recorded only when grad mode is on, some input requires grad and the
    output is floating point. Python scalars stay Python scalars, so numpy's weak
    scalar promotion keeps float32 float32. An input tensor's parent in the graph is
    its node, or the tensor itself if it is a leaf; other inputs have None.
    """
    datas = []
    parents = []
    record = False
    for arg in args:
        if isinstance(arg, Tensor):
            datas.append(arg.data)
            parents.append(arg._node or arg)
            record = record or arg._requires_grad
        else:
            datas.append(as_operand(arg))
            parents.append(None)
    try:
        out = prim.forward(*datas, **params) if params else prim.forward(*datas)
    except ValueError as exc:
        raise shape_error(prim, datas, exc) from exc
    return _result(prim, out, record, parents, tuple(datas), params)  # the node copies parents


def apply_unary(prim: Primitive, x: Any) -> Tensor:
    """``apply(prim, (x,))`` without the loop: the fast path of elementwise functions."""
    if isinstance(x, Tensor):
        data, parent, record = x.data, x._node or x, x._requires_grad
    else:
        data, parent, record = as_operand(x), None, False
    try:
        out = prim.forward(data)
    except ValueError as exc:
        raise shape_error(prim, [data], exc) from exc
    return _result(prim, out, record, (parent,), (data,), None)


def apply_binary(prim: Primitive, a: Any, b: Any) -> Tensor:
    """``apply(prim, (a, b))`` without the loop: the fast path of the Tensor operators.

    A Python number next to a float array is passed as a cached 0-d array
    (:func:`as_operand`): same values and dtype, faster numpy calls.
    """
    if isinstance(a, Tensor):
        data_a, parent_a, record = a.data, a._node or a, a._requires_grad
    else:
        data_a, parent_a, record = a, None, False
    if isinstance(b, Tensor):
        data_b, parent_b, record = b.data, b._node or b, record or b._requires_grad
    else:
        data_b, parent_b = as_operand(b, data_a), None
    if parent_a is None:
        data_a = as_operand(a, data_b)
    try:
        out = prim.forward(data_a, data_b)
    except ValueError as exc:
        raise shape_error(prim, [data_a, data_b], exc) from exc
    return _result(prim, out, record, (parent_a, parent_b), (data_a, data_b), None)


def as_operand(value: Any, other: Any = None) -> Any:
    """A non-Tensor input as the forward gets it: lists and tuples become arrays.

    A Python number next to a float array (``other``) becomes a read-only 0-d array of
    that dtype, the cast numpy's promotion (NEP 50) makes anyway: numpy computes
    ``array * 0-d array`` about twice as fast as ``array * 1.5`` (0.19 vs 0.41 µs at
    shape (8,)), here in the forward and again in the VJP, which reads the saved number.
    One array is made per number and dtype (at most :data:`NUMBER_CACHE_SIZE`). Zeros
    and NaN stay numbers: ``0.0 == -0.0`` and ``nan != nan`` would mislead the cache.
    """
    kind = type(value)
    if kind is float or kind is int:
        if type(other) is ndarray and other.dtype.kind == "f" and value == value != 0:
            key = (value, other.dtype)
            array = _NUMBER_ARRAYS.get(key)
            return _new_number_array(key) if array is None else array
        return value
    return np.asarray(value) if kind in _SEQUENCES else value


def _new_number_array(key: tuple[float, np.dtype]) -> np.ndarray:
    """Make and cache the read-only 0-d array for ``(number, dtype)``."""
    if len(_NUMBER_ARRAYS) >= NUMBER_CACHE_SIZE:
        _NUMBER_ARRAYS.clear()
    array = _NUMBER_ARRAYS[key] = np.asarray(*key)
    array.flags.writeable = False
    return array


#: Most Python numbers kept as 0-d arrays by :func:`as_operand` (a program's constants).
NUMBER_CACHE_SIZE = 1024
_NUMBER_ARRAYS: dict[tuple[float, np.dtype], np.ndarray] = {}


def _result(
    prim: Primitive,
    out: Any,
    record: bool,
    parents: Sequence[Any],
    saved: tuple[Any, ...],
    params: dict[str, Any] | None,
) -> Tensor:
    """The output tensor, with a node when ``record`` (an input requires grad) allows one.

    The node's slots are filled directly (no Python ``__init__``): this runs once per op.
    """
    scope = None
    if threads_off_defaults:  # a thread (maybe this one) has grad off, anomaly on or a scope
        if state.anomaly:
            check_finite(out, f"'{prim.name}' (forward)")
        record = record and state.grad_enabled
        scope = state.scope
    if record:  # only float outputs are differentiable
        record = out.dtype.kind == "f" if type(out) is ndarray else type(out) in FLOAT_SCALARS
    if not record:
        return result_tensor(out, None)
    node = Node(parents)
    node.prim = prim
    node.params = params
    node.epoch = next(clock)  # nodes are numbered in creation order (see graph)
    node.name = None
    node.scope = scope
    kept_out = out
    if prim.saves is not None and (is_large(out) or is_large(saved[0])):
        saved, kept_out = _release_unread(prim, saved, out)
    node.saved = saved
    node.out = kept_out
    return result_tensor(out, node)


def _release_unread(
    prim: Primitive, datas: tuple[Any, ...], out: Any
) -> tuple[tuple[Any, ...], Any]:
    """What a node keeps of its inputs and of ``out``: the arrays its VJP does not read
    (not in ``prim.saves``) become shape/dtype stand-ins."""
    saves = prim.saves
    kept = tuple(data if i in saves else stand_in(data) for i, data in enumerate(datas))
    return kept, out if prim.reads_out else stand_in(out)


def shape_error(prim: Primitive, datas: Sequence[Any], exc: Exception) -> ValueError:
    """A ``ValueError`` naming the op and every input shape, wrapping numpy's message."""
    shapes = " and ".join(str(np.shape(d)) for d in datas)
    return ValueError(f"{prim.name}: invalid input shapes {shapes}: {exc}")
