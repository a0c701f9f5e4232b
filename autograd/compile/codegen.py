"""Source generation: a :class:`~autograd.compile.program.Program` as a Python function.

:func:`generate` writes the program as the source of one function, with a namespace of
the objects it refers to, and :func:`build` compiles it. The same text is what replays
run and what ``CompiledFunction.source()`` shows, so what you read is what runs:

- one line per instruction: a primitive as its forward (``linear(X, W1)``, ``np.exp(x)``,
  ``a @ b``), a VJP rule's numpy steps as written (``S[arange_64, y] -= 1``,
  ``Z2.T @ dZ3``), a replayed call as a call (an optimizer update, a random draw);
- names from tensor names (``W1``, ``layers_0_weight``), module paths (``layers_0``, the
  output of module ``layers.0``) and gradients (``dW1``, the gradient of ``W1``);
- a comment per primitive with its input and output shapes;
- guards first: a failed one raises :class:`~autograd.compile.errors.Retrace`.

Names bound in the namespace: ``np``; ``T`` (tensors read or written, by name); the
primitives' forwards and other functions by name; constants by name; ``tensor`` (makes
a result tensor); ``Retrace``.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..mode import no_grad
from ..tensor import Tensor, result_tensor
from .errors import Retrace
from .program import Instruction, Program, Slot, TensorUse, Use
from .tracer import ArgPath, hint_of

_BINARY = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.floordiv: "//",
    operator.mod: "%",
    operator.pow: "**",
    operator.matmul: "@",
    operator.and_: "&",
    operator.or_: "|",
    operator.xor: "^",
    operator.lshift: "<<",
    operator.rshift: ">>",
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
    operator.eq: "==",
    operator.ne: "!=",
}
_INPLACE = {
    getattr(operator, "i" + f.__name__.rstrip("_")): s + "="
    for f, s in _BINARY.items()
    if hasattr(operator, "i" + f.__name__.rstrip("_"))
}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}
_NUMPY_INFIX = {
    np.add: "+",
    np.subtract: "-",
    np.multiply: "*",
    np.true_divide: "/",
    np.matmul: "@",
    np.power: "**",
}

_NO_GRAD = no_grad()  # (reusable: it keeps a stack of the modes it replaced)

#: Width of the code column; comments start after it.
CODE_WIDTH = 64


def _numpy_name(fn: Any) -> str | None:
    """``np.<name>`` when ``fn`` is numpy's function of that name, else None."""
    name = getattr(fn, "__name__", None)
    if name and getattr(np, name, None) is fn:
        return f"np.{name}"
    return None


