"""Layers and activations as modules: ``Linear``, ``ReLU``, ``Dropout``, ...

Each is a thin :class:`~nn.module.Module` around a function of
:mod:`nn.functional`, so everything a layer does is made of engine ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .checks import check_size
from .module import Module, Parameter


class Linear(Module):
    """Affine layer ``y = x W + b`` with ``W: (in_features, out_features)``, ``b: (out_features,)``.

    The weight is stored ``(in, out)`` as in the notes' ``Z_{i+1} = Z_i W_i + b_i``
    (the transpose of PyTorch's layout). Default initialisation is PyTorch's:
    ``W`` by ``kaiming_uniform_(a=sqrt(5))``, i.e. ``U(-1/sqrt(in), 1/sqrt(in))``,
    and ``b`` from the same ``U(-1/sqrt(in), 1/sqrt(in))``. ``rng`` (Generator or
    int seed) makes it reproducible; ``dtype`` is the parameters' float type.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        rng = as_rng(rng)
        self.weight = Parameter(np.empty((self.in_features, self.out_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, rng=rng)
        else:
            self.bias = None

    def forward(self, x: Any) -> ag.Tensor:
        """``x @ weight + bias``."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """``in_features=..., out_features=..., bias=...``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class ReLU(Module):
    """``max(x, 0)`` elementwise (derivative 0 at 0, as PyTorch)."""

    def forward(self, x: Any) -> ag.Tensor:
        """Apply ReLU."""
        return F.relu(x)


class Sigmoid(Module):
    """``1 / (1 + e^-x)`` elementwise; derivative ``s (1 - s)``."""

    def forward(self, x: Any) -> ag.Tensor:
        """Apply the logistic function."""
        return F.sigmoid(x)


class Tanh(Module):
    """``tanh x`` elementwise; derivative ``1 - tanh² x``."""

    def forward(self, x: Any) -> ag.Tensor:
        """Apply tanh."""
        return F.tanh(x)


class LeakyReLU(Module):
    """``x if x > 0 else negative_slope * x`` elementwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> ag.Tensor:
        """Apply leaky ReLU."""
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        """``negative_slope=...``."""
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Any:
        """Return ``x``."""
        return x


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``axis`` (stable: shifted by the max)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> ag.Tensor:
        """Apply softmax along ``axis``."""
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        """``axis=...``."""
        return f"axis={self.axis}"


class Dropout(Module):
    """Inverted dropout with probability ``p`` while training; the identity in ``eval()``.

    Masks are drawn from ``rng`` (a Generator or int seed), held by the layer, so
    a model built and run with fixed seeds is reproducible.
    """

    def __init__(self, p: float = 0.5, rng: Rng = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = as_rng(rng)

    def forward(self, x: Any) -> ag.Tensor:
        """Drop and rescale (training) or pass through (eval)."""
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        """``p=...``."""
        return f"p={self.p}"


class Flatten(Module):
    """Reshape ``(m, d1, d2, ...)`` to ``(m, d1 * d2 * ...)``: axes from ``start_axis`` merge."""

    def __init__(self, start_axis: int = 1) -> None:
        super().__init__()
        self.start_axis = start_axis

    def forward(self, x: Any) -> ag.Tensor:
        """Merge the axes from ``start_axis`` on into one."""
        x = ag.as_tensor(x)
        return ag.reshape(x, x.shape[: self.start_axis] + (-1,))

    def extra_repr(self) -> str:
        """``start_axis=...``."""
        return f"start_axis={self.start_axis}"


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


def make_activation(spec: Any) -> Module:
    """A fresh activation module from a name in ``ACTIVATIONS`` or a factory (e.g. a class).

    A factory is called with no arguments and must return a Module, e.g.
    ``nn.Tanh`` or ``lambda: nn.LeakyReLU(0.2)``.
    """
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {spec!r}; use one of {sorted(ACTIVATIONS)} or a Module class"
            )
        return ACTIVATIONS[spec]()
    module = spec() if callable(spec) and not isinstance(spec, Module) else None
    if not isinstance(module, Module):
        raise TypeError(
            f"activation must be a name ({sorted(ACTIVATIONS)}) or a Module class "
            f"(or a factory returning a Module), got {spec!r}"
        )
    return module
