"""Batch and group normalisation: one fused primitive each, forward and VJP side by side.

Both standardise ``x`` of shape ``(N, C, *spatial)`` over a set of its entries,
``x̂ = (x - μ) / sqrt(σ² + ε)`` with the *biased* variance ``σ²``, then scale and shift
each channel: ``y = γ x̂ + β``. Batch norm takes ``μ, σ²`` per channel over the batch
and spatial axes; group norm per example over each group of ``C / G`` channels and the
spatial axes. With ``m`` entries per statistic and ``ĝ = γ g``, the VJPs are the
closed forms

    dx = (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) / sqrt(σ² + ε),   dγ = Σ g x̂,   dβ = Σ g,

(means over the statistic's entries), which never form the ``m × m`` Jacobian and stay
accurate where ``σ²`` is tiny. First order reuses the forward's ``μ`` and ``1/sqrt(σ² +
ε)`` (one number per statistic); under ``create_graph`` the rule recomputes them with
differentiable ops, so second derivatives are exact.

``batch_norm`` also updates running statistics as PyTorch does (``momentum``, the
*unbiased* variance) and, when not training, normalises with them instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..mode import no_grad
from ..optable import op
from ..primitive import Primitive, apply
from ..tensor import Tensor, as_tensor, unwrap
from . import shape
from .inplace import update

ndarray = np.ndarray


def _statistic_view(x_shape: tuple[int, ...], groups: int | None) -> tuple[tuple[int, ...], Any]:
    """The shape to view ``x`` in and the axes each statistic reduces: per channel over
    ``(N, spatial)`` (batch norm, ``groups`` None) or per example and group."""
    n, c = x_shape[:2]
    if groups is None:
        return (n, c, -1), (0, 2)
    return (n, groups, -1), (2,)


def moments(x: Any, axes: Any, eps: float) -> tuple[Any, Any, Any, Any]:
    """``(x - μ, μ, σ², 1/sqrt(σ² + ε))`` over ``axes`` (biased ``σ²``, dims kept), on
    ndarrays or Tensors: the statistics of batch, group and layer norm."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred, mean, var, (var + eps) ** -0.5


def standardised_grad(g: Any, xhat: Any, inv_std: Any, axes: Any) -> Any:
    """The closed-form VJP in ``x`` of ``x̂ = (x - μ) inv_std`` (statistics over ``axes``)
    for the cotangent ``g`` of ``x̂``: ``inv_std (g - mean g - x̂ mean(g x̂))``."""
    return inv_std * (
        g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)
    )


def _standardise(x: Any, groups: int | None, eps: float) -> tuple[Any, Any, Any, Any]:
    """``(x̂ viewed (N, C, -1), μ, σ², 1/sqrt(σ² + ε))`` on ndarrays or Tensors."""
    view, axes = _statistic_view(x.shape, groups)
    centred, mean, var, inv_std = moments(x.reshape(view), axes, eps)
    return (centred * inv_std).reshape(x.shape[0], x.shape[1], -1), mean, var, inv_std


def _normalize(
    x: ndarray, weight: Any, bias: Any, *, groups: int | None, eps: float, _residual: dict
) -> ndarray:
    """``γ x̂ + β``; leaves ``μ``, ``σ²`` and ``1/sqrt(σ² + ε)`` in ``_residual``."""
    xhat, mean, var, inv_std = _standardise(x, groups, eps)
    _residual.update(mean=mean, var=var, inv_std=inv_std)
    if weight is not None:
        xhat *= weight.reshape(-1, 1)
    if bias is not None:
        xhat += bias.reshape(-1, 1)
    return xhat.reshape(x.shape)


def _normalize_vjp(
    xp: Any, g: Any, out: Any, x: Any, weight: Any, bias: Any, *, groups: int | None,
    eps: float, _residual: dict,
) -> tuple[Any, Any, Any]:  # fmt: skip
    view, axes = _statistic_view(x.shape, groups)
    if type(x) is ndarray and "inv_std" in _residual:  # first order: the forward's statistics
        mean, inv_std = _residual["mean"], _residual["inv_std"]
        xhat = ((x.reshape(view) - mean) * inv_std).reshape(x.shape[0], x.shape[1], -1)
    else:  # create_graph: recomputed from x, so they are differentiated too
        xhat, _, _, inv_std = _standardise(x, groups, eps)
    g3 = g.reshape(xhat.shape)
    dweight = None if weight is None else (g3 * xhat).sum(axis=(0, 2))
    dbias = None if bias is None else g3.sum(axis=(0, 2))
    scaled = (g3 if weight is None else g3 * weight.reshape(-1, 1)).reshape(view)
    dx = standardised_grad(scaled, xhat.reshape(view), inv_std, axes)
    return dx.reshape(x.shape), dweight, dbias


