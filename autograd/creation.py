"""Functions that create tensors (leaves), following numpy's names and defaults."""

from __future__ import annotations

from typing import Any

import numpy as np

from .random import Rng, draw
from .tensor import Tensor

Shape = int | tuple[int, ...]


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a leaf tensor; same arguments as :class:`Tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(int(n) for n in shape[0])
    return tuple(int(n) for n in shape)


def zeros(shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def full(
    shape: Shape, value: float, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """A tensor filled with ``value``."""
    return Tensor(np.full(shape, value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return Tensor(np.zeros_like(_like(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return Tensor(np.ones_like(_like(t), dtype=dtype), requires_grad=requires_grad)


def _like(t: Any) -> Any:
    """What ``*_like`` reads of ``t``: only its shape and dtype (a Tensor's values stay unread)."""
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def randn(
    *shape: Any, rng: Rng = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples: ``randn(2, 3, rng=0)``; ``rng`` a Generator or int seed."""
    data = draw(rng, "standard_normal", _shape(shape), dtype=dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(
    *shape: Any, rng: Rng = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Uniform samples in ``[0, 1)``: ``rand(2, 3, rng=0)``."""
    data = draw(rng, "random", _shape(shape), dtype=dtype)
    return Tensor(data, requires_grad=requires_grad)


def arange(*args: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values, as ``np.arange(stop)`` / ``np.arange(start, stop, step)``."""
    return Tensor(np.arange(*args, dtype=dtype), requires_grad=requires_grad)


def eye(
    n: int, m: int | None = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """The ``n x m`` identity matrix (square when ``m`` is None)."""
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)
