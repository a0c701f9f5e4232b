"""In-place initialisers, as ``torch.nn.init``, with explicit randomness.

Every function fills the tensor in place (under ``no_grad``, so it works on
parameters) and returns it. Randomness comes only from ``rng``: a
``numpy.random.Generator`` or an int seed, so runs are reproducible.

Fan convention: topograd stores a weight as ``(fan_in, fan_out)`` (the notes'
``Z W`` product, ``W: n_i x n_{i+1}``), the transpose of PyTorch's ``(out, in)``.
So ``fan_in = shape[0]`` and ``fan_out = shape[1]`` (times the product of any
further axes), which gives the same numbers PyTorch gives for its layout.
"""

from __future__ import annotations

import math
from typing import Any

import autograd as ag
from autograd.random import Rng, as_rng

_LINEAR_GAINS = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, as ``torch.nn.init.calculate_gain``.

    ``linear``/``identity``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: sqrt(2);
    ``leaky_relu`` with slope ``a`` (``param``, default 0.01): sqrt(2 / (1 + a²));
    ``selu``: 3/4.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of "
        f"{(*_LINEAR_GAINS, 'tanh', 'relu', 'leaky_relu', 'selu')}"
    )


def fans(tensor: Any) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight stored as ``(in, out, *receptive_field)``."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 "
            f"dimensions (got shape {shape}); use uniform_/normal_ for biases"
        )
    receptive = math.prod(shape[2:])
    return shape[0] * receptive, shape[1] * receptive


def _fill(tensor: ag.Tensor, values: Any) -> ag.Tensor:
    if not isinstance(tensor, ag.Tensor):
        raise TypeError(f"nn.init: expected an ag.Tensor to fill, got {type(tensor).__name__}")
    with ag.no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor: ag.Tensor, a: float = 0.0, b: float = 1.0, rng: Rng = None) -> ag.Tensor:
    """Fill with samples of ``U(a, b)``."""
    return _fill(tensor, as_rng(rng).uniform(a, b, tensor.shape))


def normal_(tensor: ag.Tensor, mean: float = 0.0, std: float = 1.0, rng: Rng = None) -> ag.Tensor:
    """Fill with samples of ``N(mean, std²)``."""
    return _fill(tensor, as_rng(rng).normal(mean, std, tensor.shape))


def constant_(tensor: ag.Tensor, value: float) -> ag.Tensor:
    """Fill with ``value``."""
    return _fill(tensor, value)


def zeros_(tensor: ag.Tensor) -> ag.Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: ag.Tensor) -> ag.Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: ag.Tensor, gain: float = 1.0, rng: Rng = None) -> ag.Tensor:
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor: ag.Tensor, gain: float = 1.0, rng: Rng = None) -> ag.Tensor:
    """Glorot normal: ``N(0, std²)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(tensor: ag.Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(
    tensor: ag.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: Rng = None,
) -> ag.Tensor:
    """He uniform: ``U(-b, b)``, ``b = sqrt(3) * gain / sqrt(fan)``.

    ``gain = calculate_gain(nonlinearity, a)``; ``a`` is the leaky-ReLU slope.
    With ``a = sqrt(5)`` this is ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, the
    default of :class:`nn.Linear` (as PyTorch's).
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(
    tensor: ag.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: Rng = None,
) -> ag.Tensor:
    """He normal: ``N(0, std²)``, ``std = gain / sqrt(fan)``."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), rng)
