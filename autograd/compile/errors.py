"""The compiler's exceptions."""

from __future__ import annotations


class CompileError(RuntimeError):
    """A compiled function did something its trace could not record faithfully.

    Typically it read a traced tensor's value in Python (``item()``, ``float(t)``,
    ``bool(t)``, ``tolist()``, ``numpy()``): the trace would freeze that value into every
    later call. The message names the call and how to avoid it.
    """


class Retrace(Exception):  # noqa: N818 - a signal to trace again, not an error
    """Raised by a replay whose guards no longer hold: trace the function again."""


class OtherSignature(Retrace):
    """Raised by a program called with arguments of another signature than its own."""
