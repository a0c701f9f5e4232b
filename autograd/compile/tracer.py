"""Tracing: run a function once, eagerly, and record what it computes as a :class:`Program`.

While a thread traces, it is registered with :func:`autograd.mode.set_tracer`, and the
engine's hooks report to its :class:`Tracer`:

- every primitive application, at the one place results are made
  (``primitive._result``), becomes a ``prim`` instruction (the primitive's forward is
  the replay function), with the residuals its forward leaves for its VJP;
- ``backward`` runs as always, but in first order the VJP rules compute on
  :class:`~autograd.compile.traced.TracedArray` values with a recording numpy namespace,
  so each numpy step of each rule becomes an instruction (``create_graph`` runs the rules
  on Tensors: their ops are primitive applications already); gradient stores into
  ``.grad`` become ``set_grad`` instructions;
- in-place writes (``ops/inplace.py``), random draws (``random.draw``) and optimizer
  updates (``ops.inplace.update``) are ``call`` instructions: replays make the same call;
- reading a traced value in Python raises :class:`CompileError`; modules called and
  gradients read from outside become guards.

Values are followed by identity: a tensor made by a recorded op, or the array it holds,
is that op's output slot. A tensor the function reads from outside (a parameter, a
buffer) becomes a *reference* input: replays read its ``data`` afresh. Raw arrays from
outside are used as the same objects at every call.

:func:`trace` is the interface: a function and example arguments in, a program out
(``ag.compile`` replays it; an exporter can translate its ``prim`` instructions).
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..mode import set_tracer, state
from ..node import FreedArray, Node
from ..ops.namespaces import NUMPY_NS
from ..primitive import Primitive, _result
from ..tensor import Tensor, tensor_data
from .errors import CompileError
from .program import Guard, Instruction, Program, Slot, TensorUse, Use, operand_uses
from .traced import TracedArray, recording_namespace

ndarray = np.ndarray

#: numpy functions that write into their first argument.
WRITING_FUNCTIONS = frozenset(
    (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis)
)

_NOT_A_NAME = re.compile(r"\W+")


class ArgPath(tuple):
    """Where an argument sits in the call: ``(position,)`` or deeper, e.g. ``(0, "x", 1)``."""

    __slots__ = ()


def hint_of(name: str | None, default: str = "t") -> str:
    """A Python identifier made from a tensor or module name (``layers.0.weight`` ->
    ``layers_0_weight``)."""
    if not name:
        return default
    hint = _NOT_A_NAME.sub("_", name).strip("_") or default
    return hint if not hint[0].isdigit() else "_" + hint


def _is_traceable_array(value: Any) -> bool:
    """Arrays and numpy scalars are followed by identity (numpy's two booleans are
    singletons, shared by unrelated results: they are not)."""
    kind = type(value)
    return kind is ndarray or (isinstance(value, np.generic) and kind is not np.bool_)


class Tracer:
    """The recording state of one trace (module docstring); builds ``self.program``."""

    def __init__(self, program: Program) -> None:
        self.program = program
        # id(tensor) -> (tensor, slot, the data it held when mapped)
        self.tensors: dict[int, tuple[Tensor, int, Any]] = {}
        self.values: dict[int, tuple[Any, int]] = {}  # id(array) -> (array, slot)
        self.nodes: dict[Node, int] = {}  # recorded node -> slot of its output
        self.residuals: dict[int, tuple[dict, dict[str, int]]] = {}  # id(dict) -> slots
        self.grads: set[int] = set()  # ids of tensors whose .grad was read or written
        self.modules: dict[int, Any] = {}  # id -> module called during the trace
        self.arg_tensors: dict[int, tuple[Tensor, ArgPath]] = {}
        self.result_tensors: dict[int, Tensor] = {}  # slot -> the tensor made for it
        self.vjp: str | None = None  # the primitive whose VJP runs (for notes and errors)
        self._namespace: Any = None

    # ------------------------------------------------------------------ slots
    def new_slot(self, kind: str, value: Any, **details: Any) -> Slot:
        """A new slot, its value followed by identity from now on."""
        slot = self.program.new_slot(kind, value, **details)
        self.follow(value, slot.index)
        return slot

    def follow(self, value: Any, slot: int) -> None:
        """Map ``value`` (an array or numpy scalar) to ``slot``."""
        if _is_traceable_array(value):
            self.values[id(value)] = (value, slot)

    def constant(self, value: Any) -> int:
        """A constant slot for ``value``."""
        return self.program.new_slot("const", value, hint="c").index

    def add_argument(self, value: Any, path: ArgPath, hint: str) -> Any:
        """Register an argument of the call; returns what the function is called with
        (arrays become Tensors sharing their memory, so every use of them is recorded)."""
        if isinstance(value, Tensor):
            tensor = value
        elif isinstance(value, ndarray | np.generic):
            tensor = Tensor(value)
        else:
            return value
        slot = self.new_slot("arg", tensor.data, hint=hint, source=path)
        self.tensors[id(tensor)] = (tensor, slot.index, tensor.data)
        self.arg_tensors[id(tensor)] = (tensor, path)
        self.program.arg_slots[path] = slot.index
        if tensor is value:
            self.program.arg_tensors.add(slot.index)
        return tensor

    def tensor_slot(self, tensor: Tensor) -> int:
        """The slot of ``tensor``'s current data; a tensor from outside the trace becomes a
        reference input (its ``data`` is read at every call)."""
        entry = self.tensors.get(id(tensor))
        data = tensor.data
        if entry is not None and entry[2] is data:
            return entry[1]
        found = self.values.get(id(data))
        if found is not None and found[0] is data:
            slot = found[1]
        elif isinstance(data, TracedArray):
            slot = data.slot
        else:
            hint = hint_of(tensor._name)
            slot = self.new_slot("data", data, hint=hint, source=tensor).index
        self.tensors[id(tensor)] = (tensor, slot, data)
        return slot

    def is_traced(self, tensor: Tensor) -> bool:
        """True if ``tensor``'s value is part of the program (an input or a result)."""
        entry = self.tensors.get(id(tensor))
        if entry is not None and entry[2] is tensor.data:
            return True
        found = self.values.get(id(tensor.data))
        return found is not None and found[0] is tensor.data

    # ------------------------------------------------------------------ operands
    def use(self, value: Any) -> Any:
        """The operand for a raw input value (see :mod:`autograd.compile.program`)."""
        if isinstance(value, TracedArray):
            return Use(value.slot)
        if isinstance(value, Tensor):
            return Use(self.tensor_slot(value))
        kind = type(value)
        if kind is ndarray:
            found = self.values.get(id(value))
            if found is not None and found[0] is value:
                return Use(found[1])
            if not value.flags.writeable:  # read-only: a constant (e.g. a cached number)
                return Use(self.constant(value))
            return Use(self.new_slot("object", value, hint="array", source=value).index)
        if isinstance(value, np.generic):
            found = self.values.get(id(value))
            return Use(found[1]) if found is not None and found[0] is value else value
        if kind in (tuple, list):
            return kind(self.use(item) for item in value)
        if kind is dict:
            return {key: self.use(item) for key, item in value.items()}
        if kind is slice:
            return slice(self.use(value.start), self.use(value.stop), self.use(value.step))
        return value

    def input_use(self, data: Any, parent: Any) -> Any:
        """The operand for an op's input ``data`` whose graph parent is ``parent``."""
        if isinstance(parent, Tensor):
            return Use(self.tensor_slot(parent))
        if type(parent) is Node:
            slot = self.nodes.get(parent)
            if slot is not None:
                return Use(slot)
        return self.use(data)

    def call_use(self, value: Any) -> Any:
        """The operand for an argument of a replayed call: tensors stay tensors."""
        if isinstance(value, Tensor):
            slot = self.program.slots[self.tensor_slot(value)]
            if slot.kind == "data" and slot.source is value:
                return value  # a tensor from outside: the same object at every call
            if id(value) in self.arg_tensors:
                return self.arg_tensors[id(value)][1]
            return TensorUse(slot.index)
        kind = type(value)
        if kind in (tuple, list):
            return kind(self.call_use(item) for item in value)
        return self.use(value)

    # ------------------------------------------------------------------ primitives
    def result(
        self,
        prim: Primitive,
        out: Any,
        record: bool,
        parents: Sequence[Any],
        saved: tuple[Any, ...],
        params: dict[str, Any] | None,
    ) -> Tensor:
        """Make the op's result tensor (the engine's own way) and record the application."""
        program = self.program
        args = tuple(self.input_use(d, p) for d, p in zip(saved, parents))
        kwargs = {}
        residual = None
        for key, value in (params or {}).items():
            if key.startswith("_") and type(value) is dict:  # filled by the forward
                residual = (key, value, self.new_slot("value", value, hint="residual").index)
                program.emit(Instruction("dict", dict, outs=(residual[2],)))
                kwargs[key] = Use(residual[2])
            else:
                kwargs[key] = self.use(value)
        tensor = self._paused(_result, prim, out, record, parents, saved, params)
        slot = self.new_slot("value", tensor.data, prim=prim, scope=state.scope, hint=prim.name)
        writes = () if residual is None else (residual[2],)
        note = _note(prim, saved, tensor.data)
        program.emit(
            Instruction(
                "prim", prim.forward, args, kwargs, (slot.index,), writes, prim=prim, note=note
            )
        )
        if residual is not None:
            key, values, holder = residual
            slots = {}
            for name, value in values.items():
                slots[name] = self.new_slot("value", value, hint=hint_of(name)).index
                program.emit(
                    Instruction("op", operator.getitem, (Use(holder), name), outs=(slots[name],))
                )
            self.residuals[id(values)] = (values, slots)
        self.tensors[id(tensor)] = (tensor, slot.index, tensor.data)
        self.result_tensors[slot.index] = tensor
        if tensor._node is not None:
            self.nodes[tensor._node] = slot.index
        return tensor

    def _paused(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` with this thread's recording off."""
        set_tracer(None)
        try:
            return fn(*args, **kwargs)
        finally:
            set_tracer(self)

    # ------------------------------------------------------------------ replayed calls
    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any = None) -> Any:
        """Run ``fn(*args, **kwargs)`` unrecorded and record it as one call, replayed as it
        is (in-place writes, draws, optimizer updates). Its array operands may change."""
        kwargs = kwargs or {}
        operands = tuple(self.call_use(a) for a in args)
        kw_operands = {k: self.call_use(v) for k, v in kwargs.items()}
        tensors = [a for a in args if isinstance(a, Tensor)]
        before = [t.data for t in tensors]
        plain = tuple(_plain(a) for a in args)
        result = self._paused(fn, *plain, **{k: _plain(v) for k, v in kwargs.items()})
        writes = [u.slot for u in _uses((operands, kw_operands))]
        writes += [self.tensor_slot(t) for t in tensors if self._is_reference(t)]
        outs = ()
        if _holds_arrays(result):
            outs = (self.new_slot("value", result, hint=_call_hint(fn, args)).index,)
        name = getattr(fn, "__qualname__", repr(fn))
        self.program.emit(
            Instruction(
                "call",
                fn,
                operands,
                kw_operands,
                outs,
                tuple(dict.fromkeys(writes)),
                effect=True,
                note=name,
                grad_mode=state.grad_enabled,
            )
        )
        for tensor, data in zip(tensors, before):
            if tensor.data is not data:  # the call gave the tensor a new array: read it
                self._reread(tensor)
        if outs and isinstance(result, tuple | list):
            return self._items(outs[0], result, wrap=False)
        return result

    def _is_reference(self, tensor: Tensor) -> bool:
        slot = self.program.slots[self.tensors[id(tensor)][1]]
        return slot.kind == "data" and slot.source is tensor

    def _reread(self, tensor: Tensor) -> None:
        """After a call replaced ``tensor.data``: later uses read the new array."""
        operand = self.call_use(tensor) if self._is_reference(tensor) else None
        if operand is None:
            raise CompileError(
                "a replayed call replaced the array of a tensor computed inside the compiled "
                "function; compiled programs only follow such replacements for tensors from "
                "outside (parameters, buffers). Update the tensor in place instead."
            )
        slot = self.new_slot("value", tensor.data, hint=hint_of(tensor._name)).index
        self.program.emit(Instruction("attr", "data", (operand,), outs=(slot,)))
        self.tensors[id(tensor)] = (tensor, slot, tensor.data)

    def converted(self, source: Any, data: Any, dtype: Any) -> None:
        """``Tensor(source, dtype)`` made ``data`` from a traced value: record it."""
        operand = self.use(source)
        if isinstance(operand, Use) and self.program.slots[operand.slot].kind != "const":
            slot = self.new_slot("value", data, hint=self.program.slots[operand.slot].hint)
            self.program.emit(
                Instruction("func", tensor_data, (operand, dtype), outs=(slot.index,))
            )

    # ------------------------------------------------------------------ backward
    def backward(self, xp: Any, grad: Any, inputs_of: Any, store: Any) -> tuple[Any, ...]:
        """What ``run_backward`` runs with while tracing: the rules' namespace, the seed,
        the node inputs function, and the gradient store (see ``backward.run_backward``)."""
        stored = self._storing(store)
        if inputs_of is not None:  # create_graph: the rules' ops are recorded primitives
            return xp, grad, inputs_of, stored
        if self._namespace is None:
            self._namespace = recording_namespace(NUMPY_NS, self)
        return self._namespace, self.traced(grad), self._node_inputs, stored

    def traced(self, value: Any, parent: Any = None) -> Any:
        """``value`` as a rule sees it while tracing: arrays become TracedArrays."""
        if isinstance(value, TracedArray) or not isinstance(value, ndarray | np.generic):
            return value
        operand = self.input_use(value, parent)
        slot = operand.slot if isinstance(operand, Use) else self.constant(value)
        return TracedArray(value, slot, self)

    def _node_inputs(self, node: Node, g: Any) -> tuple[tuple[Any, ...], Any, Any]:
        self.vjp = node.prim.name
        out = self.traced(node.out, node)
        if isinstance(g, TracedArray) and isinstance(out, TracedArray):
            grad_slot = self.program.slots[g.slot]
            if grad_slot.kind == "value" and grad_slot.grad_of is None and not grad_slot.prim:
                grad_slot.grad_of = out.slot
        args = tuple(self.traced(d, p) for p, d in zip(node, node.saved))
        return args, out, self._traced_params(node.params)

    def _traced_params(self, params: Any) -> Any:
        if not params:
            return params
        traced = {}
        for key, value in params.items():
            entry = self.residuals.get(id(value)) if type(value) is dict else None
            if entry is not None:
                values, slots = entry
                traced[key] = {k: TracedArray(values[k], slots[k], self) for k in values}
            else:
                traced[key] = self._traced_structure(value)
        return traced

    def _traced_structure(self, value: Any) -> Any:
        kind = type(value)
        if kind in (tuple, list):
            return kind(self._traced_structure(item) for item in value)
        if kind is ndarray:
            found = self.values.get(id(value))
            return TracedArray(value, found[1], self) if found and found[0] is value else value
        return value

    def _storing(self, store: Callable[..., None]) -> Callable[..., None]:
        """The gradient store, reading old gradients as inputs and recording the new."""

        def stored(grads, targets, results, create_graph, seed):  # noqa: ANN001, ANN202
            if targets is None:
                for leaf in grads:
                    self.read_grad(leaf)
            store(grads, targets, results, create_graph, seed)
            if targets is None:
                for leaf in grads:
                    self._record_grad(leaf)
            else:
                for i, value in enumerate(results):
                    if isinstance(value, TracedArray):
                        results[i] = self._untraced(value)
            self.vjp = None

        return stored

    def _untraced(self, value: TracedArray) -> Any:
        """The real value of a rule's result, followed from now on."""
        self.follow(value.value, value.slot)
        return value.value

    # ------------------------------------------------------------------ gradients
    def read_grad(self, tensor: Tensor) -> None:
        """``tensor.grad`` is read: at its first use in the trace, it is an input."""
        if id(tensor) in self.grads:
            return
        self.grads.add(id(tensor))
        grad, who = tensor._grad, self._owner(tensor)
        name = hint_of(tensor._name)
        if grad is None:
            self.program.guards.append(
                Guard(who, "{obj}._grad is None", f"the gradient of {name} was None")
            )
            return
        self.program.guards.append(
            Guard(who, "{obj}._grad is not None", f"the gradient of {name} was set")
        )
        slot = self.new_slot("grad", grad.data, hint=f"{name}_grad", source=who)
        self.tensors[id(grad)] = (grad, slot.index, grad.data)

    def wrote_grad(self, tensor: Tensor) -> None:
        """``tensor.grad = value`` was assigned."""
        self.grads.add(id(tensor))
        self._record_grad(tensor)

    def _record_grad(self, tensor: Tensor) -> None:
        grad = tensor._grad
        value = None
        if grad is not None:
            if isinstance(grad.data, TracedArray):
                traced = grad.data
                grad.data = self._untraced(traced)
                slot = traced.slot
            else:
                slot = self.tensor_slot(grad)
            self.tensors[id(grad)] = (grad, slot, grad.data)
            value = Use(slot)
            made = self.program.slots[slot]
            if made.kind == "value" and made.name is None:
                made.name = "d" + hint_of(tensor._name, "x")
        self.program.emit(Instruction("set_grad", None, (self._owner(tensor), value), effect=True))

    def _owner(self, tensor: Tensor) -> Any:
        """How a program refers to a tensor object: an argument's path, or the object."""
        entry = self.arg_tensors.get(id(tensor))
        return entry[1] if entry is not None else tensor

    # ------------------------------------------------------------------ Python reads
    def read_value(self, tensor: Tensor, what: str) -> None:
        """``tensor``'s value is read in Python: refused when it belongs to the program."""
        if self.is_traced(tensor) or tensor._requires_grad:
            name = f" '{tensor._name}'" if tensor._name else ""
            raise CompileError(
                f"{what} reads the value of a traced tensor{name} (shape {tensor.shape}) "
                f"inside a compiled function: the trace would freeze this value into every "
                f"later call. Return the tensor and read it after the call, move the Python "
                f"code that needs it (e.g. an if on it) out of the compiled function, or run "
                f"this call eagerly with compiled_fn.eager(...)."
            )

    def refuse(self, message: str) -> CompileError:
        """The error for a step the engine knows a replay could not repeat."""
        return CompileError(message)

    def _where(self) -> str:
        """The traced code under way, as error messages name it."""
        return f"the VJP rule of '{self.vjp}'" if self.vjp else "traced numpy code"

    def read_error(self, what: str) -> CompileError:
        """The error for a VJP rule (or other traced numpy code) reading a traced value."""
        return CompileError(
            f"{what} in {self._where()}: a compiled program cannot read a value in Python. Write "
            f"the rule with operators, ndarray methods and xp. functions (or wrap a raw "
            f"numpy step in xp.call(f, ...)), or run the function eagerly (.eager)."
        )

    def entered(self, module: Any) -> None:
        """A module was called: the program holds while its ``training`` flag does."""
        if id(module) not in self.modules:
            self.modules[id(module)] = module
            flag = bool(module.training)
            self.program.guards.append(
                Guard(
                    module,
                    f"{{obj}}.training is {flag}",
                    f"{type(module).__name__}.training was {flag}",
                )
            )

    # ------------------------------------------------------------------ traced numpy
    def apply(self, kind: str, fn: Any, args: Any, kwargs: Any, writes: Sequence[Any] = ()) -> Any:
        """Run one numpy step of traced code (``kind`` as in the program module) on the real
        values, record it, and return its result with arrays traced."""
        if "out" in kwargs:  # a numpy function writing into the arrays given
            writes = self._outputs(fn, kwargs["out"])
        values = _plain(tuple(args))
        kw_values = _plain(dict(kwargs))
        if kind == "method":
            result = getattr(values[0], fn)(*values[1:], **kw_values)
        elif kind == "attr":
            result = getattr(values[0], fn)
        else:
            result = fn(*values, **kw_values)
            if kind == "func" and fn in WRITING_FUNCTIONS:
                writes = (args[0],)
        written = tuple(self.use(w).slot for w in writes if isinstance(self.use(w), Use))
        return self._recorded(kind, fn, args, kwargs, result, written)

    def apply_ufunc(self, ufunc: np.ufunc, method: str, inputs: Any, kwargs: Any) -> Any:
        """A numpy ufunc call on traced arrays (``__array_ufunc__``)."""
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        if "out" in kwargs:
            self._outputs(fn, kwargs["out"])
        result = fn(*_plain(tuple(inputs)), **_plain(dict(kwargs)))
        written = [inputs[0]] if method == "at" else list(kwargs.get("out", ()))
        written = tuple(u.slot for u in (self.use(w) for w in written) if isinstance(u, Use))
        if written and "out" in kwargs:  # the result is the output array(s) given
            self._emit("ufunc", fn, inputs, kwargs, written)
            out = kwargs["out"]
            return out[0] if len(out) == 1 else out
        return self._recorded("ufunc", fn, inputs, kwargs, result, written)

    def _outputs(self, fn: Any, out: Any) -> tuple[Any, ...]:
        """The ``out=`` arrays of a traced numpy call, which must be traced values: a write
        into an array made outside the trace (``np.empty(shape)`` in a rule) would replay
        into that same array at every call, a value frozen by the trace."""
        outs = out if isinstance(out, tuple) else (out,)
        for array in outs:
            if isinstance(array, np.ndarray):
                name = getattr(fn, "__name__", repr(fn))
                raise CompileError(
                    f"{name}(..., out=...) in {self._where()} writes into an array the trace "
                    f"does not know (made from shapes alone, such as np.empty(x.shape)): make "
                    f"it from a traced value (np.empty_like(x)) so that each replay makes its own."
                )
        return outs

    def apply_inplace(self, fn: Any, target: TracedArray, other: Any) -> Any:
        """``target op= other``: writes into an array, or makes a new value for a scalar."""
        result = fn(target.value, _plain(other))
        if result is target.value:
            self._emit("op", fn, (target, other), {}, (target.slot,))
            return target
        plain_fn = getattr(operator, fn.__name__[1:])  # numpy scalars: a + b, not in place
        return self._recorded("op", plain_fn, (target, other), {}, result, ())

    def _emit(
        self, kind: str, fn: Any, args: Any, kwargs: Any, written: Any, outs: tuple[int, ...] = ()
    ) -> None:
        self.program.emit(
            Instruction(
                kind,
                fn,
                self.use(tuple(args)),
                self.use(dict(kwargs)),
                outs,
                tuple(written),
                note=self._note(),
            )
        )

    def _recorded(
        self, kind: str, fn: Any, args: Any, kwargs: Any, result: Any, written: tuple[int, ...]
    ) -> Any:
        if not _holds_arrays(result):
            if written or fn is operator.setitem:
                self._emit(kind, fn, args, kwargs, written)
            return result
        slot = self.new_slot("value", result).index
        self._emit(kind, fn, args, kwargs, written, (slot,))
        if isinstance(result, tuple | list):
            return self._items(slot, result, wrap=True)
        return TracedArray(result, slot, self)

    def _items(self, holder: int, result: Sequence[Any], wrap: bool) -> Any:
        """The elements of a tuple or list result, each an item of the holder slot."""
        items = []
        for i, value in enumerate(result):
            if not isinstance(value, ndarray | np.generic):
                items.append(value)
                continue
            slot = self.new_slot("value", value).index
            self.program.emit(Instruction("op", operator.getitem, (Use(holder), i), outs=(slot,)))
            items.append(TracedArray(value, slot, self) if wrap else value)
        return type(result)(items)

    def _note(self) -> str:
        return f"{self.vjp} VJP" if self.vjp else ""

    # ------------------------------------------------------------------ the end
    def finish(self, outputs: Any) -> Program:
        """Record what the function returned; name the slots; return the program."""
        program = self.program
        program.outputs = self._output(outputs)
        for slot, tensor in self.result_tensors.items():
            if tensor._name:
                program.slots[slot].hint = hint_of(tensor._name)
        for tensor, slot, data in self.tensors.values():
            source = program.slots[slot]
            if source.kind == "data" and source.source is tensor and tensor.data is not data:
                if tensor.data is not source.value:
                    raise CompileError(
                        f"the compiled function replaced the array of tensor "
                        f"{tensor._name or ''} (shape {tensor.shape}) from outside it, e.g. by "
                        f"an in-place update recorded in grad mode; replays cannot repeat "
                        f"that: update it under ag.no_grad() or run the function eagerly."
                    )
        return program

    def forget(self) -> None:
        """Drop every reference to the traced run's objects (the program keeps its own)."""
        for table in (
            self.tensors,
            self.values,
            self.nodes,
            self.residuals,
            self.modules,
            self.arg_tensors,
            self.result_tensors,
        ):
            table.clear()
        self._namespace = None

    def _output(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            if id(value) in self.arg_tensors:
                return self.arg_tensors[id(value)][1]
            if self._is_known_reference(value):
                return value
            return TensorUse(self.tensor_slot(value))
        kind = type(value)
        if kind in (tuple, list):
            return kind(self._output(item) for item in value)
        if kind is dict:
            return {key: self._output(item) for key, item in value.items()}
        return self.use(value)

    def _is_known_reference(self, tensor: Tensor) -> bool:
        entry = self.tensors.get(id(tensor))
        if entry is None:
            return False
        slot = self.program.slots[entry[1]]
        return slot.kind == "data" and slot.source is tensor


def _plain(value: Any) -> Any:
    """``value`` with every TracedArray replaced by its real value (structure kept)."""
    if isinstance(value, TracedArray):
        return value.value
    kind = type(value)
    if kind in (tuple, list):
        return kind(_plain(item) for item in value)
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is slice:
        return slice(_plain(value.start), _plain(value.stop), _plain(value.step))
    return value


def _uses(operands: Any) -> list[Use]:
    return list(operand_uses(operands))


def _holds_arrays(value: Any) -> bool:
    if isinstance(value, ndarray | np.generic | Tensor):
        return True
    if type(value) in (tuple, list):
        return any(isinstance(v, ndarray | np.generic) for v in value)
    return False


def _call_hint(fn: Any, args: tuple[Any, ...]) -> str:
    if getattr(fn, "__name__", "") == "draw" and len(args) > 1 and isinstance(args[1], str):
        return hint_of(args[1])
    return hint_of(getattr(fn, "__name__", "result"))


def _shape(value: Any) -> str:
    if isinstance(value, ndarray | np.generic | FreedArray):
        return str(tuple(value.shape))
    return type(value).__name__


def _note(prim: Primitive, inputs: Sequence[Any], out: Any) -> str:
    """``linear: (5, 3) (3, 8) -> (5, 8) float32``: a primitive and its shapes."""
    dtype = f" {out.dtype}" if isinstance(out, ndarray | np.generic) else ""
    return f"{prim.name}: {' '.join(_shape(v) for v in inputs)} -> {_shape(out)}{dtype}"


def trace(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: dict | None = None,
    name: str | None = None,
    arg_names: Sequence[str] = (),
) -> tuple[Program, Any]:
    """Run ``fn(*args, **kwargs)`` once, eagerly, recording it; returns ``(program, result)``.

    Array arguments (Tensors, ndarrays, numpy scalars, also inside lists, tuples and
    dicts) become the program's argument inputs; ndarrays reach ``fn`` as Tensors sharing
    their memory. ``result`` is what the eager call returned.
    """
    kwargs = kwargs or {}
    names = list(arg_names) + [f"arg{i}" for i in range(len(arg_names), len(args))]
    program = Program(
        name or getattr(fn, "__name__", "fn"), tuple(names[: len(args)]), tuple(kwargs)
    )
    tracer = Tracer(program)
    call_args = [_register(tracer, a, ArgPath((i,)), names[i]) for i, a in enumerate(args)]
    call_kwargs = {k: _register(tracer, v, ArgPath((k,)), hint_of(k)) for k, v in kwargs.items()}
    if state.tracer is not None:
        raise CompileError("trace: this thread is already tracing a function")
    set_tracer(tracer)
    try:
        result = fn(*call_args, **call_kwargs)
    finally:
        set_tracer(None)
    program = tracer.finish(result)
    tracer.forget()
    _constants_if_unshared(program)
    return program, result


def _constants_if_unshared(program: Program) -> None:
    """Inputs only the program refers to are constants: an array or tensor made inside
    the function (a seed of ones, an index range), which nothing else can change. Stores
    into ``.grad`` of tensors only the program refers to are dropped."""
    written = {s for instruction in program.instructions for s in instruction.writes}
    for slot in program.slots:
        if slot.index in written:
            continue
        if slot.kind == "object" and sys.getrefcount(slot.value) <= 3:  # value, source, arg
            slot.kind, slot.source = "const", None
        elif slot.kind == "data" and sys.getrefcount(slot.source) <= 2:  # source, arg
            slot.kind, slot.source = "const", None
    owners: dict[int, int] = {}
    for instruction in program.instructions:
        if instruction.kind == "set_grad" and isinstance(instruction.args[0], Tensor):
            owners[id(instruction.args[0])] = owners.get(id(instruction.args[0]), 0) + 1
    held = {id(s.source) for s in program.slots} | {id(g.obj) for g in program.guards}
    program.instructions[:] = [
        i
        for i in program.instructions
        if not (
            i.kind == "set_grad"
            and isinstance(i.args[0], Tensor)
            and id(i.args[0]) not in held
            and sys.getrefcount(i.args[0]) <= owners[id(i.args[0])] + 1
        )
    ]


def _register(tracer: Tracer, value: Any, path: ArgPath, hint: str) -> Any:
    kind = type(value)
    if kind in (tuple, list):
        return kind(
            _register(tracer, v, ArgPath((*path, i)), f"{hint}_{i}") for i, v in enumerate(value)
        )
    if kind is dict:
        return {
            k: _register(tracer, v, ArgPath((*path, k)), f"{hint}_{hint_of(str(k))}")
            for k, v in value.items()
        }
    return tracer.add_argument(value, path, hint)


__all__ = ["ArgPath", "Tracer", "hint_of", "trace"]
