"""Optimisation passes: rewrites of a traced program that keep its results bit for bit.

Each pass takes a :class:`~autograd.compile.program.Program` and changes it in place.
:func:`optimize` runs the passes named in order; :data:`PASSES` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .program import Program

PASSES: dict[str, Callable[[Program], None]] = {}

#: The passes ``ag.compile`` runs unless told otherwise.
DEFAULT_PASSES: tuple[str, ...] = ()


def optimize(program: Program, passes: Sequence[str] = DEFAULT_PASSES) -> Program:
    """Run the passes named ``passes`` (keys of :data:`PASSES`) on ``program``, in order."""
    for name in passes:
        if name not in PASSES:
            raise ValueError(f"ag.compile: unknown pass {name!r}; the passes are {sorted(PASSES)}")
        PASSES[name](program)
    return program
