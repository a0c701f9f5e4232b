"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both change the ``.grad`` of the given parameters in place (under ``no_grad``) and skip
parameters without a gradient. Call them between ``loss.backward()`` and
``optimizer.step()``.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable

import numpy as np

import autograd as ag

#: Added to the total norm before dividing, as PyTorch's ``clip_grad_norm_``.
NORM_EPS = 1e-6

Parameters = ag.Tensor | Iterable[ag.Tensor]


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> ag.Tensor:
    """Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``.

    The total norm is the norm of all gradients seen as one vector (``norm_type``:
    any ``p > 0``, ``0`` (count of non-zeros) or ``inf``/``-inf``); every gradient is
    multiplied by ``min(max_norm / (total + 1e-6), 1)``, PyTorch's formula, so
    gradients are never scaled up. Returns the total norm before clipping, a 0-d
    Tensor of the gradients' dtype. With ``error_if_nonfinite`` a NaN or infinite
    total norm raises ``RuntimeError`` instead of spreading NaN into every gradient.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0:
        raise ValueError(
            f"clip_grad_norm_: max_norm must be >= 0, got {max_norm} (a negative bound "
            f"would flip the gradients)"
        )
    grads = _grads(parameters, "clip_grad_norm_")
    if not grads:
        return ag.Tensor(0.0)
    norms = [np.linalg.norm(g.data.ravel(), ord=norm_type) for g in grads]
    total = np.linalg.norm(np.array(norms), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = np.minimum(max_norm / (total + NORM_EPS), 1.0)
    with ag.no_grad():
        for g in grads:
            g.mul_(coefficient)
    return ag.Tensor(total)


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clip every gradient entry into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    with ag.no_grad():
        for g in _grads(parameters, "clip_grad_value_"):
            g.copy_(np.clip(g.data, -clip_value, clip_value))


def _grads(parameters: Parameters, fn: str) -> list[ag.Tensor]:
    """The gradients (Tensors) of ``parameters`` (a Tensor or an iterable) that have one."""
    if isinstance(parameters, ag.Tensor):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        raise TypeError(
            f"{fn}: expected a Tensor or an iterable of Tensors (e.g. model.parameters()), "
            f"got {type(parameters).__name__}"
        )
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if is_generator and not parameters:
        warnings.warn(
            f"{fn}: `parameters` is an empty generator, no gradient clipping will occur "
            f"(was it consumed already?)",
            stacklevel=3,
        )
    for p in parameters:
        if not isinstance(p, ag.Tensor):
            raise TypeError(f"{fn}: expected Tensors, got {type(p).__name__}")
    return [p.grad for p in parameters if p.grad is not None]
