"""numpy's functions on Tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.stack([a, b])``
run the tensor op, recorded and differentiable, through numpy's override protocols
(``__array_ufunc__`` for ufuncs, and for operators with an ndarray on the left;
``__array_function__`` for the other functions).

- A numpy function or ufunc that has a topograd op runs that op.
- Functions that only read values, shapes or dtypes (``np.shape``, ``np.allclose``,
  ``np.argsort``, ``np.zeros_like``...) run numpy on the tensors' arrays.
- Anything else (another function, a ufunc method such as ``np.add.reduce``, an
  argument the op does not take, such as ``out=``) runs numpy on the arrays when no
  tensor argument requires grad, and raises ``TypeError`` naming the topograd
  spelling when one does: numpy's result would silently drop the gradient.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..optable import tensor_method
from ..tensor import Tensor
from . import cumulative, einstein, elementwise, linalg, reduce, rounding, shape, trig
from .spellings import clone

Op = Callable[..., Any]


def _bitwise_on_bools(logical: Op) -> Op:
    """``&``/``|`` with an ndarray on the left: the logical op on bools (Tensor's own
    ``&`` and ``|``), numpy's bitwise op on integers."""

    @functools.wraps(logical)
    def call(a: Any, b: Any) -> Any:
        if np.asarray(_arrays(a)).dtype == bool and np.asarray(_arrays(b)).dtype == bool:
            return logical(a, b)
        return NotImplemented

    return call


#: ufunc -> topograd op (called with the ufunc's inputs, in order).
UFUNCS: dict[np.ufunc, Op] = {
    np.add: elementwise.add,
    np.subtract: elementwise.subtract,
    np.multiply: elementwise.multiply,
    np.divide: elementwise.divide,
    np.negative: elementwise.negative,
    np.positive: elementwise.positive,
    np.power: elementwise.pow,
    np.square: lambda x: elementwise.pow(x, 2),
    np.exp: elementwise.exp,
    np.exp2: elementwise.exp2,
    np.log: elementwise.log,
    np.log2: elementwise.log2,
    np.log10: elementwise.log10,
    np.log1p: elementwise.log1p,
    np.sqrt: elementwise.sqrt,
    np.sin: elementwise.sin,
    np.cos: elementwise.cos,
    np.tan: trig.tan,
    np.arcsin: trig.arcsin,
    np.arccos: trig.arccos,
    np.arctan: trig.arctan,
    np.arctan2: trig.arctan2,
    np.sinh: trig.sinh,
    np.cosh: trig.cosh,
    np.tanh: elementwise.tanh,
    np.arcsinh: trig.arcsinh,
    np.arccosh: trig.arccosh,
    np.arctanh: trig.arctanh,
    np.absolute: elementwise.abs,
    np.sign: elementwise.sign,
    np.maximum: elementwise.maximum,
    np.minimum: elementwise.minimum,
    np.floor: rounding.floor,
    np.ceil: rounding.ceil,
    np.trunc: rounding.trunc,
    np.rint: rounding.round,
    np.remainder: rounding.remainder,
    np.floor_divide: rounding.floor_divide,
    np.matmul: linalg.matmul,
    np.less: elementwise.less,
    np.less_equal: elementwise.less_equal,
    np.greater: elementwise.greater,
    np.greater_equal: elementwise.greater_equal,
    np.equal: elementwise.equal,
    np.not_equal: elementwise.not_equal,
    np.logical_and: elementwise.logical_and,
    np.logical_or: elementwise.logical_or,
    np.logical_not: elementwise.logical_not,
    np.bitwise_and: _bitwise_on_bools(elementwise.logical_and),
    np.bitwise_or: _bitwise_on_bools(elementwise.logical_or),
    np.isfinite: elementwise.isfinite,
    np.isnan: elementwise.isnan,
    np.isinf: elementwise.isinf,
}

