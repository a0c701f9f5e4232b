"""Per-thread engine state: grad mode, anomaly mode and the current module scope.

Grad mode decides whether ops record graph nodes (``no_grad``/``enable_grad``, as in
PyTorch). Each thread has its own state, so one thread evaluating under ``no_grad``
never stops another from recording. Reading per-thread state costs ~30 ns a field,
so a global count of the threads off the defaults lets ops skip it while it is 0.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


#: How many threads record ops differently from a new thread (grad off, anomaly mode on,
#: or inside an nn module). While it is 0, recording an op needs no per-thread lookup.
threads_off_default = [0]
_RECORDING_FIELDS = frozenset({"grad_enabled", "anomaly", "scope"})
_count_lock = threading.Lock()


class _ThreadState(threading.local):
    """Class attributes are each new thread's defaults.

    Setting a field that changes how ops record keeps :data:`threads_off_default`
    true: a thread counts itself in while it is off the defaults, out when back.
    """

    grad_enabled: bool = True
    anomaly: bool = False
    scope: tuple[object, ...] | None = None  # the nn.Module calls under way, outermost first
    transform_depth: int = 0  # > 0 while a functional transform evaluates its function
    off_default: bool = False  # counted in threads_off_default

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _RECORDING_FIELDS:
            off = not self.grad_enabled or self.anomaly or self.scope is not None
            if off is not self.off_default:
                with _count_lock:
                    threads_off_default[0] += 1 if off else -1
                super().__setattr__("off_default", off)


state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record graph nodes (this thread)."""
    return state.grad_enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode for its body, then restores it."""

    enabled: bool

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> None:
        self._saved.append(state.grad_enabled)
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._saved.pop()

    def __call__(self, func: F) -> F:
        enabled = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.grad_enabled  # per call, so threads and recursion are safe
            state.grad_enabled = enabled
            try:
                return func(*args, **kwargs)
            finally:
                state.grad_enabled = previous

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
