"""Per-thread engine state: grad mode, anomaly mode, module scope, transform depth, tracer.

Grad mode decides whether ops record graph nodes (``no_grad``/``enable_grad``, as in
PyTorch). Each thread has its own state, so one thread evaluating under ``no_grad``
never stops another from recording.

The state is changed only through the functions of this module. Each keeps
:data:`threads_off_defaults` coherent: while it is empty (every thread records, no
anomaly mode, no module call under way, nothing traced), ops skip reading per-thread
state at all. A thread that traces a compiled function (``ag.compile``) sets its tracer
with :func:`set_tracer`; the engine's hooks then report to it. This module imports
nothing from the package.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    """Class attributes are each new thread's defaults. Read freely; change only
    through this module's functions."""

    grad_enabled: bool = True
    anomaly: bool = False
    scope: tuple[object, ...] | None = None  # the nn.Module calls under way, outermost first
    transform_depth: int = 0  # > 0 while a functional transform evaluates its function
    tracer: Any = None  # the autograd.compile tracer recording this thread's ops, if any


state = _ThreadState()

#: Idents of the threads off the defaults: grad off, anomaly on, inside an nn module, or
#: tracing.
#: While it is empty, ops record without reading per-thread state. Each thread adds
#: and removes only its own ident (atomic set operations).
threads_off_defaults: set[int] = set()

#: Idents of the threads tracing a compiled function (each also off the defaults). Hooks
#: outside the ops test this set before reading the thread's tracer.
tracing_threads: set[int] = set()


def _refresh() -> None:
    """Count this thread in :data:`threads_off_defaults` or out, after a change."""
    ident = threading.get_ident()
    if state.grad_enabled and not state.anomaly and state.scope is None:
        if ident not in tracing_threads:
            threads_off_defaults.discard(ident)
    else:
        threads_off_defaults.add(ident)


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record graph nodes (this thread)."""
    return state.grad_enabled


def set_grad_mode(enabled: bool) -> bool:
    """Turn graph recording on or off in this thread; returns the previous mode."""
    previous = state.grad_enabled
    state.grad_enabled = enabled
    _refresh()
    return previous


def set_anomaly_mode(enabled: bool) -> bool:
    """Turn anomaly checks on or off in this thread; returns the previous mode."""
    previous = state.anomaly
    state.anomaly = enabled
    _refresh()
    return previous


def set_tracer(tracer: Any) -> Any:
    """Make ``tracer`` (or None) record this thread's ops; returns the previous tracer."""
    previous = state.tracer
    state.tracer = tracer
    ident = threading.get_ident()
    if tracer is None:
        tracing_threads.discard(ident)
    else:
        tracing_threads.add(ident)
        threads_off_defaults.add(ident)
    _refresh()
    return previous


def enter_scope(module: object) -> tuple[object, ...] | None:
    """Push ``module`` on this thread's scope (nodes record it); returns the scope before."""
    previous = state.scope
    state.scope = (module,) if previous is None else previous + (module,)
    if previous is None:  # the outermost module: ops now record a scope
        _refresh()
    if tracing_threads and state.tracer is not None:  # a program depends on the module's state
        state.tracer.entered(module)
    return previous


def exit_scope(previous: tuple[object, ...] | None) -> None:
    """Restore the scope :func:`enter_scope` returned."""
    state.scope = previous
    if previous is None:
        _refresh()


@contextmanager
def transform_call() -> Iterator[None]:
    """Mark that a functional transform is evaluating its function (so transforms nest)."""
    state.transform_depth += 1
    try:
        yield
    finally:
        state.transform_depth -= 1


def in_transform() -> bool:
    """True while some functional transform is evaluating its function (this thread)."""
    return state.transform_depth > 0


class _SetGradMode:
    """Context manager and decorator that sets grad mode for its body, then restores it."""

    enabled: bool

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(set_grad_mode(self.enabled))

    def __exit__(self, *exc: object) -> None:
        set_grad_mode(self._saved.pop())

    def __call__(self, func: F) -> F:
        enabled = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = set_grad_mode(enabled)  # per call, so threads and recursion are safe
            try:
                return func(*args, **kwargs)
            finally:
                set_grad_mode(previous)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):  # noqa: N801 - named like torch.no_grad
    """Disable graph recording in this thread: ``with ag.no_grad(): ...`` or ``@ag.no_grad()``."""

    enabled = False


class enable_grad(_SetGradMode):  # noqa: N801 - named like torch.enable_grad
    """Re-enable graph recording inside a ``no_grad`` region (this thread only)."""

    enabled = True


class set_grad_enabled(_SetGradMode):  # noqa: N801 - named like torch.set_grad_enabled
    """Set grad mode to ``mode`` for the body: ``with ag.set_grad_enabled(training): ...``."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.enabled = bool(mode)
