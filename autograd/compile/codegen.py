"""Source generation: a :class:`~autograd.compile.program.Program` as a Python function.

:func:`generate` writes the program as the source of one function, with a namespace of
the objects it refers to, and :func:`build` compiles it. The same text is what replays
run and what ``CompiledFunction.source()`` shows, so what you read is what runs:

- one line per primitive (``linear(X, W1)``, ``np.exp(x)``, ``a @ b``), with a comment
  naming it and its shapes; a VJP rule's numpy steps as the rule wrote them, a value used
  once written into the expression that uses it (``dW2 = activation.T @ dlinear2``);
  replayed calls as calls (an optimizer's step, a random draw);
- names from tensor names (``W1``, ``layers_0_weight``), module paths (``layers_0`` is
  the output of module ``layers.0``), primitives (``linear1``) and gradients (``dW1`` is
  the gradient of ``W1``);
- first, the guards on Python state and the inputs' checks: a failed one raises
  :class:`~autograd.compile.errors.Retrace` (the caller traces again).

The namespace binds ``np``, ``T`` (the tensors read or written, by name), the
primitives' forwards and other functions by name, constants by name, ``tensor`` (makes a
result tensor) and ``Retrace``.
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
from ..mode import state as _mode_state
from ..tensor import Tensor, result_tensor
from .errors import OtherSignature, Retrace
from .program import Instruction, Program, Slot, TensorUse, Use, operand_uses
from .signature import argument_key
from .tracer import ArgPath, hint_of

_BINARY = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
    operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.lshift: "<<",
    operator.rshift: ">>", operator.lt: "<", operator.le: "<=", operator.gt: ">",
    operator.ge: ">=", operator.eq: "==", operator.ne: "!=",
}  # fmt: skip
_INPLACE = {
    getattr(operator, "i" + fn.__name__.rstrip("_")): symbol + "="
    for fn, symbol in _BINARY.items()
    if hasattr(operator, "i" + fn.__name__.rstrip("_"))
}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}
_NUMPY_INFIX = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/",
                np.matmul: "@"}  # fmt: skip

#: Instruction kinds whose single-use results may be written into their consumer.
_INLINABLE = frozenset(("op", "method", "attr", "func", "ufunc"))

#: Width of the code column; comments start after it.
CODE_WIDTH = 60

#: Lines longer than this are not made by writing a value into its consumer.
MAX_LINE = 96

_NO_GRAD = no_grad()  # (reusable: it keeps a stack of the modes it replaced)


def _numpy_name(fn: Any) -> str | None:
    """``np.<name>`` when ``fn`` is numpy's function of that name, else None."""
    name = getattr(fn, "__name__", None)
    if name and getattr(np, name, None) is fn:
        return f"np.{name}"
    return None


