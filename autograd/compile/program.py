"""A traced program: values (slots) and the straight-line instructions that make them.

A :class:`Program` is what tracing a function once produces and what replays run:

- **slots** hold values. Inputs are read at the start of each call: the call's array
  arguments, and *references*, the current values of things the function read from
  outside (a parameter's ``data``, a gradient, an array object). Constants are fixed.
  Every other slot is the output of one instruction.
- **instructions** run in order. Each names a callable (a primitive's forward, a numpy
  function or ufunc, an operator, an ndarray method, or any Python callable replayed as
  it is, such as an optimizer's update) and its operands: nested tuples, lists and
  dicts whose leaves are :class:`Use` (a slot's value), :class:`TensorUse` (a slot's
  value as a Tensor) or constants. ``writes`` lists the slots an instruction changes in
  place; instructions with ``effect`` (gradient stores, opaque calls) are never dropped.
- **outputs**: the structure the function returned, with Use/TensorUse leaves.
- **guards**: conditions on Python state, checked before each replay; if one fails, the
  function is traced again (see :mod:`autograd.compile.function`).

This module only describes programs; :mod:`~autograd.compile.tracer` builds them,
:mod:`~autograd.compile.passes` rewrites them and :mod:`~autograd.compile.codegen` turns
them into Python source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: How a slot gets its value. Inputs: "arg" (a call argument), "data" (a tensor's
#: ``data``, read at each call), "grad" (a tensor's gradient's data), "object" (an array
#: object from outside, used as it is at each call); "const"; "value" (an instruction's).
SLOT_KINDS = ("arg", "data", "grad", "object", "const", "value")

#: Instruction kinds: how a call is written in source (codegen) and what passes may do.
INSTRUCTION_KINDS = (
    "prim",  # a primitive's forward: fn is prim.forward
    "op",  # an operator from the operator module (binary, unary or in-place)
    "ufunc",  # a numpy ufunc method (fn = getattr(ufunc, method)), maybe with out=
    "func",  # a function called with the operands (numpy functions, helpers)
    "method",  # an ndarray method: fn is its name, args[0] the array
    "attr",  # an ndarray attribute: fn is its name (x.T)
    "call",  # any Python callable replayed as it is (optimizer updates, draws, writes)
    "dict",  # a new empty dict (a primitive's residual, filled by its forward)
    "read",  # a tensor's data read again (args[0] is the tensor)
    "set_grad",  # tensor._grad = Tensor(value), or None
)


class Use:
    """An operand: the value of slot ``slot``."""

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def __repr__(self) -> str:
        return f"Use({self.slot})"


class TensorUse(Use):
    """An operand: the value of slot ``slot`` wrapped in a (constant) Tensor."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"TensorUse({self.slot})"


@dataclass(eq=False)
class Slot:
    """One value of the program.

    ``value`` is the value seen while tracing (for inputs: the first call's; for
    constants: the constant); once the program is built, an array that is not a constant
    is replaced by a stand-in of its shape and dtype (:meth:`Program.forget_values`).
    ``source`` says where an input comes from: the argument's position (``"arg"``) or the
    object read (a tensor for ``"data"``/``"grad"``, the array itself for ``"object"``).
    ``hint`` is the name to give it in source, ``scope`` the modules under way when it was
    made (outermost first), ``prim`` its primitive; ``name`` and ``grad_of`` name it better
    when known.
    """

    index: int
    kind: str
    value: Any
    hint: str = "t"
    source: Any = None
    scope: tuple[Any, ...] | None = None
    prim: Any = None
    producer: int | None = None  # index of the instruction that makes it
    name: str | None = None  # a name to use as it is (a tensor's name, dW for W's gradient)
    grad_of: int | None = None  # the slot this one is the gradient of (named d<that>)

    @property
    def shape(self) -> tuple[int, ...] | None:
        """Shape of the traced value (None when it is not an array)."""
        return np.shape(self.value) if isinstance(self.value, np.ndarray | np.generic) else None

    @property
    def dtype(self) -> np.dtype | None:
        """Dtype of the traced value (None when it is not an array)."""
        value = self.value
        return value.dtype if isinstance(value, np.ndarray | np.generic) else None

    @property
    def is_input(self) -> bool:
        """True for values read at the start of each call."""
        return self.kind in ("arg", "data", "grad", "object")