class _Writer:
    """Names and the namespace while one program is written out."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.namespace: dict[str, Any] = {
            "np": np,
            "tensor": _new_tensor,
            "Retrace": Retrace,
            "T": {},
            "ndarray": np.ndarray,
        }
        self.taken = set(self.namespace) | set(keyword.kwlist) | set(dir(builtins))
        self.bound: dict[int, str] = {}  # id(object) -> its name in the namespace
        self.names: dict[int, str] = {}  # slot -> variable name
        self.module_paths: dict[int, str] = {}
        self.arg_exprs: dict[ArgPath, str] = {}

    # ------------------------------------------------------------------ names
    def fresh(self, base: str) -> str:
        """A name not used yet, from ``base`` (suffixes _2, _3, ... when taken)."""
        base = hint_of(base)
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def bind(self, obj: Any, base: str) -> str:
        """The namespace name of ``obj`` (bound on first use)."""
        name = self.bound.get(id(obj))
        if name is None:
            name = self.bound[id(obj)] = self.fresh(base)
            self.namespace[name] = obj
        return name

    def tensor(self, tensor: Tensor) -> str:
        """How source refers to a tensor from outside: ``T["name"]``."""
        name = self.bound.get(id(tensor))
        if name is None:
            name = hint_of(tensor._name, "tensor")
            key, k = name, 1
            while key in self.namespace["T"]:
                k += 1
                key = f"{name}_{k}"
            self.namespace["T"][key] = tensor
            name = self.bound[id(tensor)] = f'T["{key}"]'
        return name

    def slot_name(self, index: int) -> str:
        """The variable name of slot ``index``."""
        name = self.names.get(index)
        if name is None:
            slot = self.program.slots[index]
            if slot.kind == "const":
                name = self.constant_name(slot)
            else:
                name = self.fresh(self.base_name(slot))
            self.names[index] = name
        return name

    def constant_name(self, slot: Slot) -> str:
        value = slot.value
        if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
            if value.size and np.array_equal(value, np.arange(value.size)):
                return self.bind(value, f"arange_{value.size}")
        return self.bind(value, "c")

    def base_name(self, slot: Slot) -> str:
        if slot.name:
            return slot.name
        if slot.grad_of is not None:
            return "d" + self.slot_name(slot.grad_of)
        if slot.prim is not None and slot.scope:
            path = self.module_path(slot.scope)
            if path:
                return path if self.ops_in(slot.scope[-1]) == 1 else f"{path}_{slot.prim.name}"
        return slot.hint

    def module_path(self, scope: tuple[Any, ...]) -> str:
        """The dotted path of the innermost module of ``scope`` in the outermost one."""
        root = scope[0]
        if id(root) not in self.module_paths:
            for path, module in root.named_modules():
                self.module_paths.setdefault(id(module), path)
        return self.module_paths.get(id(scope[-1]), "")

    def ops_in(self, module: Any) -> int:
        counts = getattr(self, "_ops_in", None)
        if counts is None:
            counts = self._ops_in = {}
            for slot in self.program.slots:
                if slot.prim is not None and slot.scope:
                    counts[id(slot.scope[-1])] = counts.get(id(slot.scope[-1]), 0) + 1
        return counts.get(id(module), 0)

    # ------------------------------------------------------------------ expressions
    def expr(self, operand: Any) -> str:
        """Source for an operand (see :mod:`autograd.compile.program`)."""
        if isinstance(operand, TensorUse):
            return f"tensor({self.slot_name(operand.slot)})"
        if isinstance(operand, Use):
            return self.slot_name(operand.slot)
        if isinstance(operand, ArgPath):
            return self.arg_exprs[operand]
        if isinstance(operand, Tensor):
            return self.tensor(operand)
        return self.literal(operand)

    def literal(self, value: Any) -> str:
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return repr(value)
        if kind is float:
            return repr(value) if np.isfinite(value) else f"float({str(value)!r})"
        if kind is tuple:
            items = ", ".join(self.expr(v) for v in value)
            return f"({items},)" if len(value) == 1 else f"({items})"
        if kind is list:
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v in value.items()) + "}"
        if kind is slice:
            parts = (value.start, value.stop, value.step)
            return "slice(" + ", ".join(self.expr(p) for p in parts) + ")"
        if value is Ellipsis:
            return "..."
        if isinstance(value, np.generic) and kind.__name__ in vars(np):
            item = value.item()
            text = (
                repr(item)
                if not isinstance(item, float) or np.isfinite(item)
                else f"float({str(item)!r})"
            )
            return f"np.{kind.__name__}({text})"
        if isinstance(value, np.dtype) and value.isbuiltin:
            return f"np.dtype({str(value)!r})"
        if isinstance(value, type) and getattr(np, value.__name__, None) is value:
            return f"np.{value.__name__}"
        return self.bind(value, type(value).__name__.lower())

    def index(self, operand: Any) -> str:
        """An operand written as a subscript: ``a[1:3, idx]``."""
        if type(operand) is tuple:
            return ", ".join(self.index(part) for part in operand) if operand else "()"
        if type(operand) is slice:
            start, stop, step = (
                "" if p is None else self.expr(p)
                for p in (operand.start, operand.stop, operand.step)
            )
            return f"{start}:{stop}" + (f":{step}" if step else "")
        return self.expr(operand)

    def arguments(self, args: Any, kwargs: dict[str, Any]) -> str:
        parts = [self.expr(a) for a in args]
        parts += [f"{k}={self.expr(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def function(self, fn: Any, base: str) -> str:
        return _numpy_name(fn) or self.bind(fn, base)

    # ------------------------------------------------------------------ statements
    def statement(self, instruction: Instruction) -> str:
        """One instruction as one line of source (without its comment)."""
        i = instruction
        target = ", ".join(self.slot_name(o) for o in i.outs)
        kind, fn, args, kwargs = i.kind, i.fn, i.args, i.kwargs
        if kind == "set_grad":
            owner, value = args
            value = "None" if value is None else f"tensor({self.expr(value)})"
            return f"{self.expr(owner)}._grad = {value}"
        if kind == "dict":
            return f"{target} = {{}}"
        if kind == "prim":
            call = self.prim_call(i)
        elif kind == "op":
            if fn is operator.setitem:
                return f"{self.expr(args[0])}[{self.index(args[1])}] = {self.expr(args[2])}"
            if fn in _INPLACE:
                return f"{self.expr(args[0])} {_INPLACE[fn]} {self.expr(args[1])}"
            call = self.operator_call(fn, args)
        elif kind == "ufunc":
            name = self.function(fn, getattr(fn, "__name__", "ufunc"))
            call = f"{name}({self.arguments(args, kwargs)})"
        elif kind == "method":
            call = f"{self.expr(args[0])}.{fn}({self.arguments(args[1:], kwargs)})"
        elif kind == "attr":
            call = f"{self.expr(args[0])}.{fn}"
        else:  # func, call
            name = self.function(fn, getattr(fn, "__name__", "call"))
            call = f"{name}({self.arguments(args, kwargs)})"
        return f"{target} = {call}" if target else call

    def prim_call(self, instruction: Instruction) -> str:
        fn, args, kwargs = instruction.fn, instruction.args, instruction.kwargs
        if not kwargs and (fn in _BINARY or fn in _UNARY):
            return self.operator_call(fn, args)
        if not kwargs and fn in _NUMPY_INFIX and len(args) == 2:
            return f"{self.expr(args[0])} {_NUMPY_INFIX[fn]} {self.expr(args[1])}"
        name = _numpy_name(fn) or self.bind(fn, instruction.prim.name)
        return f"{name}({self.arguments(args, kwargs)})"

    def operator_call(self, fn: Any, args: Any) -> str:
        if fn is operator.getitem:
            return f"{self.expr(args[0])}[{self.index(args[1])}]"
        if fn in _BINARY:
            return f"{self.expr(args[0])} {_BINARY[fn]} {self.expr(args[1])}"
        if fn in _UNARY:
            return f"{_UNARY[fn]}{self.expr(args[0])}"
        return f"{self.function(fn, fn.__name__)}({self.arguments(args, {})})"


def _new_tensor(data: Any) -> Tensor:
    """A result tensor (no graph) holding ``data``."""
    return result_tensor(data, None)


def _comment(code: str, note: str) -> str:
    if not note:
        return code
    return f"{code.ljust(CODE_WIDTH)}  # {note}"


def generate(program: Program, name: str | None = None) -> tuple[str, dict[str, Any], str]:
    """The program as the source of a function, the namespace it runs in, and its name
    (``name`` or the program's, made an identifier)."""
    w = _Writer(program)
    name = w.fresh(name or program.name)
    params = []
    for i, arg in enumerate(program.arg_names):
        params.append(w.fresh(arg))
        w.arg_exprs[ArgPath((i,))] = params[-1]
    kw_params = []
    for key in program.kwarg_names:
        kw_params.append(key)
        w.taken.add(key)
        w.arg_exprs[ArgPath((key,))] = key
    for path in program.arg_slots:  # nested arguments: param[k]...
        if path not in w.arg_exprs:
            w.arg_exprs[path] = w.arg_exprs[ArgPath(path[:1])] + "".join(
                f"[{k!r}]" for k in path[1:]
            )
    signature = ", ".join(params + (["*"] + kw_params if kw_params else []))
    lines = [f"def {name}({signature}):"]
    body: list[str] = []
    # guards on Python state, then the inputs (each checked against its traced shape)
    for guard in program.guards:
        test = guard.code.format(
            obj=w.expr(guard.obj) if not isinstance(guard.obj, ArgPath) else w.arg_exprs[guard.obj]
        )
        body.append(f"if not ({test}): raise Retrace({guard.what!r})")
    for slot in program.inputs():
        body += _read_input(w, slot)
    previous_note = None
    no_grad = False  # inside a "with no_grad:" block (calls that ran with grad mode off)
    for instruction in program.instructions:
        code = w.statement(instruction)
        note = instruction.note
        if instruction.kind != "prim" and note == previous_note:
            note = ""
        previous_note = instruction.note
        if instruction.kind == "call" and not instruction.grad_mode:
            if not no_grad:
                body.append(f"with {w.bind(_NO_GRAD, 'no_grad')}:")
                no_grad = True
            body.append("    " + _comment(code, note))
            continue
        no_grad = False
        body.append(_comment(code, note))
    body.append(f"return {w.expr(_output_operand(program.outputs))}")
    lines += ["    " + line for line in body]
    return "\n".join(lines) + "\n", w.namespace, name


def _output_operand(outputs: Any) -> Any:
    return outputs


def _read_input(w: _Writer, slot: Slot) -> list[str]:
    """Lines reading an input slot at the start of a call, with its shape check."""
    name = w.slot_name(slot.index)
    if slot.kind == "arg":
        source = w.arg_exprs[slot.source]
        read = (
            f"{name} = {source}.data"
            if slot.index in w.program.arg_tensors
            else f"{name} = {source}"
        )
        return [read]  # the arguments' shapes are part of the cache key
    if slot.kind == "data":
        tensor = w.tensor(slot.source)
        lines = [f"{name} = {tensor}.data"]
        flag = slot.source._requires_grad
        lines.append(
            f"if {tensor}._requires_grad is not {flag}: raise Retrace({name + ' requires_grad'!r})"
        )
    elif slot.kind == "grad":
        owner = w.expr(slot.source)
        lines = [f"{name} = {owner}._grad.data"]
    else:  # "object": the same array at every call
        lines = [f"{name} = {w.bind(slot.value, slot.hint)}"]
    lines.append(_check(w, name, slot.value))
    return lines


def _check(w: _Writer, name: str, value: Any) -> str:
    """``if <name> no longer has the traced type, shape and dtype: raise Retrace``."""
    if isinstance(value, np.ndarray):
        dtype = w.bind(value.dtype, f"dtype_{value.dtype}")
        test = (
            f"{name}.__class__ is not ndarray or {name}.shape != {value.shape!r} "
            f"or {name}.dtype is not {dtype}"
        )
    else:
        kind = w.bind(type(value), type(value).__name__)
        test = f"{name}.__class__ is not {kind}"
    return f"if {test}: raise Retrace({name + ' changed type, shape or dtype'!r})"


def build(program: Program, name: str | None = None) -> tuple[Callable[..., Any], str]:
    """Compile the program's source; returns ``(function, source)``."""
    source, namespace, name = generate(program, name)
    filename = f"<compiled {program.name} #{id(program):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[name], source
