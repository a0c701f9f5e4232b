"""Anomaly detection: find the op whose forward or backward first made NaN or inf."""

from __future__ import annotations

from .mode import set_anomaly_mode


class detect_anomaly:  # noqa: N801 - named like torch.autograd.detect_anomaly
    """Context manager: every op's output and every VJP's result is checked for NaN/inf.

    The first non-finite value raises ``FloatingPointError`` naming the op (e.g.
    ``'log' (forward)`` or ``'divideBackward' in its gradient for input 1``). Checks
    cost one pass over each array, so use it for debugging, not training.
    """

    def __init__(self) -> None:
        self._saved: list[bool] = []

    def __enter__(self) -> detect_anomaly:
        self._saved.append(set_anomaly_mode(True))
        return self

    def __exit__(self, *exc: object) -> None:
        set_anomaly_mode(self._saved.pop())