#: numpy function -> (topograd op, how many leading arguments it takes by position,
#: numpy's keyword names the op spells differently).
FUNCTIONS: dict[Callable[..., Any], tuple[Op, int, dict[str, str]]] = {
    np.sum: (reduce.sum, 1, {}),
    np.mean: (reduce.mean, 1, {}),
    np.max: (reduce.max, 1, {}),
    np.amax: (reduce.max, 1, {}),
    np.min: (reduce.min, 1, {}),
    np.amin: (reduce.min, 1, {}),
    np.prod: (reduce.prod, 1, {}),
    np.var: (reduce.var, 1, {}),
    np.std: (reduce.std, 1, {}),
    np.argmax: (reduce.argmax, 1, {}),
    np.argmin: (reduce.argmin, 1, {}),
    np.any: (reduce.any, 1, {}),
    np.all: (reduce.all, 1, {}),
    np.linalg.norm: (reduce.norm, 1, {}),
    np.cumsum: (cumulative.cumsum, 1, {}),
    np.cumprod: (cumulative.cumprod, 1, {}),
    np.round: (rounding.round, 1, {}),
    np.around: (rounding.round, 1, {}),
    np.clip: (elementwise.clip, 1, {"a_min": "lo", "a_max": "hi"}),
    np.where: (elementwise.where, 3, {}),
    np.einsum: (einstein.einsum, 0, {}),
    np.dot: (linalg.dot, 2, {}),
    np.outer: (linalg.outer, 2, {}),
    np.tensordot: (linalg.tensordot, 2, {}),
    np.tril: (linalg.tril, 1, {}),
    np.triu: (linalg.triu, 1, {}),
    np.diagonal: (linalg.diagonal, 1, {}),
    np.trace: (linalg.trace, 1, {}),
    np.reshape: (shape.reshape, 1, {}),
    np.ravel: (shape.flatten, 1, {}),
    np.transpose: (shape.transpose, 1, {}),
    np.permute_dims: (shape.transpose, 1, {}),
    np.swapaxes: (shape.swapaxes, 1, {}),
    np.expand_dims: (shape.expand_dims, 1, {}),
    np.squeeze: (shape.squeeze, 1, {}),
    np.broadcast_to: (shape.broadcast_to, 1, {}),
    np.concatenate: (shape.concatenate, 1, {}),
    np.stack: (shape.stack, 1, {}),
    np.split: (shape.split, 1, {}),
    np.flip: (shape.flip, 1, {}),
    np.roll: (shape.roll, 1, {}),
    np.tile: (shape.tile, 1, {}),
    np.repeat: (shape.repeat, 1, {}),
    np.take_along_axis: (shape.take_along_axis, 2, {}),
    np.copy: (clone, 1, {}),
}

#: Functions that read values, shapes or dtypes only: numpy runs them on the arrays.
READERS = frozenset({
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
    np.allclose, np.isclose, np.array_equal, np.array_equiv,
    np.argsort, np.nonzero, np.flatnonzero, np.argwhere, np.count_nonzero, np.unique,
    np.searchsorted, np.bincount, np.digitize, np.histogram,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.array2string, np.array_repr, np.array_str,
    np.save, np.savez, np.savez_compressed, np.savetxt,
    np.may_share_memory, np.shares_memory,
})  # fmt: skip

#: Ufunc methods with a topograd spelling.
UFUNC_METHODS = {
    (np.add, "reduce"): "ag.sum(x, axis)",
    (np.multiply, "reduce"): "ag.prod(x, axis)",
    (np.maximum, "reduce"): "ag.max(x, axis)",
    (np.minimum, "reduce"): "ag.min(x, axis)",
    (np.logical_and, "reduce"): "ag.all(x, axis)",
    (np.logical_or, "reduce"): "ag.any(x, axis)",
    (np.add, "accumulate"): "ag.cumsum(x, axis)",
    (np.multiply, "accumulate"): "ag.cumprod(x, axis)",
    (np.maximum, "accumulate"): "ag.cummax(x, axis).values",
    (np.minimum, "accumulate"): "ag.cummin(x, axis).values",
    (np.add, "at"): "ag.scatter_add(values, index, shape) (repeated indices accumulate)",
    (np.multiply, "outer"): "ag.outer(a, b)",
}

WITHOUT_GRADIENT = "t.detach().numpy() gives the values, without the gradient"


@tensor_method("__array_ufunc__")
def array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """numpy's ufunc override: the topograd op of ``ufunc`` (see the module docstring).
    It runs for every operator with an ndarray or numpy scalar on the left: the first
    lines are its fast path."""
    if method == "__call__" and not kwargs:
        op = UFUNCS.get(ufunc)
        if op is not None:
            result = op(*inputs)
            if result is not NotImplemented:
                return result
    return _ufunc_without_op(ufunc, method, inputs, kwargs)


