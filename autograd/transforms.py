"""Functional transforms in the style of JAX: ``grad``, ``vjp``, ``jvp``, ``jacobian``...

Each transform calls ``f`` on fresh leaf tensors and differentiates it with the
engine. Transforms nest: when an input already requires grad, or the call happens
inside another transform, the gradient is computed with ``create_graph=True`` so the
outer transform can differentiate it again (``grad(grad(f))`` is ``f''``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import run_backward, seed_gradient
from .mode import enable_grad, state
from .ops import stack
from .tensor import Tensor, as_tensor

Argnums = int | tuple[int, ...]


def gradients(
    output: Tensor,
    inputs: Sequence[Tensor],
    grad_output: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """``d(output)/d(inputs)`` weighted by ``grad_output``, like ``torch.autograd.grad``.

    Nothing is accumulated into ``.grad``; an input that ``output`` does not depend
    on gets zeros. ``retain_graph`` defaults to ``create_graph``.
    """
    inputs = tuple(inputs)
    results: list[Any] = [None] * len(inputs)
    if output.requires_grad:
        targets = {(x._node if x._node is not None else x): i for i, x in enumerate(inputs)}
        results = run_backward(
            output,
            seed_gradient(output, grad_output),
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph,
            targets=targets,
        )
    return tuple(
        Tensor(np.zeros_like(x.data)) if r is None else as_tensor(r)
        for r, x in zip(results, inputs)
    )


def _argnum_tuple(argnums: Argnums, nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums} is out of range for {nargs} positional arguments")
    return tuple(n % nargs for n in nums)


def _prepare(args: tuple[Any, ...], argnums: Argnums) -> tuple[list[Any], list[Tensor], bool]:
    """Arguments for ``f`` with the differentiated ones as leaves, and whether we nest."""
    call_args = list(args)
    inputs = []
    nested = state.transform_depth > 0
    for n in _argnum_tuple(argnums, len(args)):
        x = as_tensor(args[n])
        if x.dtype.kind != "f":
            raise TypeError(
                f"can only differentiate with respect to floating-point inputs; argument "
                f"{n} has dtype {x.dtype} (pass e.g. 3.0 instead of 3)"
            )
        if x.requires_grad:
            nested = True
        else:
            x = Tensor(x.data, requires_grad=True)
        inputs.append(x)
        call_args[n] = x
    return call_args, inputs, nested


def _evaluate(f: Callable[..., Any], call_args: list[Any]) -> Tensor:
    state.transform_depth += 1
    try:
        with enable_grad():
            out = f(*call_args)
    finally:
        state.transform_depth -= 1
    return as_tensor(out)


def _pick(grads: tuple[Tensor, ...], argnums: Argnums) -> Any:
    return grads[0] if isinstance(argnums, int) else grads


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0
) -> Callable[..., tuple[Tensor, Any]]:
    """A function returning ``(f(*args), df/dargs[argnums])``; ``f`` must return a scalar."""

    @functools.wraps(f)
    def value_and_grad_f(*args: Any) -> tuple[Tensor, Any]:
        call_args, inputs, nested = _prepare(args, argnums)
        out = _evaluate(f, call_args)
        if out.size != 1:
            raise ValueError(
                f"grad requires f to return a scalar (one element); it returned shape "
                f"{out.shape}: use ag.jacobian or ag.vjp for non-scalar outputs"
            )
        grads = gradients(out, inputs, create_graph=nested)
        return (out if nested else out.detach()), _pick(grads, argnums)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function computing ``df/dx`` for the arguments ``argnums`` (a tuple gives a tuple).

    ``f`` must return a scalar. Nests: ``grad(grad(f))`` is the second derivative.
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args: Any) -> Any:
        return value_and_grad_f(*args)[1]

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Tensor, Callable[[Any], tuple[Tensor, ...]]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(v)`` returns ``vᵀ J`` for each primal."""
    call_args, inputs, nested = _prepare(primals, tuple(range(len(primals))))
    out = _evaluate(f, call_args)

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        return gradients(out, inputs, cotangent, retain_graph=True, create_graph=nested)

    return (out if nested else out.detach()), vjp_fn


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Tensor, Tensor]:
    """``(f(*primals), J t)``: the forward-mode product, by differentiating a VJP.

    ``u -> Jᵀu`` is linear in ``u``, so ``J t = d/du <Jᵀu, t>``; this needs only
    reverse mode (every VJP rule is itself differentiable).
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    call_args, inputs, nested = _prepare(primals, tuple(range(len(primals))))
    out = _evaluate(f, call_args)
    for i, (x, t) in enumerate(zip(inputs, tangents)):
        if np.shape(np.asarray(t)) != x.shape:
            raise ValueError(
                f"jvp: tangent {i} has shape {np.shape(np.asarray(t))}, primal {x.shape}"
            )
    u = Tensor(np.zeros_like(out.data), requires_grad=True)
    with enable_grad():
        pulled = gradients(out, inputs, u, create_graph=True)
        total = sum(
            ((g * t).sum() for g, t in zip(pulled, tangents)), Tensor(np.zeros((), out.dtype))
        )
    if total.requires_grad:
        tangent_out = gradients(total, [u], create_graph=nested)[0]
    else:
        tangent_out = Tensor(np.zeros_like(out.data))
    return (out if nested else out.detach()), tangent_out


def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning ``df/dx``, of shape ``out.shape + x.shape``.

    Computed row by row: one backward pass per element of the output.
    """

    @functools.wraps(f)
    def jacobian_f(*args: Any) -> Any:
        call_args, inputs, nested = _prepare(args, argnums)
        out = _evaluate(f, call_args)
        rows: list[list[Tensor]] = [[] for _ in inputs]
        for k in range(out.size):
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[k] = 1
            grads = gradients(
                out, inputs, seed.reshape(out.shape), retain_graph=True, create_graph=nested
            )
            for row, g in zip(rows, grads):
                row.append(g)
        jacobians = tuple(
            stack(row).reshape(out.shape + x.shape)
            if row
            else Tensor(np.zeros(out.shape + x.shape, x.dtype))
            for row, x in zip(rows, inputs)
        )
        return _pick(jacobians, argnums)

    return jacobian_f


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning the matrix of second derivatives, shape ``x.shape + x.shape``.

    For a tuple ``argnums`` it returns the blocks ``H[i][j] = d2f / dx_i dx_j``.
    """
    if isinstance(argnums, int):
        return jacobian(grad(f, argnums), argnums)
    gradient = grad(f, argnums)

    def block_row(i: int) -> Callable[..., Any]:
        return jacobian(lambda *args: gradient(*args)[i], argnums)

    @functools.wraps(f)
    def hessian_f(*args: Any) -> tuple[tuple[Tensor, ...], ...]:
        return tuple(block_row(i)(*args) for i in range(len(argnums)))

    return hessian_f
