"""``ag.compile``: a function traced once per call signature and replayed as straight-line numpy.

A :class:`CompiledFunction` keeps one program per *signature*: the shapes, dtypes and
``requires_grad`` of the array arguments, the values of the other arguments, and grad
mode. The first call with a new signature runs the function eagerly while tracing it
(:func:`~autograd.compile.tracer.trace`); the program is optimised
(:mod:`~autograd.compile.passes`) and compiled to Python (:mod:`~autograd.compile.codegen`).
Later calls with that signature run the compiled program on the new arguments and the
current values of the tensors the function reads from outside. When a guard on Python
state fails (a module switched to ``eval()``, a gradient that was None no longer is, a
closure number changed), the function is traced again.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..mode import state, threads_off_defaults
from .codegen import build
from .errors import CompileError, OtherSignature, Retrace
from .passes import DEFAULT_PASSES, optimize
from .program import Guard, Program
from .signature import SCALARS, signature
from .tracer import trace

ndarray = np.ndarray


class CacheInfo(NamedTuple):
    """``traces``: the calls that traced the function; ``replays``: the calls replayed."""

    traces: int
    replays: int


class CompiledFunction:
    """``fn`` compiled: same call signature, replayed from its trace (module docstring).

    ``passes`` names the optimisation passes to run (see :mod:`autograd.compile.passes`;
    an empty tuple replays the program as traced).
    """

    def __init__(self, fn: Callable[..., Any], passes: Sequence[str] = DEFAULT_PASSES) -> None:
        if not callable(fn):
            raise TypeError(f"ag.compile: expected a function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.passes = tuple(passes)
        self._programs: dict[tuple[Any, ...], tuple[Program, Callable[..., Any], str]] = {}
        self._traces = 0
        self._replays = 0
        self._last: Callable[..., Any] | None = None  # the program of the latest call
        try:
            parameters = inspect.signature(fn).parameters.values()
            self._arg_names = tuple(
                p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            )
        except (TypeError, ValueError):
            self._arg_names = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if threads_off_defaults and (state.tracer is not None or state.anomaly):
            return self.fn(*args, **kwargs)  # traced inline by an outer trace / checked eagerly
        last = self._last
        if last is not None and not kwargs:  # the last program checks its own signature
            try:
                result = last(*args)
            except OtherSignature:
                pass
            except Retrace:
                self._forget(last)
            else:
                self._replays += 1
                return result
        key = signature(args, kwargs)
        entry = self._programs.get(key)
        if entry is not None:
            try:
                result = entry[1](*args, **kwargs)
            except Retrace:
                self._forget(entry[1])
            else:
                self._last = entry[1] if not entry[0].kwarg_names else None
                self._replays += 1
                return result
        return self._trace(key, args, kwargs)

    def _forget(self, function: Callable[..., Any]) -> None:
        """Drop the program whose guards failed (it will be traced again)."""
        self._programs = {k: e for k, e in self._programs.items() if e[1] is not function}
        if self._last is function:
            self._last = None

    def eager(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function itself, without tracing or replaying."""
        return self.fn(*args, **kwargs)

    def cache_info(self) -> CacheInfo:
        """``(traces, replays)`` so far."""
        return CacheInfo(self._traces, self._replays)

    def program(self, *args: Any, **kwargs: Any) -> Program:
        """The program for this call signature (tracing the function, so running it once,
        if there is none yet)."""
        return self._entry(args, kwargs)[0]

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The program for this call signature as Python source: what replays run.

        If the signature was not traced yet, the function is traced now (so it runs once,
        with its effects, as a first call would).
        """
        return self._entry(args, kwargs)[2]

    def namespace(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The names :meth:`source` refers to (tensors, constants, functions): ``exec`` the
        source in a copy of it to run it yourself."""
        return dict(self._entry(args, kwargs)[1].__globals__)

    def _entry(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = signature(args, kwargs)
        if key not in self._programs:
            self._trace(key, args, kwargs)
        if key not in self._programs:
            raise CompileError(f"{self.__name__}: this call could not be compiled")
        return self._programs[key]

    def _trace(self, key: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        program, result = trace(self.fn, args, kwargs, self.__name__, self._arg_names)
        program.guards += closure_guards(self.fn)
        program.signature = key
        optimize(program, self.passes)
        function, source = build(program)
        program.forget_values()
        self._programs[key] = (program, function, source)
        self._last = function if not kwargs else None
        self._traces += 1
        return result

    def __repr__(self) -> str:
        return f"<compiled {self.__name__}: {len(self._programs)} programs>"


def closure_guards(fn: Callable[..., Any]) -> list[Guard]:
    """Guards on the Python numbers, strings and flags ``fn`` reads from its closure and
    globals: a trace freezes them, so a change must trace again."""
    guards = []
    code = getattr(fn, "__code__", None)
    if code is None:
        return guards
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if type(value) in SCALARS:
            guards.append(
                Guard(cell, f"{{obj}}.cell_contents == {value!r}", f"{name} was {value!r}")
            )
    for name in code.co_names:
        value = fn.__globals__.get(name, _MISSING)
        if type(value) in SCALARS and value is not None:
            guards.append(
                Guard(fn, f"{{obj}}.__globals__[{name!r}] == {value!r}", f"{name} was {value!r}")
            )
    return guards


_MISSING = object()


def compile(fn: Callable[..., Any] | None = None, *, passes: Sequence[str] = DEFAULT_PASSES) -> Any:  # noqa: A001
    """Compile ``fn`` (also a decorator: ``@ag.compile`` or ``@ag.compile(passes=())``).

    Returns a :class:`CompiledFunction` with ``fn``'s call signature: the first call with
    a new signature (shapes, dtypes and ``requires_grad`` of the array arguments, values of
    the others, grad mode) runs ``fn`` eagerly while recording every primitive, the
    backward it runs and its in-place updates; later calls replay that program on the new
    values, with the same effects (return values, ``.grad``, updates, fresh random draws).
    """
    if fn is None:
        return lambda f: CompiledFunction(f, passes)
    return CompiledFunction(fn, passes)