class _Writer:
    """Names, bound objects and inlined expressions while one program is written out."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.namespace: dict[str, Any] = {
            "np": np, "tensor": result_tensor, "Retrace": Retrace, "T": {}, "ndarray": np.ndarray,
            "OtherSignature": OtherSignature, "Tensor": Tensor,
        }  # fmt: skip
        self.taken = set(self.namespace) | set(keyword.kwlist) | set(dir(builtins))
        self.bound: dict[Any, str] = {}  # key of an object -> its name in the namespace
        self.names: dict[int, str] = {}  # slot -> variable name (or inlined expression)
        self.counters: dict[str, int] = {}
        self.module_paths: dict[int, str] = {}
        self.ops_per_module: dict[int, int] = {}
        for slot in program.slots:
            if slot.prim is not None and slot.scope:
                key = id(slot.scope[-1])
                self.ops_per_module[key] = self.ops_per_module.get(key, 0) + 1
        self.arg_exprs: dict[ArgPath, str] = {}

    # ------------------------------------------------------------------ names
    def fresh(self, base: str, numbered: bool = False) -> str:
        """A name not taken yet: ``base``, else ``base_2``, ... (``base1``, ``base2``, ...
        when ``numbered``)."""
        base = hint_of(base)
        if numbered:
            while True:
                self.counters[base] = k = self.counters.get(base, 0) + 1
                if f"{base}{k}" not in self.taken:
                    break
            name = f"{base}{k}"
        else:
            name, k = base, 1
            while name in self.taken:
                k += 1
                name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def bind(self, obj: Any, base: str, key: Any = None) -> str:
        """The namespace name of ``obj`` (bound on first use; ``key`` identifies it)."""
        key = id(obj) if key is None else key
        name = self.bound.get(key)
        if name is None:
            name = self.bound[key] = self.fresh(base)
            self.namespace[name] = obj
        return name

    def tensor(self, tensor: Tensor) -> str:
        """How source refers to a tensor from outside: ``T["name"]``."""
        name = self.bound.get(id(tensor))
        if name is None:
            base = key = hint_of(tensor._name, "tensor")
            while key in self.namespace["T"]:
                self.counters["T:" + base] = k = self.counters.get("T:" + base, 1) + 1
                key = f"{base}_{k}"
            self.namespace["T"][key] = tensor
            name = self.bound[id(tensor)] = f'T["{key}"]'
        return name

    def slot_name(self, index: int) -> str:
        """The variable name of slot ``index`` (or the expression written in its place)."""
        name = self.names.get(index)
        if name is None:
            slot = self.program.slots[index]
            if slot.kind in ("const", "object"):
                name = self.constant(slot)
            else:
                base, numbered = self.base_name(slot)
                name = self.fresh(base, numbered)
            self.names[index] = name
        return name

    def constant(self, slot: Slot) -> str:
        value = slot.value
        if isinstance(value, np.ndarray):
            if value.ndim == 1 and value.dtype.kind in "iu" and value.size:
                if np.array_equal(value, np.arange(value.size)):
                    return self.bind(value, f"arange_{value.size}")
            return self.bind(value, slot.hint if slot.hint != "t" else "c")
        return self.literal(value)

    def base_name(self, slot: Slot) -> tuple[str, bool]:
        """The name to start from, and whether to number it (``linear1``)."""
        if slot.name:
            return slot.name, False
        if slot.grad_of is not None:
            return "d" + self.slot_name(slot.grad_of), False
        if slot.prim is not None:
            path = self.module_path(slot.scope) if slot.scope else ""
            if path and self.ops_per_module.get(id(slot.scope[-1])) == 1:
                return path, False
            return (f"{path}_{slot.prim.name}" if path else slot.prim.name), True
        return slot.hint, slot.hint == "t"

    def module_path(self, scope: tuple[Any, ...]) -> str:
        """The dotted path of the innermost module of ``scope`` in the outermost one."""
        root = scope[0]
        if id(root) not in self.module_paths:
            for path, module in root.named_modules():
                self.module_paths.setdefault(id(module), path)
        return self.module_paths.get(id(scope[-1]), "")

    # ------------------------------------------------------------------ expressions
    def expr(self, operand: Any, inner: bool = False) -> str:
        """Source for an operand; ``inner``: it stands inside a larger expression."""
        if isinstance(operand, TensorUse):
            return f"tensor({self.slot_name(operand.slot)})"
        if isinstance(operand, Use):
            text = self.slot_name(operand.slot)
            return f"({text})" if inner and not text.isidentifier() and not _atomic(text) else text
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
            return (
                f"slice({', '.join(self.expr(p) for p in (value.start, value.stop, value.step))})"
            )
        if value is Ellipsis:
            return "..."
        if isinstance(value, np.generic) and getattr(np, kind.__name__, None) is kind:
            return _scalar_literal(value)
        if isinstance(value, np.dtype) and value.isbuiltin:
            return self.bind(value, str(value))
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

    def function(self, fn: Any) -> str:
        """The name a function is called by: ``np.<name>``, or its bound name."""
        numpy_name = _numpy_name(fn)
        if numpy_name:
            return numpy_name
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, type(np)):  # a bound method
            base = f"{type(owner).__name__}_{fn.__name__}".lower().replace("__", "_")
            return self.bind(fn, base, key=(id(owner), fn.__name__))
        return self.bind(fn, getattr(fn, "__name__", "call"))

    # ------------------------------------------------------------------ instructions
    def value(self, instruction: Instruction) -> str:
        """The expression an instruction computes (instructions that make a value)."""
        i = instruction
        kind, fn, args, kwargs = i.kind, i.fn, i.args, i.kwargs
        if kind == "prim":
            if not kwargs and fn in _BINARY:
                return f"{self.expr(args[0], True)} {_BINARY[fn]} {self.expr(args[1], True)}"
            if not kwargs and fn in _UNARY:
                return f"{_UNARY[fn]}{self.expr(args[0], True)}"
            if not kwargs and fn in _NUMPY_INFIX and len(args) == 2:
                return f"{self.expr(args[0], True)} {_NUMPY_INFIX[fn]} {self.expr(args[1], True)}"
            return f"{self.function(fn)}({self.arguments(args, kwargs)})"
        if kind == "op":
            if fn is operator.getitem:
                return f"{self.expr(args[0], True)}[{self.index(args[1])}]"
            if fn in _BINARY:
                return f"{self.expr(args[0], True)} {_BINARY[fn]} {self.expr(args[1], True)}"
            if fn in _UNARY:
                return f"{_UNARY[fn]}{self.expr(args[0], True)}"
        if kind == "method":
            return f"{self.expr(args[0], True)}.{fn}({self.arguments(args[1:], kwargs)})"
        if kind == "attr":
            return f"{self.expr(args[0], True)}.{fn}"
        if kind == "dict":
            return "{}"
        return f"{self.function(fn)}({self.arguments(args, kwargs)})"  # func, ufunc, call

    def statement(self, instruction: Instruction) -> str:
        """One instruction as one line (without its comment)."""
        i = instruction
        args = i.args
        if i.kind == "set_grad":
            owner, value = args
            value = "None" if value is None else f"tensor({self.expr(value)})"
            return f"{self.expr(owner)}._grad = {value}"
        if i.kind == "op" and i.fn is operator.setitem:
            return f"{self.expr(args[0], True)}[{self.index(args[1])}] = {self.expr(args[2])}"
        if i.kind == "op" and i.fn in _INPLACE:
            return f"{self.expr(args[0])} {_INPLACE[i.fn]} {self.expr(args[1])}"
        code = self.value(i)
        if i.outs:
            return ", ".join(self.slot_name(o) for o in i.outs) + " = " + code
        return code


def _scalar_literal(value: np.generic) -> str:
    """``np.float32(0.2)``: the shortest text that gives back exactly ``value``."""
    kind = type(value).__name__
    for text in (str(value), repr(value.item())):
        if text in ("nan", "inf", "-inf"):
            text = repr(text)
        try:
            same = (
                np.array(type(value)(eval(text)), dtype=value.dtype).tobytes()
                == np.array(value).tobytes()
            )  # noqa: S307
        except (ValueError, SyntaxError, OverflowError):
            same = False
        if same:
            return f"np.{kind}({text})"
    return f"np.{kind}({value.item()!r})"


def _atomic(text: str) -> bool:
    """True if ``text`` needs no parentheses inside an expression (a call, a subscript)."""
    if text.isidentifier() or text.startswith("np.") and text.endswith(")") and "(" in text:
        return True
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in " +-*/@<>=&|^~%":
            return False
    return True


def _comment(code: str, note: str) -> str:
    return f"{code.ljust(CODE_WIDTH)}  # {note}" if note else code


def _inlined(program: Program, uses: list[int]) -> dict[int, int]:
    """Slots to write into their only consumer: slot -> the consumer's instruction index.

    A slot qualifies when one instruction reads it (and no output), its producer is a
    numpy step of a rule (not a primitive, which keeps its own line), and no instruction
    between the two writes anything or has effects.
    """
    consumer: dict[int, int] = {}
    for k, instruction in enumerate(program.instructions):
        for slot in instruction.uses():
            consumer.setdefault(slot, k)
    inlined = {}
    barrier = -1  # index of the latest instruction that writes or has effects
    last_barrier_before: list[int] = []
    for k, instruction in enumerate(program.instructions):
        last_barrier_before.append(barrier)
        if instruction.writes or instruction.effect:
            barrier = k
    for k, instruction in enumerate(program.instructions):
        if instruction.kind not in _INLINABLE or len(instruction.outs) != 1:
            continue
        if instruction.writes or instruction.effect or "out" in instruction.kwargs:
            continue
        slot = instruction.outs[0]
        if uses[slot] != 1 or slot not in consumer or not _temporary(program.slots[slot]):
            continue
        target = consumer[slot]
        user = program.instructions[target]
        if last_barrier_before[target] >= k or slot in user.writes:
            continue
        if user.kind in ("set_grad", "call"):
            continue
        inlined[slot] = target
    return inlined


def _temporary(slot: Slot) -> bool:
    """A value with no name of its own (gradients and named tensors keep their lines)."""
    return slot.name is None and slot.grad_of is None and slot.prim is None and slot.hint == "t"


def generate(program: Program, name: str | None = None) -> tuple[str, dict[str, Any], str]:
    """The program as the source of a function, the namespace it runs in, and its name
    (``name`` or the program's, made an identifier)."""
    w = _Writer(program)
    for instruction in program.instructions:  # functions first: they keep their own names
        fn = instruction.fn
        if instruction.kind == "prim" and not _numpy_name(fn) and fn not in _BINARY:
            w.bind(fn, instruction.prim.name)
        elif instruction.kind in ("func", "ufunc", "call"):
            w.function(fn)
    for guard in program.guards:  # modules by their paths
        if hasattr(guard.obj, "named_modules"):
            root = hint_of(type(guard.obj).__name__.lower())
            for path, module in guard.obj.named_modules():
                w.bind(module, f"{root}_{path}" if path else root)
    name = w.fresh(name or program.name)
    params = _parameters(w, program)
    lines = [f"def {name}({params}):"]
    body = _signature_lines(w, program) + _guard_lines(w, program)
    for slot in program.inputs():
        body += _input_lines(w, slot)
    body += _body_lines(w, program)
    body.append(f"return {_output(w, program.outputs)}")
    lines += ["    " + line for line in body]
    return "\n".join(lines) + "\n", w.namespace, name


def _parameters(w: _Writer, program: Program) -> str:
    """The signature, and how each argument is written (``w.arg_exprs``)."""
    params = []
    for i, arg in enumerate(program.arg_names):
        params.append(w.fresh(arg))
        w.arg_exprs[ArgPath((i,))] = params[-1]
    keywords = []
    for key in program.kwarg_names:
        keywords.append(w.fresh(key))
        w.arg_exprs[ArgPath((key,))] = keywords[-1]
    for path in program.arg_slots:  # nested arguments: param[k]...
        if path not in w.arg_exprs:
            w.arg_exprs[path] = w.arg_exprs[ArgPath(path[:1])] + "".join(
                f"[{k!r}]" for k in path[1:]
            )
    needed = {o for o in _objects(program) if isinstance(o, ArgPath)}
    for path, slot in program.arg_slots.items():  # a top-level argument names its array
        if len(path) == 1 and path not in needed:
            w.names[slot] = w.arg_exprs[path]
    return ", ".join(params + (["*", *keywords] if keywords else []))


def _objects(program: Program) -> list[Any]:
    """Every non-slot operand of the program's instructions, outputs and guards."""
    found: list[Any] = [g.obj for g in program.guards]
    found += [s.source for s in program.slots if s.kind == "grad"]

    def walk(item: Any) -> None:
        if isinstance(item, tuple | list):
            if isinstance(item, ArgPath):
                found.append(item)
                return
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            for x in item.values():
                walk(x)
        else:
            found.append(item)

    for instruction in program.instructions:
        if instruction.kind in ("set_grad", "call"):  # (only they take tensor objects)
            walk(instruction.args)
            walk(instruction.kwargs)
    walk(program.outputs)
    return found


def _signature_lines(w: _Writer, program: Program) -> list[str]:
    """``if <an argument differs from the traced signature>: raise OtherSignature``."""
    if program.signature is None:
        return []
    grad_mode, *keys = program.signature
    tests = [f"{w.bind(_mode_state, 'mode')}.grad_enabled is not {grad_mode}"]
    for i, key in enumerate(keys[: len(program.arg_names)]):
        tests += _argument_tests(w, w.arg_exprs[ArgPath((i,))], key)
    return [f"if {' or '.join(tests)}: raise OtherSignature"]


def _argument_tests(w: _Writer, arg: str, key: tuple[Any, ...]) -> list[str]:
    """Tests true when the argument ``arg`` no longer has the signature ``key`` (see
    ``signature.argument_key``)."""
    kind = key[0]
    if kind == "tensor":
        _, data_type, shape, dtype, requires_grad = key
        return [
            f"not isinstance({arg}, Tensor)",
            f"{arg}.data.__class__ is not {w.bind(data_type, data_type.__name__)}",
            f"{arg}.data.shape != {shape!r}",
            _dtype_differs(w, f"{arg}.data.dtype", dtype),
            f"{arg}._requires_grad is not {requires_grad}",
        ]
    if kind == "array":
        _, shape, dtype = key
        return [
            f"{arg}.__class__ is not ndarray",
            f"{arg}.shape != {shape!r}",
            _dtype_differs(w, f"{arg}.dtype", dtype),
        ]
    if kind == "scalar":
        return [f"{arg}.__class__ is not {w.bind(key[1], key[1].__name__)}"]
    if kind == "value" and key[1] in (bool, int, str, type(None)):
        return [f"{arg}.__class__ is not {key[1].__name__}", f"{arg} != {key[2]!r}"]
    return [f"{w.bind(argument_key, 'signature_of')}({arg}) != {w.bind(key, 'signature')}"]


def _dtype_differs(w: _Writer, expr: str, dtype: np.dtype) -> str:
    name = w.literal(dtype)
    return f"({expr} is not {name} and {expr} != {name})"


def _guard_lines(w: _Writer, program: Program) -> list[str]:
    """``if not (...): raise Retrace(...)`` for each guard; same-valued flags chained."""
    lines = []
    chains: dict[str, list[str]] = {}
    for guard in program.guards:
        obj = w.arg_exprs[guard.obj] if isinstance(guard.obj, ArgPath) else w.expr(guard.obj)
        if guard.code.startswith("{obj}.training is "):
            chains.setdefault(guard.code.rsplit(" ", 1)[1], []).append(f"{obj}.training")
            continue
        lines.append(f"if not ({guard.code.format(obj=obj)}): raise Retrace({guard.what!r})")
    for flag, flags in chains.items():
        test = " is ".join([*flags, flag])
        lines.insert(0, f"if not ({test}): raise Retrace('a module was switched to train/eval')")
    return lines


def _input_lines(w: _Writer, slot: Slot) -> list[str]:
    """Lines reading an input slot at the start of a call, with its check."""
    if slot.kind == "object":  # the same array object at every call: bound, not read
        return []
    name = w.slot_name(slot.index)
    if slot.kind == "arg":  # (its type, shape and dtype are in the cache key)
        source = w.arg_exprs[slot.source]
        if slot.index in w.program.arg_tensors:
            return [f"{name} = {source}.data"]
        return [] if name == source else [f"{name} = {source}"]
    if slot.kind == "data":
        tensor = w.tensor(slot.source)
        flag = "not " if slot.source._requires_grad else ""
        return [
            f"{name} = {tensor}.data",
            _check(w, name, slot.value, f"{flag}{tensor}._requires_grad"),
        ]
    owner = w.expr(slot.source)  # "grad": a gradient from before the call
    return [f"{name} = {owner}._grad.data", _check(w, name, slot.value)]


def _check(w: _Writer, name: str, value: Any, also: str = "") -> str:
    """``if <name> no longer has its traced type, shape and dtype: raise Retrace``."""
    if isinstance(value, np.ndarray):
        tests = [
            f"{name}.shape != {value.shape!r}",
            _dtype_differs(w, f"{name}.dtype", value.dtype),
        ]
        if value.ndim == 0:  # (a numpy scalar also has shape ())
            tests.insert(0, f"{name}.__class__ is not ndarray")
    else:
        tests = [f"{name}.__class__ is not {w.bind(type(value), type(value).__name__)}"]
    if also:
        tests.append(also)
    return f"if {' or '.join(tests)}: raise Retrace({name!r})"


def _dead_arrays(program: Program) -> dict[int, list[int]]:
    """``{k: slots}``: the tensors' arrays read at the start whose last use comes before
    replayed call ``k`` (deleted there, so that the call, an optimizer's step, sees them
    referred to by their tensors alone and may move them into its flat buffers)."""
    last = {s.index: -1 for s in program.slots if s.kind == "data"}
    for k, instruction in enumerate(program.instructions):
        for slot in instruction.uses():
            if slot in last:
                last[slot] = k
    for use in operand_uses(program.outputs):
        last.pop(use.slot, None)
    dead: dict[int, list[int]] = {}
    for k, instruction in enumerate(program.instructions):
        if instruction.kind == "call":
            ready = [slot for slot, end in last.items() if end < k]
            if ready:
                dead[k] = ready
                for slot in ready:
                    del last[slot]
    return dead


def _body_lines(w: _Writer, program: Program) -> list[str]:
    uses = program.use_counts()
    inlined = _inlined(program, uses)
    dead = _dead_arrays(program)
    instructions = program.instructions
    lines: list[str] = []
    no_grad = False  # inside a "with no_grad:" block (calls that ran with grad mode off)
    previous_note = None
    skip = set()
    for k, instruction in enumerate(instructions):
        if k in skip:
            continue
        names = [w.names[s] for s in dead.get(k, ()) if w.names.get(s, "").isidentifier()]
        if names:
            code = _comment(f"del {', '.join(names)}", "last use (the update may move them)")
            lines.append(("    " if no_grad else "") + code)
        out = instruction.outs[0] if len(instruction.outs) == 1 else None
        if out is not None and out in inlined:
            text = w.value(instruction)
            line = len(text) + 40  # (a rough check: the consumer's line stays readable)
            if line <= MAX_LINE:
                w.names[out] = text
                continue
        update = _item_update(w, program, k, uses)
        code = update if update else w.statement(instruction)
        if update:
            skip.update((k + 1, k + 2))
        note = instruction.note
        if instruction.kind != "prim" and note == previous_note:
            note = ""
        previous_note = instruction.note
        if instruction.kind == "call" and not instruction.grad_mode:
            if not no_grad:
                lines.append(f"with {w.bind(_NO_GRAD, 'no_grad')}:")
                no_grad = True
            lines.append("    " + _comment(code, note))
            continue
        no_grad = False
        lines.append(_comment(code, note))
    return lines


def _item_update(w: _Writer, program: Program, k: int, uses: list[int]) -> str | None:
    """``a[i] op= v`` when instructions k, k+1, k+2 are its three steps: ``t = a[i]``,
    ``t op= v``, ``a[i] = t`` (exactly what Python runs for it), else None."""
    instructions = program.instructions
    if k + 2 >= len(instructions):
        return None
    get, change, put = instructions[k : k + 3]
    if not (get.kind == "op" and get.fn is operator.getitem and len(get.outs) == 1):
        return None
    t = get.outs[0]
    if uses[t] != 2 or not (change.kind == "op" and change.fn in _INPLACE):
        return None
    if not (put.kind == "op" and put.fn is operator.setitem):
        return None
    if not (_reads(change.args[0], t) and _reads(put.args[2], t)):
        return None
    if _key(get.args[0]) != _key(put.args[0]) or _key(get.args[1]) != _key(put.args[1]):
        return None
    target = f"{w.expr(get.args[0], True)}[{w.index(get.args[1])}]"
    return f"{target} {_INPLACE[change.fn]} {w.expr(change.args[1])}"


def _reads(operand: Any, slot: int) -> bool:
    return isinstance(operand, Use) and operand.slot == slot


def _key(operand: Any) -> Any:
    """A comparable form of an operand structure (uses by slot, constants by identity)."""
    if isinstance(operand, Use):
        return ("use", operand.slot)
    if type(operand) in (tuple, list):
        return tuple(_key(x) for x in operand)
    if type(operand) is slice:
        return ("slice", _key(operand.start), _key(operand.stop), _key(operand.step))
    return ("const", id(operand))


def _output(w: _Writer, outputs: Any) -> str:
    return w.expr(outputs)


def build(program: Program, name: str | None = None) -> tuple[Callable[..., Any], str]:
    """Compile the program's source; returns ``(function, source)``."""
    source, namespace, name = generate(program, name)
    filename = f"<compiled {program.name} #{id(program):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[name], source


__all__ = ["build", "generate"]