def _ufunc_without_op(ufunc: np.ufunc, method: str, inputs: Any, kwargs: Any) -> Any:
    if method != "__call__":
        name = f"numpy.{ufunc.__name__}.{method}"
        spelling = UFUNC_METHODS.get((ufunc, method))
        hint = f"use {spelling}" if spelling else "topograd has no op for it"
        return _on_arrays(name, getattr(ufunc, method), inputs, kwargs, hint)
    if kwargs:
        hint = f"topograd's ops make new tensors and take no {'=, '.join(kwargs)}="
    else:
        hint = "topograd has no op for it"
    return _on_arrays(f"numpy.{ufunc.__name__}", ufunc, inputs, kwargs, hint)


@tensor_method("__array_function__")
def array_function(
    self: Tensor, func: Callable[..., Any], types: Any, args: Any, kwargs: Any
) -> Any:
    """numpy's function override: the topograd op of ``func`` (see the module docstring)."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    if func in READERS:
        return func(*_arrays(args), **_arrays(kwargs))
    name = f"numpy.{func.__name__}"
    entry = FUNCTIONS.get(func)
    if entry is None:
        return _on_arrays(name, func, args, kwargs, "topograd has no op for it")
    op, n_positional, renames = entry
    positional, keywords = _op_arguments(func, args, kwargs, n_positional, renames)
    try:
        _signature(op).bind(*positional, **keywords)
    except TypeError as exc:
        hint = f"ag.{op.__name__} does not take these arguments ({exc})"
        return _on_arrays(name, func, args, kwargs, hint)
    return op(*positional, **keywords)


def _op_arguments(
    func: Callable[..., Any], args: Any, kwargs: Any, n_positional: int, renames: dict[str, str]
) -> tuple[list[Any], dict[str, Any]]:
    """numpy's arguments as the op takes them: the first ``n_positional`` by position,
    the others by name (``renames`` applied), those left at numpy's default dropped."""
    signature = _signature(func)
    parameters = signature.parameters
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for i, (name, value) in enumerate(signature.bind(*args, **kwargs).arguments.items()):
        parameter = parameters[name]
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            positional.extend(value)
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            keywords.update(value)
        elif i < n_positional:
            positional.append(value)
        elif value is not parameter.default:
            keywords[renames.get(name, name)] = value
    return positional, keywords


@functools.cache
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


def _on_arrays(name: str, func: Callable[..., Any], args: Any, kwargs: Any, hint: str) -> Any:
    """numpy's own result on the tensors' arrays, unless that would drop a gradient (or
    write into a tensor's memory behind its version check)."""
    if _holds_tensor(kwargs.get("out")):
        raise TypeError(
            f"{name}: a Tensor cannot be numpy's out=, which would change it behind the "
            f"engine's back; use the in-place ops (x.copy_(...), x += ...)"
        )
    if _requires_grad(args) or _requires_grad(kwargs):
        raise TypeError(
            f"{name} on a Tensor that requires grad: numpy would compute on the plain values "
            f"and drop the gradient; {hint} ({WITHOUT_GRADIENT})"
        )
    return func(*_arrays(args), **_arrays(kwargs))


def _arrays(value: Any) -> Any:
    """``value`` with every Tensor (also inside lists, tuples and dicts) replaced by its array."""
    if isinstance(value, Tensor):
        return value.data
    if type(value) in (list, tuple):
        return type(value)(_arrays(v) for v in value)
    if type(value) is dict:
        return {k: _arrays(v) for k, v in value.items()}
    return value


def _holds_tensor(value: Any) -> bool:
    return isinstance(value, Tensor) or (
        type(value) is tuple and any(isinstance(v, Tensor) for v in value)
    )


def _requires_grad(value: Any) -> bool:
    """Whether ``value`` is, or holds in lists, tuples and dicts, a Tensor that requires grad."""
    if isinstance(value, Tensor):
        return value.requires_grad
    if type(value) in (list, tuple):
        return any(_requires_grad(v) for v in value)
    if type(value) is dict:
        return any(_requires_grad(v) for v in value.values())
    return False
