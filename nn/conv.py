"""Convolution and pooling layers: ``Conv1d Conv2d ConvTranspose2d``, ``MaxPool1d
MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool2d``.

Thin modules over :mod:`nn.functional` (the engine's fused primitives), with PyTorch's
arguments, parameter names and layouts: ``weight`` ``(C_out, C_in/groups, *kernel)``
(``(C_in, C_out/groups, *kernel)`` for the transposed convolution) and ``bias``
``(C_out,)``. Default initialisation is PyTorch's: weight and bias from ``U(-b, b)``,
``b = 1/sqrt(fan_in)``, ``fan_in = weight.shape[1] * kernel size`` (what
``kaiming_uniform_(a=sqrt(5))`` gives), drawn from ``rng``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
from autograd.ops.conv import as_tuple
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .checks import check_size
from .module import Module, Parameter


def check_input(layer: Module, x: Any, layouts: dict[int, str], channels: int | None) -> ag.Tensor:
    """``x`` as a Tensor, or ``ValueError`` naming the layer, the expected and the given
    shape (``layouts``: ndim -> layout, whose ``{}`` stands for ``channels``, the size of
    axis 1 if fixed, else ``C``; formatted only for the error)."""
    x = ag.as_tensor(x)
    if x.ndim not in layouts or (channels is not None and x.shape[1] != channels):
        size = "C" if channels is None else channels
        expected = " or ".join(layout.format(size) for layout in layouts.values())
        raise ValueError(
            f"{type(layer).__name__}({layer.extra_repr()}): expected input of shape "
            f"{expected}, got {x.shape}"
        )
    return x


#: The input layout of the 1-d and 2-d layers (``{}``: the channels, ``C`` if not fixed).
_LAYOUTS = {1: {3: "(N, {}, L)"}, 2: {4: "(N, {}, H, W)"}}


class _ConvNd(Module):
    """What the convolutions share: PyTorch's ``Conv*d`` arguments, the geometry, the
    parameters and their initialisation; ``function`` is the ``nn.functional`` op."""

    nd: int
    transposed: bool = False
    function: Any

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for label, value in (
            ("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)
        ):  # fmt: skip
            check_size(name, label, value)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels ({in_channels}) and "
                f"out_channels ({out_channels})"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple(kernel_size, self.nd, "kernel_size", name)
        self.stride = as_tuple(stride, self.nd, "stride", name)
        self.padding = (
            padding if isinstance(padding, str) else as_tuple(padding, self.nd, "padding", name)
        )
        self.dilation = as_tuple(dilation, self.nd, "dilation", name)
        self.output_padding = (0,) * self.nd  # ConvTranspose2d sets its own
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        rng = as_rng(rng)
        bound = 1.0 / math.sqrt(shape[1] * math.prod(self.kernel_size))
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        init.uniform_(self.weight, -bound, bound, rng=rng)
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, rng=rng)
        else:
            self.bias = None

    def forward(self, x: Any) -> ag.Tensor:
        """The convolution of ``x`` with this layer's weight, bias and geometry."""
        return type(self).function(
            self._input(x), self.weight, self.bias, self.stride, self.padding, self.dilation,
            self.groups,
        )  # fmt: skip

    def _input(self, x: Any) -> ag.Tensor:
        return check_input(self, x, _LAYOUTS[self.nd], self.in_channels)

    def extra_repr(self) -> str:
        """PyTorch's: channels, ``kernel_size``, ``stride`` and the non-default options."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        defaults = {"padding": (0,) * self.nd, "dilation": (1,) * self.nd, "groups": 1}
        if self.transposed:
            defaults["output_padding"] = (0,) * self.nd
        for key, default in defaults.items():
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)!r}"
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """1-d convolution over ``(N, C_in, L)``: ``weight`` ``(C_out, C_in/groups, k)``, as
    ``torch.nn.Conv1d``."""

    nd = 1
    function = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-d convolution over ``(N, C_in, H, W)``: ``weight`` ``(C_out, C_in/groups, kh, kw)``,
    ``padding`` an int, a pair, ``"valid"`` or ``"same"``, as ``torch.nn.Conv2d``."""

    nd = 2
    function = staticmethod(F.conv2d)


class ConvTranspose2d(_ConvNd):
    """2-d transposed convolution (the gradient of ``Conv2d`` in its input, used to
    upsample): ``weight`` ``(C_in, C_out/groups, kh, kw)``, as ``torch.nn.ConvTranspose2d``."""

    nd = 2
    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        extra = as_tuple(output_padding, self.nd, "output_padding", type(self).__name__)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            dtype=dtype, rng=rng,
        )  # fmt: skip
        self.output_padding = extra

    def forward(self, x: Any) -> ag.Tensor:
        """``conv_transpose2d(x, weight, bias)`` with this layer's geometry."""
        return F.conv_transpose2d(
            self._input(x), self.weight, self.bias, self.stride, self.padding,
            self.output_padding, self.groups, self.dilation,
        )  # fmt: skip


class _Pool(Module):
    """What the fixed-window pools share: geometry and the input check."""

    nd: int

    def __init__(self, kernel_size: Any, stride: Any, padding: Any) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def _input(self, x: Any) -> ag.Tensor:
        return check_input(self, x, _LAYOUTS[self.nd], None)

    def extra_repr(self) -> str:
        """``kernel_size=..., stride=..., padding=...``."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPool(_Pool):
    function: Any

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation

    def forward(self, x: Any) -> ag.Tensor:
        """The maximum of each window, with this layer's geometry."""
        return type(self).function(
            self._input(x), self.kernel_size, self.stride, self.padding, self.dilation
        )

    def extra_repr(self) -> str:
        """``kernel_size=..., stride=..., padding=..., dilation=...``."""
        return super().extra_repr() + f", dilation={self.dilation}"


class MaxPool1d(_MaxPool):
    """Maximum over windows of ``(N, C, L)``; ties send the gradient to the first maximum."""

    nd = 1
    function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """Maximum over windows of ``(N, C, H, W)``, as ``torch.nn.MaxPool2d`` (``-inf``
    padding; ties send the gradient to the first maximum in row-major order)."""

    nd = 2
    function = staticmethod(F.max_pool2d)


class _AvgPool(_Pool):
    function: Any

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Any) -> ag.Tensor:
        """The mean of each window, with this layer's geometry."""
        return type(self).function(
            self._input(x), self.kernel_size, self.stride, self.padding, self.count_include_pad
        )

    def extra_repr(self) -> str:
        """The geometry, and ``count_include_pad=False`` when set."""
        return super().extra_repr() + (
            "" if self.count_include_pad else ", count_include_pad=False"
        )


class AvgPool1d(_AvgPool):
    """Mean over windows of ``(N, C, L)`` (zero padding counted unless
    ``count_include_pad=False``)."""

    nd = 1
    function = staticmethod(F.avg_pool1d)


class AvgPool2d(_AvgPool):
    """Mean over windows of ``(N, C, H, W)``, as ``torch.nn.AvgPool2d``."""

    nd = 2
    function = staticmethod(F.avg_pool2d)


class AdaptiveAvgPool2d(Module):
    """Average ``(N, C, H, W)`` or ``(C, H, W)`` over ``output_size`` bins (PyTorch's
    bins; ``None`` keeps a size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> ag.Tensor:
        """``adaptive_avg_pool2d(x, output_size)``."""
        x = check_input(self, x, {3: "(C, H, W)", 4: "(N, C, H, W)"}, None)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        """``output_size=...``."""
        return f"output_size={self.output_size}"
