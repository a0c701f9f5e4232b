"""Primitives: a forward in numpy and its vector-Jacobian product, declared together,
and the one way into the engine for each arity (:func:`apply_unary`,
:func:`apply_binary`, :func:`apply`).

A primitive's VJP rule receives ``(xp, g, out, *inputs, **params)``: the array
namespace, the gradient of the output, the output and the inputs. First-order
backward passes ndarrays and ``xp`` = numpy; ``create_graph=True`` passes Tensors
and ``xp`` = the differentiable ops, so every rule is itself differentiable.
A rule may return a gradient larger than its input (broadcast) or of another
dtype; the engine sums and casts it back (``backward.fit_grad``).

Release rule: a node keeps the inputs its rules read (``saves``) and drops the
others, which costs about as much as computing on a small array, so it is done only
when it pays: when
the output or the first input is larger than ``SMALL_BYTES`` (64 KiB). Small graphs
keep every input; what backward may *read* is always exactly ``saves``, and the
in-place check covers only that (``Primitive.reads``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .mode import state, threads_off_defaults, tracing_threads
from .node import Node, clock, is_large, stand_in
from .tensor import Tensor, result_tensor

VJP = Callable[..., Any]

ndarray = np.ndarray
_SEQUENCES = (list, tuple)  # raw sequences become arrays (never list concatenation)

#: numpy's float scalar types (0-d results): known float without a ``dtype`` lookup.
FLOAT_SCALARS = (np.float64, np.float32, np.float16, np.longdouble)

#: Every primitive by name: the list the test suite and docs iterate over.
REGISTRY: dict[str, Primitive] = {}


def unchanged(xp: Any, g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    """The VJP rule ``g ↦ g`` of an input that passes into the output unchanged
    (``a + b``, a cast, a broadcast); backward restores its shape and dtype. Backward
    recognises it and hands ``g`` on without calling it."""
    return g


class Primitive:
    """A differentiable operation: ``forward`` on ndarrays plus its VJP rule(s).

    Give either ``vjps``, one rule per input (only the rules of inputs that need a
    gradient run), or ``vjp``, one rule returning a tuple with a gradient (or None)
    for every input (for ops with a variable number of inputs). ``saves`` lists what
    the rules read: input indices and ``"out"`` (None: everything); see the module
    docstring for when the others are released. ``doc`` is ``"forward;  rule"``, e.g.
    ``"a * b;  d/da = b, d/db = a"``: pictures show it, and the op table appends the
    rule to the public function's docstring. A parameter named with a leading ``_``
    is a residual: a dict the forward fills for the first-order VJP (e.g. the softmax
    inside the fused cross-entropy), not shown in pictures; under ``create_graph``
    rules recompute it with differentiable ops.
    """

    __slots__ = ("name", "forward", "vjps", "vjp", "doc", "saves", "reads_out", "reads")

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
        #: input indices the rules read (None: all), the arrays the in-place check covers
        self.reads = None if saves is None else tuple(sorted(i for i in saves if i != "out"))
        if register:
            if name in REGISTRY:
                raise ValueError(f"a primitive named {name!r} is already registered")
            REGISTRY[name] = self

    @property
    def rule(self) -> str:
        """The derivative part of ``doc`` (after the ``;``)."""
        return self.doc.partition(";")[2].strip()

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


# ---------------------------------------------------------------- entering the engine
# One entry per arity; each unpacks its inputs inline (a helper call per input costs
# more than the rest of the unpacking) and ends in _result, the one place nodes are made
# (inline: a call with the node's six fields costs as much as the rest of recording).
# An input tensor's parent in the graph is its node, or the tensor itself if it is a
# leaf; other inputs have None.


def apply_unary(prim: Primitive, x: Any, params: dict[str, Any] | None = None) -> Tensor:
    """Run the one-input ``prim`` on ``x`` (a Tensor, array or number) and record it."""
    if isinstance(x, Tensor):
        data, parent, record = x.data, (x if x._node is None else x._node), x._requires_grad
    else:
        data, parent, record = as_operand(x, None, prim), None, False
    try:
        out = prim.forward(data, **params) if params else prim.forward(data)
    except ValueError as exc:
        raise op_error(prim, (data,), exc) from exc
    return _result(prim, out, record, (parent,), (data,), params)


def apply_binary(prim: Primitive, a: Any, b: Any, params: dict[str, Any] | None = None) -> Tensor:
    """Run the two-input ``prim`` on ``a`` and ``b`` and record it (``x * y`` and
    ``ag.multiply(x, y)`` alike). A Python number next to a float array is passed as
    a cached 0-d array (:func:`as_operand`): same values and dtype, faster numpy calls."""
    if isinstance(a, Tensor):
        data_a, parent_a, record = a.data, (a if a._node is None else a._node), a._requires_grad
    else:
        data_a, parent_a, record = a, None, False
    if isinstance(b, Tensor):
        data_b, parent_b = b.data, (b if b._node is None else b._node)
        record = record or b._requires_grad
    else:
        data_b, parent_b = as_operand(b, data_a, prim), None
    if parent_a is None:
        data_a = as_operand(a, data_b, prim)
    try:
        out = prim.forward(data_a, data_b, **params) if params else prim.forward(data_a, data_b)
    except ValueError as exc:
        raise op_error(prim, (data_a, data_b), exc) from exc
    return _result(prim, out, record, (parent_a, parent_b), (data_a, data_b), params)


def apply(prim: Primitive, args: Sequence[Any], params: dict[str, Any] | None = None) -> Tensor:
    """Run ``prim`` on any number of inputs (concatenate, where, a custom Function)."""
    datas = []
    parents = []
    record = False
    for arg in args:
        if isinstance(arg, Tensor):
            datas.append(arg.data)
            parents.append(arg if arg._node is None else arg._node)
            record = record or arg._requires_grad
        else:
            datas.append(as_operand(arg, None, prim))
            parents.append(None)
    try:
        out = prim.forward(*datas, **params) if params else prim.forward(*datas)
    except ValueError as exc:
        raise op_error(prim, datas, exc) from exc
    return _result(prim, out, record, parents, tuple(datas), params)


def as_operand(value: Any, other: Any = None, prim: Primitive | None = None) -> Any:
    """A non-Tensor input as the forward gets it: lists and tuples become arrays.

    A Python number next to a float array (``other``) becomes a read-only 0-d array of
    that dtype, the cast numpy's promotion (NEP 50) makes anyway but about twice as
    fast to compute with, in the forward and again in the VJP. One array is made per
    number and dtype (at most :data:`NUMBER_CACHE_SIZE`). Zeros and NaN stay numbers:
    ``0.0 == -0.0`` and ``nan != nan`` would mislead the cache. A list holding Tensors
    raises ``TypeError`` (numpy would turn them into constants: a silently lost graph).
    """
    kind = type(value)
    if kind is float or kind is int:
        if type(other) is ndarray and other.dtype.kind == "f" and value == value != 0:
            key = (value, other.dtype)
            array = _NUMBER_ARRAYS.get(key)
            return _new_number_array(key) if array is None else array
        return value
    if kind in _SEQUENCES:
        if _holds_tensor(value):
            name = prim.name if prim is not None else "op"
            raise TypeError(
                f"{name}: got a {kind.__name__} holding Tensors where one array is expected; "
                f"numpy would turn them into constants and drop their gradients. Join "
                f"them with ag.stack(...) or ag.concatenate(...) first."
            )
        return np.asarray(value)
    return value


def _holds_tensor(items: Any) -> bool:
    """True if the (nested) list or tuple ``items`` contains a Tensor."""
    stack = [items]
    while stack:
        for item in stack.pop():
            if isinstance(item, Tensor):
                return True
            if type(item) in _SEQUENCES:
                stack.append(item)
    return False


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

    While this thread traces a compiled function, its tracer makes the result (by calling
    this function again, paused) and records the primitive application.
    """
    scope = None
    if threads_off_defaults:  # a thread (maybe this one) has grad off, anomaly on, a scope...
        if tracing_threads and state.tracer is not None:  # ... or traces: the tracer makes it
            return state.tracer.result(prim, out, record, parents, saved, params)
        if state.anomaly:
            check_finite(out, f"'{prim.name}' (forward)")
        record = record and state.grad_enabled
        scope = state.scope
    if record:  # only float outputs are differentiable; complex ones are refused
        if type(out) is ndarray:
            record = out.dtype.kind == "f" or _not_complex(prim, out.dtype)
        elif type(out) not in FLOAT_SCALARS:
            record = isinstance(out, np.floating) or _not_complex(prim, np.result_type(out))
    if not record:
        return result_tensor(out, None)
    kept_out = out
    if prim.saves is not None and (is_large(out) or is_large(saved[0])):
        saved, kept_out = _release_unread(prim, saved, out)
    node = Node(parents)  # the one place nodes are made; see node.Node for the slots
    node.prim = prim
    node.saved = saved
    node.params = params
    node.out = kept_out
    node.epoch = next(clock)  # nodes are numbered in creation order (see backward)
    node.name = None
    node.scope = scope
    return result_tensor(out, node)


