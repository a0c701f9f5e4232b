"""Argument checks shared by layers, containers and loaders: sizes are ints, never bools.

``True == 1`` in Python, so without this check ``nn.Linear(True, 2)`` would build a
one-feature layer and ``DataLoader(X, batch_size=True)`` batches of one, silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer; False for bools (``np.bool_`` is no integer)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_size(owner: str, label: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int if it is an integer ``>= minimum``, else a ``ValueError``
    naming ``owner`` (the layer or function) and ``label`` (the argument)."""
    if is_int(value) and value >= minimum:
        return int(value)
    expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    raise ValueError(f"{owner}: {label} must be {expected}, got {value!r}{_bool_note(value)}")


def check_sizes(owner: str, label: str, values: list[Any]) -> list[int]:
    """Every entry of ``values`` as an int (each a positive integer), else a ``ValueError``."""
    bad = [v for v in values if not (is_int(v) and v >= 1)]
    if bad:
        note = _bool_note(bad[0])
        raise ValueError(f"{owner}: {label} must be positive ints, got {list(values)}{note}")
    return [int(v) for v in values]


def _bool_note(value: Any) -> str:
    return " (a bool is not a size)" if isinstance(value, (bool, np.bool_)) else ""