BATCH_NORM = Primitive(
    "batch_norm",
    _normalize,
    vjp=_normalize_vjp,
    saves=(0, 1),
    doc="γ (x - μ)/sqrt(σ² + ε) + β, statistics per channel;  "
    "dx = (ĝ - mean ĝ - x̂ mean(ĝ x̂))/sqrt(σ² + ε), dγ = Σ g x̂, dβ = Σ g",
)
GROUP_NORM = Primitive(
    "group_norm",
    _normalize,
    vjp=_normalize_vjp,
    saves=(0, 1),
    doc="γ (x - μ)/sqrt(σ² + ε) + β, statistics per example and channel group;  "
    "dx = (ĝ - mean ĝ - x̂ mean(ĝ x̂))/sqrt(σ² + ε), dγ = Σ g x̂, dβ = Σ g",
)


def _check_affine(op_name: str, channels: int, **tensors: Any) -> None:
    for name, tensor in tensors.items():
        if tensor is not None and np.shape(unwrap(tensor)) != (channels,):
            raise ValueError(
                f"{op_name}: {name} must have shape ({channels},) for an input with "
                f"{channels} channels, got {np.shape(unwrap(tensor))}"
            )


def _channel_shape(ndim: int) -> tuple[int, ...]:
    return (1, -1) + (1,) * (ndim - 2)


@op(BATCH_NORM, method=False)
def batch_norm(
    x: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float | Callable[[], float] = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of ``(N, C, *spatial)``, as ``torch.nn.functional.batch_norm``.

    ``training``: normalise with the batch's per-channel mean and biased variance (one
    fused op) and, if given, update ``running_mean``/``running_var`` in place:
    ``r ← (1 - momentum) r + momentum s``, with the *unbiased* variance. Otherwise
    normalise with the running statistics, ``γ (x - r_μ)/sqrt(r_σ² + ε) + β``.
    ``momentum`` may be a function of no arguments, called at each update (how
    ``nn.BatchNorm``'s cumulative average, ``1 / num_batches_tracked``, stays current in
    a compiled step, which replays the update).
    """
    x_shape = np.shape(unwrap(x))
    if len(x_shape) < 2:
        raise ValueError(f"batch_norm: input must have shape (N, C, ...), got {x_shape}")
    channels = x_shape[1]
    _check_affine(
        "batch_norm", channels, running_mean=running_mean, running_var=running_var,
        weight=weight, bias=bias,
    )  # fmt: skip
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when training=False"
            )
        x = as_tensor(x)
        shape_ = _channel_shape(len(x_shape))
        mean = np.asarray(unwrap(running_mean), x.dtype).reshape(shape_)
        inv_std = ((np.asarray(unwrap(running_var), x.dtype) + eps) ** -0.5).reshape(shape_)
        y = (x - mean) * inv_std
        if weight is not None:
            y = y * shape.reshape(weight, shape_)
        return y if bias is None else y + shape.reshape(bias, shape_)
    count = int(np.prod(x_shape)) // channels
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input "
            f"of shape {x_shape}"
        )
    residual: dict[str, Any] = {}
    params = {"groups": None, "eps": eps, "_residual": residual}
    out = apply(BATCH_NORM, (x, weight, bias), params)
    if running_mean is not None:
        update(_update_running, running_mean, residual["mean"], momentum)
    if running_var is not None:
        update(_update_running, running_var, residual["var"], momentum, count / (count - 1))
    return out


def _update_running(
    running: Any,
    batch: ndarray,
    momentum: float | Callable[[], float],
    correction: float | None = None,
) -> None:
    """``running ← (1 - momentum) running + momentum batch``, in place (a Tensor or array);
    ``batch`` (per channel, any shape) times ``correction`` if given. One in-place update
    (``inplace.update``), which compiled functions record and replay."""
    if callable(momentum):
        momentum = momentum()
    batch = batch.reshape(-1) if correction is None else batch.reshape(-1) * correction
    batch = batch.astype(np.asarray(unwrap(running)).dtype)
    if isinstance(running, Tensor):
        with no_grad():
            running.mul_(1 - momentum).add_(batch, alpha=momentum)
    else:
        running *= 1 - momentum
        running += momentum * batch


@op(GROUP_NORM, method=False)
def group_norm(
    x: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Tensor:
    """Group normalisation, as ``torch.nn.functional.group_norm``: each example's
    channels split into ``num_groups`` groups, each standardised over its channels and
    spatial positions, then ``γ x̂ + β`` per channel."""
    x_shape = np.shape(unwrap(x))
    if len(x_shape) < 2:
        raise ValueError(f"group_norm: input must have shape (N, C, ...), got {x_shape}")
    channels = x_shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise ValueError(f"group_norm: num_groups must be an int, got {num_groups!r}")
    if num_groups < 1 or channels % num_groups:
        raise ValueError(
            f"group_norm: num_groups={num_groups} must be positive and divide the "
            f"{channels} channels of the input of shape {x_shape}"
        )
    _check_affine("group_norm", channels, weight=weight, bias=bias)
    params = {"groups": int(num_groups), "eps": eps, "_residual": {}}
    return apply(GROUP_NORM, (x, weight, bias), params)
