"""Optimisation passes: rewrites of a traced program that keep its results bit for bit.

Each pass changes a :class:`~autograd.compile.program.Program` in place; :func:`optimize`
runs the ones named, in order (:data:`DEFAULT_PASSES` unless told otherwise):

- ``"dce"``: dead-code elimination. Drops pure instructions whose results nothing reads
  (bookkeeping a training step does not need) and gradient stores that a later store to
  the same tensor overwrites before anything can read them (``zero_grad`` before
  ``backward``).
- ``"fold"``: constant folding. An instruction whose operands are all constants is
  replaced by its traced result, a constant (``g / m`` with the seed ``g = 1``).

The values are those of the trace itself, so folding changes no result: the same numpy
call on the same constants made them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .program import Instruction, Program, Use, map_operands

#: Instruction kinds that compute a value and change nothing (unless they list writes).
PURE_KINDS = frozenset(("prim", "op", "method", "attr", "func", "ufunc", "dict"))


def _pure(instruction: Instruction) -> bool:
    return instruction.kind in PURE_KINDS and not instruction.writes and not instruction.effect


def eliminate_dead_code(program: Program) -> None:
    """Drop instructions nothing needs, working back from the outputs and the effects."""
    _drop_overwritten_grads(program)
    slots = program.slots
    base = memory_bases(program)
    live = {base[use.slot] for use in _output_uses(program)}
    kept = []
    for instruction in reversed(program.instructions):
        needed = instruction.effect or any(
            base[s] in live or slots[base[s]].kind != "value"
            for s in (*instruction.outs, *instruction.writes)
        )
        if not needed and instruction.kind in PURE_KINDS:
            continue
        live.update(base[s] for s in instruction.uses())
        kept.append(instruction)
    program.instructions[:] = reversed(kept)
    _renumber(program)


#: Instructions whose result may share memory with their first operand (a view).
_VIEW_METHODS = frozenset(
    "reshape transpose swapaxes squeeze ravel view diagonal __getitem__ T real imag".split()
)


def memory_bases(program: Program) -> list[int]:
    """For each slot, the slot owning its memory: itself, or for a result that may be a
    view (``x.T``, ``x[1:]``, a reshape), the owner of the viewed operand. Writing into a
    slot writes into its base; reading a slot reads its base."""
    base = list(range(len(program.slots)))
    for instruction in program.instructions:
        first = instruction.args[0] if instruction.args else None
        if not isinstance(first, Use) or not instruction.outs:
            continue
        fn = instruction.fn
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", "")
        viewing = instruction.kind in ("attr", "method") and name in _VIEW_METHODS
        viewing |= instruction.kind == "op" and name == "getitem"
        viewing |= instruction.kind in ("prim", "func") and name in _VIEW_FUNCTIONS
        if viewing:
            for out in instruction.outs:
                base[out] = base[first.slot]
    return base


_VIEW_FUNCTIONS = frozenset(
    """reshape transpose broadcast_to expand_dims squeeze swapaxes ravel diagonal moveaxis
    atleast_1d atleast_2d <lambda>""".split()
)


def _drop_overwritten_grads(program: Program) -> None:
    """A ``set_grad`` of a tensor is dead when the next one of that tensor comes before any
    replayed call (which may read ``.grad``)."""
    pending: dict[int, int] = {}  # id(tensor) -> index of its last store, not read since
    dead = set()
    for k, instruction in enumerate(program.instructions):
        if instruction.kind == "call":
            pending.clear()
        elif instruction.kind == "set_grad":
            key = id(instruction.args[0])
            if key in pending:
                dead.add(pending[key])
            pending[key] = k
    program.instructions[:] = [i for k, i in enumerate(program.instructions) if k not in dead]


def fold_constants(program: Program) -> None:
    """Replace instructions computing only from constants by their traced results."""
    slots = program.slots
    written = {s for instruction in program.instructions for s in instruction.writes}
    kept = []
    for instruction in program.instructions:
        uses = instruction.uses()
        if (
            _pure(instruction)
            and instruction.kind != "dict"
            and len(instruction.outs) == 1
            and all(slots[s].kind == "const" for s in uses)
            and instruction.outs[0] not in written
        ):
            slot = slots[instruction.outs[0]]
            slot.kind, slot.producer = "const", None
            continue
        kept.append(instruction)
    program.instructions[:] = kept
    _renumber(program)


def _output_uses(program: Program) -> list[Use]:
    found: list[Use] = []
    map_operands(program.outputs, found.append)
    return found


def _renumber(program: Program) -> None:
    """Point each slot at the instruction that makes it, after instructions moved."""
    for k, instruction in enumerate(program.instructions):
        for out in instruction.outs:
            program.slots[out].producer = k


PASSES: dict[str, Callable[[Program], None]] = {
    "dce": eliminate_dead_code,
    "fold": fold_constants,
}

#: The passes ``ag.compile`` runs unless told otherwise, in order.
DEFAULT_PASSES: tuple[str, ...] = ("fold", "dce")


def optimize(program: Program, passes: Sequence[str] = DEFAULT_PASSES) -> Program:
    """Run the passes named ``passes`` (keys of :data:`PASSES`) on ``program``, in order."""
    for name in passes:
        if name not in PASSES:
            raise ValueError(f"ag.compile: unknown pass {name!r}; the passes are {sorted(PASSES)}")
        PASSES[name](program)
    return program
