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
to broadcast shapes and checked by ``gradcheck``. Its ``backward`` works on ndarrays,
so under ``create_graph=True`` its gradient is a constant (no second derivative
through a custom op).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .primitive import Primitive, apply
from .tensor import Tensor


class FunctionCtx:
    """Per-call context: stash what ``backward`` needs."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.saved_tensors: tuple[Any, ...] = ()
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep ``arrays`` for ``backward`` (read them back from ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays


class Function:
    """Base class for custom differentiable ops; use ``MyOp.apply(*inputs)``."""

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
        prim = cls.__dict__.get("_prim")
        if prim is None:
            prim = Primitive(
                cls.__name__, _forward_of(cls), vjp=_vjp_of(cls), saves=(), register=False
            )
            cls._prim = prim
        return prim


def _forward_of(cls: type[Function]) -> Any:
    def forward(*datas: Any, ctx: FunctionCtx) -> np.ndarray:
        return np.asarray(cls.forward(ctx, *datas))

    return forward


def _vjp_of(cls: type[Function]) -> Any:
    def vjp(xp: Any, g: Any, out: Any, *inputs: Any, ctx: FunctionCtx) -> tuple[Any, ...]:
        if isinstance(g, Tensor):  # create_graph: the gradient is a constant
            shapes = tuple(getattr(x, "shape", ()) for x in inputs)
            grads = _backward(cls, ctx, g.numpy(), shapes)
            return tuple(None if gi is None else Tensor(gi) for gi in grads)
        return xp.call(_backward, cls, ctx, g, tuple(getattr(x, "shape", ()) for x in inputs))

    return vjp


def _backward(
    cls: type[Function], ctx: FunctionCtx, g: Any, shapes: tuple[tuple[int, ...], ...]
) -> tuple[Any, ...]:
    """``cls.backward`` on ndarrays, checked: one gradient (or None) per input of ``shapes``."""
    grads = cls.backward(ctx, np.asarray(g))
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(shapes):
        raise RuntimeError(
            f"{cls.__name__}.backward returned {len(grads)} gradients, but forward "
            f"took {len(shapes)} inputs: return one gradient (or None) per input"
        )
    return tuple(_checked(cls, i, gi, shape) for i, (gi, shape) in enumerate(zip(grads, shapes)))


def _checked(cls: type, i: int, grad: Any, shape: tuple[int, ...]) -> Any:
    if grad is None:
        return None
    grad = np.asarray(grad)
    try:
        np.broadcast_shapes(grad.shape, shape)
    except ValueError:
        raise ValueError(
            f"{cls.__name__}.backward returned a gradient of shape {grad.shape} for input "
            f"{i} of shape {shape}; it must have the input's shape"
        ) from None
    return grad