def _not_complex(prim: Primitive, dtype: np.dtype) -> bool:
    """False (an int or bool result is simply not recorded); a complex result raises."""
    if dtype.kind == "c":
        raise TypeError(
            f"{prim.name}: the result is complex ({dtype}), but an input requires grad; "
            f"topograd differentiates real floating-point values only"
        )
    return False


def _release_unread(
    prim: Primitive, datas: tuple[Any, ...], out: Any
) -> tuple[tuple[Any, ...], Any]:
    """What a node keeps of its inputs and of ``out``: the arrays its VJP does not read
    (not in ``prim.saves``) become shape/dtype stand-ins."""
    saves = prim.saves
    kept = tuple(data if i in saves else stand_in(data) for i, data in enumerate(datas))
    return kept, out if prim.reads_out else stand_in(out)


#: Words in numpy's messages when the inputs' shapes are what failed.
_SHAPE_WORDS = ("shape", "broadcast", "dimension", "size", "axis", "mismatch")


def op_error(prim: Primitive, datas: Sequence[Any], exc: Exception) -> ValueError:
    """A ``ValueError`` naming the op and every input shape, wrapping numpy's message.

    It says "invalid input shapes" only when numpy's message is about shapes; an axis
    out of range stays numpy's ``AxisError`` (a ``ValueError`` and an ``IndexError``).
    """
    shapes = " and ".join(str(np.shape(d)) for d in datas)
    message = str(exc)
    kind = np.exceptions.AxisError if isinstance(exc, np.exceptions.AxisError) else ValueError
    if any(word in message for word in _SHAPE_WORDS):
        return kind(f"{prim.name}: invalid input shapes {shapes}: {message}")
    return kind(f"{prim.name}: {message} (input shapes {shapes})")


def check_finite(values: Any, what: str) -> None:
    """Anomaly mode: raise ``FloatingPointError`` naming ``what`` if ``values`` has NaN/inf."""
    if not np.isfinite(np.asarray(values)).all():
        raise FloatingPointError(
            f"Function {what} returned nan or inf values (detected by ag.detect_anomaly())."
        )
