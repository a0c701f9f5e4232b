"""``ag.compile(fn)``: trace ``fn`` once per call signature, replay it as straight-line numpy.

``ag.compile`` is this package, callable: ``ag.compile(fn)`` and the decorators
``@ag.compile`` / ``@ag.compile(passes=...)`` return a
:class:`~autograd.compile.function.CompiledFunction` (see :func:`compile`). Its parts:

- :mod:`~autograd.compile.tracer`: run a function eagerly while recording it
  (:func:`~autograd.compile.tracer.trace`), the engine's hooks reporting to the tracer;
- :mod:`~autograd.compile.traced`: the arrays VJP rules compute on while traced;
- :mod:`~autograd.compile.program`: the recording, slots and instructions;
- :mod:`~autograd.compile.passes`: rewrites that make replays cheaper;
- :mod:`~autograd.compile.codegen`: the program as Python source, compiled once;
- :mod:`~autograd.compile.function`: :class:`CompiledFunction`, one program per call
  signature.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .errors import CompileError
from .function import CacheInfo, CompiledFunction, compile
from .program import Program
from .tracer import trace


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`compile` (so ``ag.compile(fn)`` and the package's
    submodules, ``autograd.compile.tracer``, share one name)."""

    def __call__(self, fn: Any = None, **options: Any) -> Any:
        return compile(fn, **options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["CacheInfo", "CompileError", "CompiledFunction", "Program", "compile", "trace"]
