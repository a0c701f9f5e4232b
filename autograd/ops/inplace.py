"""In-place updates: ``add_ sub_ mul_ div_ copy_ fill_ zero_``, ``x[i] = v`` and the
augmented assignments ``+= -= *= /=``, with PyTorch's rules.

- On a leaf that requires grad, in grad mode: ``RuntimeError`` (PyTorch's "a leaf
  Variable that requires grad is being used in an in-place operation"); wrap the
  update in ``with ag.no_grad():``, as an optimizer's step does.
- When nothing is recorded (grad mode off, or neither the tensor nor the operand is
  in a graph): the array is written in place and the change noted in the mutation
  registry, so a graph that saved these values (through any view) refuses backward.
- When the update must be recorded (the tensor is an op result, or the operand
  requires grad, in grad mode): the new value is computed by the op and the tensor
  takes it over with its graph node, its history rebased as PyTorch's is. Its old
  array is left untouched, so nodes that saved it stay correct; a view taken of it
  earlier does not see the new value.

A compiled function (``ag.compile``) records each unrecorded update as a call of the op
itself, which its replays make again. :func:`update` runs a numpy routine that updates
arrays in place (an optimizer's step) so that it is recorded the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..mode import state, threads_off_defaults, tracing_threads
from ..node import record_change
from ..optable import op, tensor_method
from ..primitive import as_operand
from ..tensor import Tensor, unwrap
from .elementwise import add, astype, divide, multiply, subtract, where
from .shape import normalize_index, put

ndarray = np.ndarray


def _recorded(x: Tensor, other: Any, name: str) -> bool:
    """Whether the update of ``x`` by ``other`` is recorded (else it writes in place)."""
    if threads_off_defaults and not state.grad_enabled:  # (the fast test first)
        return False
    if x._node is None and x._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place "
            f"operation. Wrap the update in `with ag.no_grad():` (as an optimizer step does)."
        )
    return x._node is not None or (isinstance(other, Tensor) and other._requires_grad)


def _rebase(x: Tensor, result: Tensor, name: str) -> Tensor:
    """``x`` takes over ``result``'s value and node (a recorded in-place update)."""
    if result.shape != x.shape:
        raise ValueError(
            f"{name}: the result has shape {result.shape}, which does not fit the tensor's "
            f"shape {x.shape} (an in-place update cannot change the shape)"
        )
    if result.dtype != x.dtype:
        if not np.can_cast(result.dtype, x.dtype, casting="same_kind"):
            raise TypeError(f"{name}: cannot write {result.dtype} values into a {x.dtype} tensor")
        result = astype(result, x.dtype)
    x.data, x._node, x._requires_grad = result.data, result._node, result._requires_grad
    if x._node is not None:
        x._node.name = x._name
    return x


def _writable(x: Tensor) -> ndarray:
    """``x``'s array, ready to be written (a 0-d numpy scalar becomes a 0-d array)."""
    data = x.data
    if type(data) is not ndarray:
        data = x.data = np.array(data)
    return data


def update(kernel: Callable[..., Any], *args: Any) -> Any:
    """Run ``kernel(*args)``, a routine that updates arrays in place (an optimizer's step),
    and return its result.

    Eagerly it is just the call. A compiled function (``ag.compile``) records it as one
    call that its replays make again, so whatever Python state the kernel reads
    (hyper-parameters, state dicts, ``.grad``) is read afresh each time.
    """
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(kernel, args)
    return kernel(*args)


# Each in-place write below is followed by record_change(data): after the write, see
# node.record_change. (A helper for the three steps would cost a call per update.) While
# a compiled function is traced, the tracer records the call of the op and makes it.


@op(operators=("__iadd__",))
def add_(x: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``x += alpha * other`` in place (no allocation when ``other`` matches)."""
    if _recorded(x, other, "add_"):
        return _rebase(x, add(x, other if alpha == 1 else multiply(other, alpha)), "add_")
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(add_, (x, other, alpha))
    data = x.data if type(x.data) is ndarray else _writable(x)
    other = other.data if isinstance(other, Tensor) else other
    data += other if alpha == 1 else other * as_operand(alpha, data)  # numpy's same_kind rule
    record_change(data)
    return x


@op(operators=("__isub__",))
def sub_(x: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``x -= alpha * other`` in place."""
    if _recorded(x, other, "sub_"):
        return _rebase(x, subtract(x, other if alpha == 1 else multiply(other, alpha)), "sub_")
    return add_(x, other, -alpha)


@op(operators=("__imul__",))
def mul_(x: Tensor, other: Any) -> Tensor:
    """``x *= other`` in place."""
    if _recorded(x, other, "mul_"):
        return _rebase(x, multiply(x, other), "mul_")
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(mul_, (x, other))
    data = _writable(x)
    data *= as_operand(unwrap(other), data)
    record_change(data)
    return x


@op(operators=("__itruediv__",))
def div_(x: Tensor, other: Any) -> Tensor:
    """``x /= other`` in place."""
    if _recorded(x, other, "div_"):
        return _rebase(x, divide(x, other), "div_")
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(div_, (x, other))
    data = _writable(x)
    data /= as_operand(unwrap(other), data)
    record_change(data)
    return x


@op()
def copy_(x: Tensor, source: Any) -> Tensor:
    """Copy ``source`` (broadcast to this shape) into ``x`` in place; recorded, the
    gradient flows to ``source`` (summed over the broadcast axes), none to the old ``x``."""
    if _recorded(x, source, "copy_"):
        return _rebase(x, where(np.ones(x.shape, bool), source, x), "copy_")
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(copy_, (x, source))
    data = _writable(x)
    np.copyto(data, unwrap(source), casting="same_kind")
    record_change(data)
    return x


@op()
def fill_(x: Tensor, value: float) -> Tensor:
    """Set every element of ``x`` to ``value`` in place (recorded: a zero gradient)."""
    if _recorded(x, value, "fill_"):
        return _rebase(x, where(np.ones(x.shape, bool), unwrap(value), x), "fill_")
    if tracing_threads and state.tracer is not None:
        return state.tracer.call(fill_, (x, value))
    data = _writable(x)
    data.fill(unwrap(value))
    record_change(data)
    return x


@op()
def zero_(x: Tensor) -> Tensor:
    """Set every element of ``x`` to 0 in place."""
    return fill_(x, 0)


@tensor_method("__setitem__")
def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``; recorded, as ``put`` (value's gradient is ``g[index]``)."""
    if _recorded(x, value, "__setitem__"):
        _rebase(x, put(x, index, value), "__setitem__")
        return
    if tracing_threads and state.tracer is not None:
        state.tracer.call(setitem, (x, index, value))
        return
    data = _writable(x)
    data[normalize_index(index)] = unwrap(value)
    record_change(data)
