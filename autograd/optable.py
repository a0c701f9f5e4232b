"""The op table: every public op once, with the Tensor methods and operators it provides.

An op module declares a primitive and its public function together and registers the
function with :func:`op`::

    @op(EXP)
    def exp(x):
        \"\"\"Elementwise ``e**x``.\"\"\"
        return apply_unary(EXP, x)

That one declaration makes ``ag.exp`` and the method ``x.exp()`` (the same function
object, so the same docstring), appends the primitive's derivative rule to the
docstring, and can add operators (``operators=("__add__",)``), reflected operators
(``reflected=("__radd__",)``, called with the operands swapped), aliases and
properties. :func:`attach_methods` puts every method on :class:`~autograd.Tensor`
once all op modules are imported (HIPS autograd attaches its box methods the same
way), so no module needs the ops at import time except the ones above them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .primitive import Primitive

#: Public name -> function: what ``autograd.NAME`` is.
OPS: dict[str, Callable[..., Any]] = {}

#: Tensor attribute -> function (or property) taking the tensor first.
METHODS: dict[str, Any] = {}


def op(
    *prims: Primitive,
    method: bool | Callable[..., Any] = True,
    operators: Sequence[str] = (),
    reflected: Sequence[str] = (),
    aliases: Sequence[str] = (),
    properties: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a public op function (a decorator); see the module docstring.

    ``prims``: the primitives it applies, whose rules are appended to its docstring.
    ``method``: True (the function itself is the method), False (no method), or an
    adapter with the Tensor first (e.g. ``x.reshape(2, 3)`` for ``reshape(x, (2, 3))``),
    which gets the function's docstring. ``aliases``: other names for both the function
    and the method (PyTorch's spellings). ``properties``: names of read-only
    properties computed by calling the function on the tensor (``x.T``).
    """

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _document(func, prims)
        names = (func.__name__, *aliases)
        for name in names:
            if name in OPS:
                raise ValueError(f"op table: {name!r} is registered twice")
            OPS[name] = func
        if method:
            bound = func if method is True else _adapter(method, func)
            for name in names:
                METHODS[name] = bound
        for name in operators:
            METHODS[name] = func
        for name in reflected:
            METHODS[name] = _swapped(func, name)
        for name in properties:
            METHODS[name] = property(func, doc=func.__doc__)
        return func

    return register


def tensor_method(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as Tensor methods ``names`` only (no public function)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            METHODS[name] = func
        return func

    return register


def _document(func: Callable[..., Any], prims: Sequence[Primitive]) -> None:
    """Append each primitive's derivative rule to the function's docstring."""
    rules = [f"``{p.name}``: {p.rule}" for p in prims if p.rule]
    doc = inspect.cleandoc(func.__doc__ or "")
    if rules:
        doc += "\n\nGradient (VJP rule" + "s" * (len(rules) > 1) + "): " + "; ".join(rules)
    func.__doc__ = doc


def _adapter(adapter: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    adapter.__doc__ = func.__doc__
    adapter.__name__ = func.__name__
    adapter.__qualname__ = f"Tensor.{func.__name__}"
    return adapter


def _swapped(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    def reflected(self: Any, other: Any) -> Any:
        return func(other, self)

    reflected.__name__ = name
    reflected.__doc__ = f"``{name}(self, other)`` is ``{func.__name__}(other, self)``."
    return reflected


def attach_methods(cls: type) -> None:
    """Set every registered method, operator and property on ``cls`` (the Tensor class)."""
    for name, value in METHODS.items():
        setattr(cls, name, value)