@dataclass(eq=False)
class Instruction:
    """One step: ``outs = fn(*args, **kwargs)`` (see :data:`INSTRUCTION_KINDS`).

    ``outs`` lists the slots it makes (one, or none for pure effects). ``writes`` the
    slots whose values it changes in place. ``note`` is a comment for the source (the
    primitive and shapes, or which VJP it belongs to).
    """

    kind: str
    fn: Any
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    outs: tuple[int, ...] = ()
    writes: tuple[int, ...] = ()
    effect: bool = False
    prim: Any = None
    note: str = ""
    grad_mode: bool = True  # for "call": the grad mode the call ran in (replays restore it)

    def uses(self) -> tuple[int, ...]:
        """Slots read (every Use in the operands), in order (computed once: operands are
        not changed after an instruction is made)."""
        found = self.__dict__.get("_uses")
        if found is None:
            found = self.__dict__["_uses"] = tuple(
                u.slot for u in operand_uses((self.args, self.kwargs))
            )
        return found


@dataclass(frozen=True)
class Guard:
    """A condition on Python state, checked before each replay.

    ``code`` is a Python expression, true while the traced program still applies, in
    which ``{obj}`` stands for the object ``obj`` (e.g. ``"{obj}.training is True"`` for a
    module). ``what`` says in words what it checks.
    """

    obj: Any
    code: str
    what: str


@dataclass(eq=False)
class Program:
    """Slots, instructions, outputs and guards of one traced call (module docstring).

    ``name`` is the traced function's name; ``arg_names`` the names of its positional
    parameters, ``kwarg_names`` of the keyword arguments it was called with; ``arg_slots``
    maps the position of each array argument to its slot; ``arg_tensors`` holds the slots
    of arguments that were Tensors (others were ndarrays or numpy scalars).
    """

    name: str
    arg_names: tuple[str, ...] = ()
    kwarg_names: tuple[str, ...] = ()
    slots: list[Slot] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)
    outputs: Any = None
    guards: list[Guard] = field(default_factory=list)
    arg_slots: dict[Any, int] = field(default_factory=dict)
    arg_tensors: set[int] = field(default_factory=set)
    signature: tuple[Any, ...] | None = None  # the call signature it was traced for

    def new_slot(self, kind: str, value: Any, **details: Any) -> Slot:
        """Add a slot of ``kind`` (see :data:`SLOT_KINDS`) holding ``value``."""
        slot = Slot(len(self.slots), kind, value, **details)
        self.slots.append(slot)
        return slot

    def emit(self, instruction: Instruction) -> Instruction:
        """Append ``instruction``; its outputs remember it as their producer."""
        for out in instruction.outs:
            self.slots[out].producer = len(self.instructions)
        self.instructions.append(instruction)
        return instruction

    def inputs(self) -> list[Slot]:
        """The slots read at the start of each call (arguments, then references)."""
        return [s for s in self.slots if s.is_input]

    def use_counts(self) -> list[int]:
        """How many times each slot is read (by instructions and outputs)."""
        counts = [0] * len(self.slots)
        for instruction in self.instructions:
            for slot in instruction.uses():
                counts[slot] += 1
        for use in operand_uses(self.outputs):
            counts[use.slot] += 1
        return counts

    def forget_values(self) -> None:
        """Drop the arrays seen while tracing, keeping their shapes and dtypes (a stand-in
        with no memory of its own): a built program reads its inputs at each call and
        makes its other values, so holding the trace's would keep a step's worth of
        arrays alive, and parameter arrays from moving (``nn.optim``'s flat buffers).
        Constants are kept: they are part of the program."""
        for slot in self.slots:
            if slot.kind != "const" and type(slot.value) is np.ndarray:
                slot.value = np.broadcast_to(np.zeros((), slot.value.dtype), slot.value.shape)

    def __repr__(self) -> str:
        return (
            f"<Program {self.name}: {len(self.inputs())} inputs, "
            f"{len(self.instructions)} instructions>"
        )


def operand_uses(operands: Any) -> Iterator[Use]:
    """Every :class:`Use` in a nested operand structure, depth first, in order."""
    kind = type(operands)
    if kind is Use or kind is TensorUse:
        yield operands
    elif kind in (tuple, list):
        for item in operands:
            yield from operand_uses(item)
    elif kind is dict:
        for item in operands.values():
            yield from operand_uses(item)
    elif kind is slice:
        yield from operand_uses((operands.start, operands.stop, operands.step))


def map_operands(operands: Any, fn: Callable[[Use], Any]) -> Any:
    """``operands`` with every :class:`Use` replaced by ``fn(use)`` (structure kept)."""
    if isinstance(operands, Use):
        return fn(operands)
    kind = type(operands)
    if kind in (tuple, list):
        return kind(map_operands(item, fn) for item in operands)
    if kind is dict:
        return {key: map_operands(value, fn) for key, value in operands.items()}
    if kind is slice:
        return slice(
            *(map_operands(part, fn) for part in (operands.start, operands.stop, operands.step))
        )
    return operands
