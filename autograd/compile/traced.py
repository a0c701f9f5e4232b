"""Traced arrays: what VJP rules compute on while a compiled function's backward is traced.

First-order backward runs each rule on ndarrays with ``xp`` = numpy. To record those
numpy steps exactly, the tracer hands the rules :class:`TracedArray` values instead: each
wraps the real array (or numpy scalar) and a program slot, and every operator, ndarray
method or attribute, numpy ufunc (``__array_ufunc__``) and numpy function
(``__array_function__``) applied to it computes the real result with the very same numpy
call and appends that call to the program. The rules themselves are unchanged, so the
program repeats eager backward's numpy operations in eager backward's order, and its
results are bit for bit eager's.

Reading a traced value in Python (``bool``, ``float``, ``item``, ``np.asarray``) would
freeze it into the program, so it raises :class:`~autograd.compile.errors.CompileError`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

from .errors import CompileError

#: Attributes of an array that depend only on its shape and dtype: read directly.
STATIC_ATTRIBUTES = frozenset(
    ("shape", "ndim", "dtype", "size", "itemsize", "nbytes", "strides", "base", "flags")
)

#: ndarray methods that return a new value and change nothing (others may write in place).
PURE_METHODS = frozenset(
    """sum mean max min prod cumsum cumprod any all argmax argmin reshape transpose swapaxes
    squeeze astype copy clip dot ravel flatten nonzero repeat take conj round std var
    diagonal trace __getitem__""".split()
)


class TracedArray:
    """An array value inside a traced VJP rule: the real ``value`` and its program ``slot``."""

    __slots__ = ("value", "slot", "tracer")

    def __init__(self, value: Any, slot: int, tracer: Any) -> None:
        self.value = value
        self.slot = slot
        self.tracer = tracer

    # ---------------------------------------------------------------- numpy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return self.tracer.apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return self.tracer.apply("func", func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise self.tracer.read_error("np.asarray(...) of a traced array")

    # ---------------------------------------------------------------- attributes
    def __getattr__(self, name: str) -> Any:
        value = getattr(self.value, name)
        if name in STATIC_ATTRIBUTES:
            return value
        if callable(value):
            return _Method(self, name)
        if isinstance(value, np.ndarray | np.generic):  # x.T, x.real
            return self.tracer.apply("attr", name, (self,), {})
        return value

    def __getitem__(self, index: Any) -> Any:
        return self.tracer.apply("op", operator.getitem, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        self.tracer.apply("op", operator.setitem, (self, index, value), {}, writes=(self,))

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self.value)):
            yield self[i]

    def __repr__(self) -> str:
        return f"<traced {type(self.value).__name__} {np.shape(self.value)} {self.dtype}>"

    # ---------------------------------------------------------------- Python reads
    def __bool__(self) -> bool:
        raise self.tracer.read_error("bool() of a traced array")

    def __float__(self) -> float:
        raise self.tracer.read_error("float() of a traced array")

    def __int__(self) -> int:
        raise self.tracer.read_error("int() of a traced array")

    def __index__(self) -> int:
        raise self.tracer.read_error("a traced array used as a Python index")

    def item(self, *args: Any) -> Any:
        """Refused: the value would be frozen into the program."""
        raise self.tracer.read_error("item() of a traced array")

    def tolist(self) -> Any:
        """Refused: the values would be frozen into the program."""
        raise self.tracer.read_error("tolist() of a traced array")


class _Method:
    """A bound ndarray method of a traced array; calling it records the call."""

    __slots__ = ("array", "name")

    def __init__(self, array: TracedArray, name: str) -> None:
        self.array = array
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        writes = () if self.name in PURE_METHODS else (self.array,)
        return self.array.tracer.apply("method", self.name, (self.array, *args), kwargs, writes)


def _binary(fn: Any) -> Any:
    def method(self: TracedArray, other: Any) -> Any:
        return self.tracer.apply("op", fn, (self, other), {})

    return method


def _reflected(fn: Any) -> Any:
    def method(self: TracedArray, other: Any) -> Any:
        return self.tracer.apply("op", fn, (other, self), {})

    return method


def _unary(fn: Any) -> Any:
    def method(self: TracedArray) -> Any:
        return self.tracer.apply("op", fn, (self,), {})

    return method


def _inplace(fn: Any) -> Any:
    def method(self: TracedArray, other: Any) -> Any:
        return self.tracer.apply_inplace(fn, self, other)

    return method


_BINARY = "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split()
for _name in _BINARY:
    _fn = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(TracedArray, f"__{_name}__", _binary(_fn))
    setattr(TracedArray, f"__r{_name}__", _reflected(_fn))
    setattr(TracedArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(TracedArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(TracedArray, f"__{_name}__", _unary(getattr(operator, _name)))
TracedArray.__hash__ = object.__hash__  # (defining __eq__ removed it; identity, as arrays)


def recording_namespace(namespace: SimpleNamespace, tracer: Any) -> SimpleNamespace:
    """``namespace`` (numpy's names for the rules) with every function recorded as one call."""

    def recorded(fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return tracer.apply("func", fn, args, kwargs)

        return call

    functions = {name: recorded(fn) for name, fn in vars(namespace).items()}
    functions["call"] = lambda fn, *args: tracer.apply("func", fn, args, {}, writes=args)
    return SimpleNamespace(**functions)


__all__ = ["CompileError", "TracedArray", "recording_namespace"]
