"""Per-thread engine state: grad mode, anomaly mode and the current module scope.

Grad mode decides whether ops record graph nodes (``no_grad``/``enable_grad``, as in
PyTorch). Each thread has its own state, so one thread evaluating under ``no_grad``
never stops another from recording.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    """Class attributes are each new thread's defaults.

    Whoever changes ``grad_enabled``, ``anomaly`` or ``scope`` calls
    :func:`refresh_defaults` next.
    """

    grad_enabled: bool = True
    anomaly: bool = False
    scope: tuple[object, ...] | None = None  # the nn.Module calls under way, outermost first
    transform_depth: int = 0  # > 0 while a functional transform evaluates its function


state = _ThreadState()

#: Idents of the threads off the defaults: grad off, anomaly on, or inside an nn module.
#: While it is empty, ops record without reading per-thread state (~30 ns a field).
#: Each thread adds and removes only its own ident (atomic set operations).
threads_off_defaults: set[int] = set()


def refresh_defaults() -> None:
    """Count this thread in :data:`threads_off_defaults` or out, after a change to its state."""
    if state.grad_enabled and not state.anomaly and state.scope is None:
        threads_off_defaults.discard(threading.get_ident())
    else:
        threads_off_defaults.add(threading.get_ident())


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record graph nodes (this thread)."""
    return state.grad_enabled


def _set_grad_enabled(enabled: bool) -> None:
    state.grad_enabled = enabled
    refresh_defaults()


class _SetGradMode:
    """Context manager and decorator that sets grad mode for its body, then restores it."""

    enabled: bool

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(state.grad_enabled)
        _set_grad_enabled(self.enabled)

    def __exit__(self, *exc: object) -> None:
        _set_grad_enabled(self._saved.pop())

    def __call__(self, func: F) -> F:
        enabled = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.grad_enabled  # per call, so threads and recursion are safe
            _set_grad_enabled(enabled)
            try:
                return func(*args, **kwargs)
            finally:
                _set_grad_enabled(previous)

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
