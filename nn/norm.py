"""Normalisation layers: ``BatchNorm1d BatchNorm2d GroupNorm``, as PyTorch's.

``weight`` (γ) starts at ones and ``bias`` (β) at zeros. Batch norm keeps running
statistics as buffers (``running_mean``, ``running_var``, ``num_batches_tracked``: in
``state_dict``, not in ``parameters()``): in training each batch's mean and unbiased
variance are blended in with ``momentum`` (``None``: a cumulative average, factor
``1 / num_batches_tracked``), and ``eval()`` normalises with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from .checks import check_size
from .conv import check_input
from .module import Module, Parameter


def _affine(module: Module, channels: int, affine: bool, dtype: Any) -> None:
    """``weight`` = ones and ``bias`` = zeros of ``(channels,)``, or both None."""
    module.weight = Parameter(np.ones(channels, dtype)) if affine else None
    module.bias = Parameter(np.zeros(channels, dtype)) if affine else None


class _BatchNorm(Module):
    """Batch normalisation over every axis but the channels (axis 1)."""

    layouts: dict[int, str]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        check_size(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine(self, self.num_features, affine, dtype)  # rng: the initialisation is fixed
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Any) -> ag.Tensor:
        """Normalise with the batch's statistics (training, updating the running ones) or
        with the running statistics (``eval()``)."""
        x = check_input(self, x, self.layouts, self.num_features)
        factor = self.momentum
        if self.training and self.track_running_stats:
            with ag.no_grad():  # in place: a compiled step (ag.compile) replays the count
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # read at each update (a compiled step replays it)
                factor = self._cumulative_factor
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch,
            0.0 if factor is None else factor,
            self.eps,
        )

    def _cumulative_factor(self) -> float:
        """``momentum=None``: the running statistics are the cumulative average."""
        return 1.0 / float(self.num_batches_tracked.data)

    def extra_repr(self) -> str:
        """PyTorch's: ``num_features, eps, momentum, affine, track_running_stats``."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)``: statistics per channel."""

    layouts = {2: "(N, {})", 3: "(N, {}, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)``: statistics per channel over the batch and
    the image."""

    layouts = {4: "(N, {}, H, W)"}


class GroupNorm(Module):
    """Group normalisation: each example's ``num_channels`` channels in ``num_groups``
    groups, each standardised over its channels and positions, then ``γ x̂ + β`` per
    channel. Independent of the batch (no running statistics)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        check_size("GroupNorm", "num_groups", num_groups)
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_groups={num_groups} must divide num_channels ({num_channels})"
            )
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        _affine(self, self.num_channels, affine, dtype)  # rng: the initialisation is fixed

    def forward(self, x: Any) -> ag.Tensor:
        """``group_norm(x, num_groups, weight, bias, eps)``."""
        x = ag.as_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm({self.extra_repr()}): expected input of shape "
                f"(N, {self.num_channels}, ...), got {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """``num_groups, num_channels, eps, affine``."""
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
