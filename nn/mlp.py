"""The notes' networks: ``TwoLayerMLP`` (``σ(X W1) W2``) and the L-layer ``MLP``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .checks import check_sizes
from .layers import Linear, make_activation
from .module import Module, Parameter, Sequential


class TwoLayerMLP(Module):
    """The notes' two-layer network ``h(X) = σ(X W1) W2``, ``W1: (n, d)``, ``W2: (d, k)``.

    No biases by default, exactly as in the notes; ``bias=True`` adds ``b1: (d,)``
    and ``b2: (k,)`` (``σ(X W1 + b1) W2 + b2``), initialised to zero. The weights
    start as small normal values that break the symmetry between hidden units:
    Glorot/Xavier normal, ``std = sqrt(2 / (fan_in + fan_out))``. ``activation`` is
    a name (``"relu" "sigmoid" "tanh" "leaky_relu" "identity"``) or a Module class.
    """

    def __init__(
        self,
        n: int,
        d: int,
        k: int,
        activation: Any = "relu",
        bias: bool = False,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        n, d, k = check_sizes("TwoLayerMLP", "layer sizes", [n, d, k])
        rng = as_rng(rng)
        self.W1 = init.xavier_normal_(Parameter(np.empty((n, d), dtype=dtype)), rng=rng)
        self.b1 = Parameter(np.zeros(d, dtype=dtype)) if bias else None
        self.W2 = init.xavier_normal_(Parameter(np.empty((d, k), dtype=dtype)), rng=rng)
        self.b2 = Parameter(np.zeros(k, dtype=dtype)) if bias else None
        self.activation = make_activation(activation)

    def forward(self, x: Any) -> ag.Tensor:
        """``σ(x W1 [+ b1]) W2 [+ b2]``: the logits, shape ``(m, k)``."""
        return F.linear(self.activation(F.linear(x, self.W1, self.b1)), self.W2, self.b2)

    def extra_repr(self) -> str:
        """``n=..., d=..., k=..., bias=...``."""
        n, d = self.W1.shape
        return f"n={n}, d={d}, k={self.W2.shape[1]}, bias={self.b1 is not None}"


class MLP(Module):
    """The L-layer network ``Z_{i+1} = σ(Z_i W_i + b_i)``, ``L = len(sizes) - 1`` layers.

    ``sizes = [n_1, ..., n_{L+1}]``; layer ``i`` is ``Linear(n_i, n_{i+1})`` (its
    default init, PyTorch's ``U(-1/sqrt(n_i), 1/sqrt(n_i))``). An activation
    follows every layer but the last; ``output_activation`` (same forms as
    ``activation``: a name or a Module class) is appended after the last if given.
    The stack is ``self.layers`` (a :class:`Sequential`), so parameters are named
    ``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``, ... Inputs are not
    cast: pass float32 data to a float32 model to compute in float32.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: Any = "relu",
        bias: bool = True,
        output_activation: Any = None,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        sizes = check_sizes("MLP", "layer sizes", sizes)
        rng = as_rng(rng)
        self.sizes = sizes
        first = make_activation(activation)  # checks the spec even for a one-layer MLP
        layers = Sequential()
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias, dtype=dtype, rng=rng))
            if i < len(sizes) - 2:
                layers.append(first if i == 0 else make_activation(activation))
        if output_activation is not None:
            layers.append(make_activation(output_activation))
        self.layers = layers

    @property
    def linears(self) -> list[Linear]:
        """The ``Linear`` layers in order (``W_i`` is ``linears[i].weight``)."""
        return [m for m in self.layers if isinstance(m, Linear)]

    def forward(self, x: Any) -> ag.Tensor:
        """Apply the layers in order."""
        return self.layers(x)
