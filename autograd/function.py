"""User-defined primitives, mirroring ``torch.autograd.Function``.

Subclass :class:`Function` with two static methods::

    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):            # x: ndarray
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, grad_output):  # ndarray in, one gradient per input out
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2

    y = Cube.apply(t)

The op then behaves like a built-in primitive: it is recorded, drawn, reduced back
to broadcast shapes and checked by ``gradcheck``, and an in-place change to an array
it saved, made after ``forward``, is refused at backward. ``backward``'s contract:

- ``grad_output`` is read-only: other gradients and the caller's seed may share its
  memory. Compute new arrays (``grad_output * 2``), or copy it first.
- Each gradient has its input's shape, or a shape the input broadcasts to in
  ``forward`` (summed back, as for built-ins), or the input's size with length-1 axes
  missing (``(k,)`` for ``(1, k)``: reshaped). Anything else would be a silently
  wrong gradient, so it is a ``ValueError`` naming the Function, input and shapes.

**Higher derivatives.** By default ``backward`` works on ndarrays, so what it returns
cannot be differentiated again: a gradient computed through it with
``create_graph=True`` is right, but differentiating that gradient (``ag.grad`` of
``ag.grad``, ``ag.hessian``, ``ag.jvp``, a second backward) raises ``RuntimeError``
naming the Function (PyTorch's ``once_differentiable``) instead of giving a silent
zero. Set ``differentiable_backward = True`` on a Function whose ``backward`` uses
only operators, Tensor methods and ``ag`` functions: under ``create_graph`` it then
receives Tensors (``grad_output``, and ``ctx.saved_tensors`` attached to the graph)
and records its own graph, so derivatives of any order flow through it. Its
``ctx.saved_tensors`` may hold only the forward's inputs and its output (as PyTorch
requires); ``backward`` recomputes anything else from them.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import mode
from .backward import fit_grad
from .node import changed_since, clock, last_mutation
from .primitive import Primitive, apply
from .tensor import Tensor, result_tensor, unwrap


class FunctionCtx:
    """Per-call context: stash what ``backward`` needs."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.saved_tensors: tuple[Any, ...] = ()
        self.needs_input_grad = needs_input_grad
        self._saved_at = 0  # clock value when saved: later in-place changes are refused
        self._sources: tuple[int | str | None, ...] = ()  # per saved item: input index, "out"

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep ``arrays`` for ``backward`` (read them back from ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays
        self._saved_at = next(clock)


class Function:
    """Base class for custom differentiable ops; use ``MyOp.apply(*inputs)``."""

    #: Set True when ``backward`` is written with operators, Tensor methods and ``ag``
    #: functions: under ``create_graph`` it then gets Tensors, so higher derivatives
    #: flow through the op (see the module docstring).
    differentiable_backward: bool = False

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        """Compute the output from ndarray inputs (override)."""
        raise NotImplementedError("subclasses of ag.Function must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Any) -> Any:
        """Return one gradient (ndarray or None) per forward input (override)."""
        raise NotImplementedError(
            "subclasses of ag.Function must define backward(ctx, grad_output)"
        )

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and record the op for backward."""
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        return apply(cls._primitive(), args, {"ctx": FunctionCtx(needs)})

    @classmethod
    def _primitive(cls) -> Primitive:
        differentiable = bool(cls.differentiable_backward)
        cached = cls.__dict__.get("_prim")
        if cached is None or cached[0] != differentiable:
            # a differentiable backward may read any input and the output through the
            # graph, so nothing is released; otherwise it reads only what ctx saved
            saves = None if differentiable else ()
            prim = Primitive(
                cls.__name__, _forward_of(cls), vjp=_vjp_of(cls), saves=saves, register=False
            )
            cached = cls._prim = (differentiable, prim)
        return cached[1]


def _forward_of(cls: type[Function]) -> Any:
    def forward(*datas: Any, ctx: FunctionCtx) -> np.ndarray:
        result = cls.forward(ctx, *datas)
        if cls.differentiable_backward:  # which saved items are inputs or the output
            ctx._sources = tuple(_source(item, datas, result) for item in ctx.saved_tensors)
        return np.asarray(result)

    return forward


def _source(item: Any, datas: tuple[Any, ...], result: Any) -> int | str | None:
    if item is result:
        return "out"
    return next((i for i, data in enumerate(datas) if item is data), None)


def _vjp_of(cls: type[Function]) -> Any:
    def vjp(xp: Any, g: Any, out: Any, *inputs: Any, ctx: FunctionCtx) -> tuple[Any, ...]:
        if ctx._saved_at < last_mutation[0]:
            _refuse_changed(cls, ctx)
        graph = isinstance(g, Tensor)  # create_graph: the gradient must be a graph too
        if not graph:  # one call on ndarrays, which a compiled function records and replays
            return xp.call(_first_order, cls, ctx, g, inputs)
        if cls.differentiable_backward:
            grads = _run(cls, _graph_ctx(cls, ctx, inputs, out), _guarded(g))
            return _fitted_all(cls, grads, inputs, graph)
        grads = _fitted_all(cls, _run(cls, ctx, _read_only(unwrap(g))), inputs, graph)
        return tuple(
            None if gi is None else _once_differentiable(cls, gi, g, inputs) for gi in grads
        )

    return vjp


def _first_order(
    cls: type[Function], ctx: FunctionCtx, g: Any, inputs: tuple[Any, ...]
) -> tuple[Any, ...]:
    """``cls.backward`` on ndarrays, each gradient fitted to its input."""
    return _fitted_all(cls, _run(cls, ctx, _read_only(g)), inputs, False)


def _fitted_all(cls: type[Function], grads: Any, inputs: tuple[Any, ...], graph: bool) -> Any:
    """``backward``'s result checked: one gradient (or None) per input, each fitted."""
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(inputs):
        raise RuntimeError(
            f"{cls.__name__}.backward returned {len(grads)} gradients, but forward "
            f"took {len(inputs)} inputs: return one gradient (or None) per input"
        )
    return tuple(_fitted(cls, i, gi, x, graph) for i, (gi, x) in enumerate(zip(grads, inputs)))


def _run(cls: type[Function], ctx: FunctionCtx, grad_output: Any) -> Any:
    """``cls.backward``, with numpy's read-only error explained."""
    try:
        return cls.backward(ctx, grad_output)
    except ValueError as exc:
        if "read-only" not in str(exc):
            raise
        raise ValueError(
            f"{cls.__name__}.backward tried to write into a read-only array ({exc}). "
            f"grad_output is read-only because other gradients and the caller's seed may "
            f"share its memory: compute a new array, or copy it first "
            f"(grad_output = grad_output.copy())"
        ) from exc


def _read_only(array: Any) -> np.ndarray:
    """A read-only view of ``array``: writing into it raises instead of corrupting it."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def _guarded(g: Tensor) -> Tensor:
    """``grad_output`` for a differentiable backward: an in-place change to it stays in it.

    An op result becomes a new tensor of the same node (in-place ops on it are recorded
    on that tensor alone); a leaf that requires grad refuses in-place ops anyway; a
    constant is read-only.
    """
    if g._node is not None:
        return result_tensor(g.data, g._node)
    return g if g._requires_grad else result_tensor(_read_only(g.data), None)


def _graph_ctx(
    cls: type[Function], ctx: FunctionCtx, inputs: tuple[Any, ...], out: Any
) -> FunctionCtx:
    """A copy of ``ctx`` whose saved inputs and output are the graph's tensors."""
    saved = []
    for k, (item, source) in enumerate(zip(ctx.saved_tensors, ctx._sources)):
        if source == "out":
            item = out
        elif source is not None:
            item = inputs[source]
        elif isinstance(item, (np.ndarray, np.generic)):
            raise RuntimeError(
                f"{cls.__name__} has differentiable_backward = True, but ctx.saved_tensors"
                f"[{k}] (shape {np.shape(item)}) is neither an input of forward nor its "
                f"output, so a higher derivative could not flow through it: save only "
                f"inputs and the output, and recompute the rest in backward with ag ops"
            )
        saved.append(item)
    graph_ctx = copy.copy(ctx)
    graph_ctx.saved_tensors = tuple(saved)
    return graph_ctx


def _fitted(cls: type, i: int, grad: Any, x: Any, graph: bool) -> Any:
    """Gradient ``i`` of ``backward`` fitted to its input ``x`` (or a ValueError)."""
    if grad is None:
        return None
    if graph:
        grad = grad if isinstance(grad, Tensor) else Tensor(np.asarray(grad))
    else:
        grad = np.asarray(unwrap(grad))
    if grad.dtype.kind == "c":
        raise TypeError(
            f"{cls.__name__}.backward returned a complex gradient ({grad.dtype}) for input "
            f"{i}; topograd differentiates real floating-point values only"
        )
    if not hasattr(x, "dtype"):  # a Python number: no gradient is wanted (the engine skips it)
        return grad
    shape = x.shape
    if grad.shape != shape and grad.size == int(np.prod(shape)) and _fills(grad.shape, shape):
        grad = grad.reshape(shape)  # only length-1 axes differ: (k,) for (1, k)
    return fit_grad(grad, x, f"{cls.__name__}.backward, for input {i}")


def _fills(got: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """True if ``got`` broadcasts to ``shape`` (then, at equal size, only 1s differ)."""
    try:
        return np.broadcast_shapes(got, shape) == shape
    except ValueError:
        return False


def _refuse_changed(cls: type[Function], ctx: FunctionCtx) -> None:
    for k, item in enumerate(ctx.saved_tensors):
        if changed_since(item, ctx._saved_at):
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: ctx.saved_tensors[{k}] of {cls.__name__}, of "
                f"shape {np.shape(item)}, was changed in place after forward saved it. "
                f"Compute the graph again after changing the tensor."
            )


def _not_differentiable(xp: Any, g: Any, out: Any, *inputs: Any, value: Any, function: str) -> Any:
    raise RuntimeError(
        f"{function}.backward is not differentiable: it works on ndarrays, so a gradient "
        f"computed through it is a constant to any higher derivative (ag.grad of ag.grad, "
        f"ag.hessian, ag.jvp, differentiating a create_graph=True gradient). Write "
        f"{function}.backward with operators, Tensor methods and ag functions and set "
        f"differentiable_backward = True on it"
    )


#: A first-order gradient from a backward that is not differentiable, placed in a
#: ``create_graph`` graph: its value is right, differentiating it raises (PyTorch's
#: ``once_differentiable``), so no higher derivative through it is silently zero.
ONCE_DIFFERENTIABLE = Primitive(
    "once_differentiable",
    lambda *datas, value, function: value,
    vjp=_not_differentiable,
    saves=(),
    doc="a Function's gradient;  not differentiable (raises)",
    register=False,
)


def _once_differentiable(cls: type, grad: Tensor, g: Tensor, inputs: tuple[Any, ...]) -> Tensor:
    """``grad`` as a graph value that depends on ``g`` and the inputs but raises if
    differentiated. A compiled function cannot hold one: its value is the traced call's."""
    if mode.tracing_threads and mode.state.tracer is not None:
        raise mode.state.tracer.refuse(
            f"{cls.__name__}.backward is not differentiable (differentiable_backward = "
            f"False): under create_graph inside a compiled function its gradient would be "
            f"frozen at the traced call's value. Write backward with autograd ops and set "
            f"differentiable_backward = True, or run this call eagerly (.eager)."
        )
    args = (g, *(x for x in inputs if isinstance(x, Tensor)))
    return apply(ONCE_DIFFERENTIABLE, args, {"value": grad.data, "function": cls.__name__})
