"""Recurrent layers with PyTorch's parameters, gate order, initialisation and return
values: ``RNN LSTM GRU`` (layers, ``batch_first``, inter-layer dropout, bidirectional,
initial states) and the single-step cells ``RNNCell LSTMCell GRUCell``.

A direction of a layer runs in three graph nodes: the input projection of every step at
once (``linear(x, W_ih^T, b)``, one matmul), the fused recurrence (``ag.rnn_scan``,
``ag.lstm_scan``, ``ag.gru_scan``: one node for the whole sequence) and the slices of its
output. A cell is the same code on a sequence of length 1.

Parameters are named and shaped as PyTorch's: ``weight_ih_l{k}[_reverse]``
``(G H, input)``, ``weight_hh_l{k}[_reverse]`` ``(G H, H)``, ``bias_ih_l{k}``,
``bias_hh_l{k}`` ``(G H,)``, with ``G`` = 1, 4 (gates ``i f g o``) or 3 (``r z n``); the
cells' ``weight_ih weight_hh bias_ih bias_hh``. All start as ``U(-1/sqrt(H), 1/sqrt(H))``
draws from ``rng``, as PyTorch's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
from autograd.ops.recurrent import check_nonlinearity
from autograd.random import Rng, as_rng

from . import functional as F  # noqa: N812 - PyTorch's alias
from . import init
from .checks import check_size
from .module import Module, Parameter

Weights = tuple[Any, Any, Any, Any]  # (w_ih, w_hh, b_ih, b_hh); biases None without bias


# ------------------------------------------------------------------ one direction
def _projection(x: Any, w_ih: Any, bias: Any) -> ag.Tensor:
    """Every step's input projection ``x W_ih^T + bias`` as one matmul: ``(T, B, G H)``."""
    return ag.linear(x, ag.transpose(w_ih), bias)


def _folded(b_ih: Any, b_hh: Any) -> Any:
    return None if b_ih is None else b_ih + b_hh


def _last(reverse: bool) -> int:
    """The step a direction ends on: the first one when it runs backwards."""
    return 0 if reverse else -1


def _rnn_run(
    x: Any, weights: Weights, states: tuple[Any, ...], reverse: bool, nonlinearity: str = "tanh"
) -> tuple[ag.Tensor, tuple[ag.Tensor, ...]]:
    w_ih, w_hh, b_ih, b_hh = weights
    out = ag.rnn_scan(
        _projection(x, w_ih, _folded(b_ih, b_hh)), w_hh, states[0], reverse, nonlinearity
    )
    return out, (out[_last(reverse)],)


def _lstm_run(
    x: Any, weights: Weights, states: tuple[Any, ...], reverse: bool
) -> tuple[ag.Tensor, tuple[ag.Tensor, ...]]:
    w_ih, w_hh, b_ih, b_hh = weights
    hc = ag.lstm_scan(_projection(x, w_ih, _folded(b_ih, b_hh)), w_hh, *states, reverse)
    last = _last(reverse)
    return hc[0], (hc[0, last], hc[1, last])


def _gru_run(
    x: Any, weights: Weights, states: tuple[Any, ...], reverse: bool
) -> tuple[ag.Tensor, tuple[ag.Tensor, ...]]:
    w_ih, w_hh, b_ih, b_hh = weights
    if b_hh is None:  # the scan always adds b_hh (inside the reset gate's product)
        b_hh = np.zeros(w_hh.shape[0], dtype=w_hh.dtype)
    out = ag.gru_scan(_projection(x, w_ih, b_ih), w_hh, b_hh, states[0], reverse)
    return out, (out[_last(reverse)],)


def _add_weights(
    module: Module, suffix: str, sizes: tuple[int, int, int], bias: bool, dtype: Any
) -> None:
    """Register ``weight_ih{suffix} weight_hh{suffix} [bias_ih{suffix} bias_hh{suffix}]``
    for ``(gates, input, hidden)`` sizes (uninitialised: the caller draws them)."""
    gates, inputs, hidden = sizes
    shapes = {"weight_ih": (gates * hidden, inputs), "weight_hh": (gates * hidden, hidden)}
    if bias:
        shapes |= {"bias_ih": (gates * hidden,), "bias_hh": (gates * hidden,)}
    for name, shape in shapes.items():
        setattr(module, name + suffix, Parameter(np.empty(shape, dtype=dtype)))


def _init_uniform(module: Module, hidden: int, rng: np.random.Generator) -> None:
    """PyTorch's ``reset_parameters``: every parameter from ``U(-1/sqrt(H), 1/sqrt(H))``."""
    bound = 1.0 / math.sqrt(hidden)
    for param in module.parameters():
        init.uniform_(param, -bound, bound, rng=rng)


def _weights(module: Module, suffix: str) -> Weights:
    """``(w_ih, w_hh, b_ih, b_hh)`` registered with ``suffix`` (biases None without bias)."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return tuple(getattr(module, name + suffix, None) for name in names)


def _given_states(
    module: Any, hx: Any, expected: tuple[int, ...], batch_axis: int | None, layout: str
) -> list[ag.Tensor]:
    """The user's initial states: one tensor, or a tuple for the LSTM's ``(h0, c0)``, each
    of the ``expected`` shape; an unbatched state gets a batch axis at ``batch_axis``."""
    names = module._state_names
    given = hx if len(names) > 1 else (hx,)
    if not isinstance(given, (tuple, list)) or len(given) != len(names):
        raise TypeError(
            f"{type(module).__name__}: hx must be the tuple ({', '.join(names)}), got "
            f"{type(hx).__name__}"
        )
    states = []
    for name, state in zip(names, given):
        state = ag.as_tensor(state)
        if state.shape != expected:
            raise ValueError(
                f"{type(module).__name__}: {name} must have shape {expected} ({layout}), got "
                f"{state.shape}"
            )
        states.append(state if batch_axis is None else ag.expand_dims(state, batch_axis))
    return states


def _check_features(owner: str, x: ag.Tensor, input_size: int, ndims: tuple[int, int]) -> None:
    if x.ndim not in ndims:
        raise ValueError(
            f"{owner}: expected a {ndims[0]}-d (unbatched) or {ndims[1]}-d input, got shape "
            f"{x.shape}"
        )
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{owner}: input has {x.shape[-1]} features (shape {x.shape}), expected "
            f"input_size={input_size}"
        )


class _Recurrent(Module):
    """What layers and cells share: the checked sizes, ``bias`` and the kind's gates,
    state names and run (``_options()``: its keyword arguments)."""

    _gates: int
    _state_names: tuple[str, ...] = ("h0",)
    _run: Any  # staticmethod: (x, weights, states, reverse, **options) -> (out, finals)

    def __init__(self, input_size: int, hidden_size: int, bias: bool) -> None:
        super().__init__()
        owner = type(self).__name__
        self.input_size = check_size(owner, "input_size", input_size)
        self.hidden_size = check_size(owner, "hidden_size", hidden_size)
        self.bias = bool(bias)

    def _options(self) -> dict[str, Any]:
        return {}


# ------------------------------------------------------------------ layers
class _RecurrentLayer(_Recurrent):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters per layer and direction,
    states, the layer loop, dropout between layers and PyTorch's return values."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        owner = type(self).__name__
        self.num_layers = check_size(owner, "num_layers", num_layers)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{owner}: dropout must be in [0, 1], got {dropout}")
        self.batch_first = bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.rng = as_rng(rng)
        directions = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            inputs = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                sizes = (self._gates, inputs, self.hidden_size)
                _add_weights(self, f"_l{layer}{suffix}", sizes, self.bias, dtype)
        _init_uniform(self, self.hidden_size, self.rng)

    def forward(self, input: Any, hx: Any = None) -> tuple[ag.Tensor, Any]:  # noqa: A002
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) for a ``(T, B, input_size)``
        input (``(B, T, input_size)`` when ``batch_first``; ``(T, input_size)`` unbatched).
        ``output`` holds the last layer's ``h_t`` of every step, both directions
        concatenated; ``h_n`` the final state of every layer and direction,
        ``(num_layers * num_directions, B, hidden_size)``."""
        owner = type(self).__name__
        x = ag.as_tensor(input)
        _check_features(owner, x, self.input_size, (2, 3))
        batched = x.ndim == 3
        x = ag.swapaxes(x, 0, 1) if batched and self.batch_first else x
        x = x if batched else ag.expand_dims(x, 1)
        states = self._initial_states(hx, x.shape[1], x.dtype, batched)
        directions = ("", "_reverse")[: 2 if self.bidirectional else 1]
        finals: list[list[ag.Tensor]] = [[] for _ in self._state_names]
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(directions):
                k = layer * len(directions) + d
                start = tuple(s[k] for s in states)
                out, ends = self._run(
                    x, _weights(self, f"_l{layer}{suffix}"), start, d == 1, **self._options()
                )
                outputs.append(out)
                for kept, end in zip(finals, ends):
                    kept.append(end)
            x = outputs[0] if len(outputs) == 1 else ag.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, rng=self.rng)
        x = x if batched else ag.squeeze(x, 1)
        output = ag.swapaxes(x, 0, 1) if batched and self.batch_first else x
        ends = [ag.stack(kept) if batched else ag.squeeze(ag.stack(kept), 1) for kept in finals]
        return output, ends[0] if len(ends) == 1 else tuple(ends)

    def _initial_states(self, hx: Any, batch: int, dtype: Any, batched: bool) -> list[Any]:
        """Per state: the given ``(L D, B, H)`` tensor (``(L D, H)`` unbatched, given a
        batch axis), or zeros."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        shape = (count, batch, self.hidden_size)
        if hx is None:
            return [np.zeros(shape, dtype=dtype)] * len(self._state_names)
        expected = shape if batched else (count, self.hidden_size)
        layout = "num_layers * num_directions, batch, hidden_size"
        return _given_states(self, hx, expected, None if batched else 1, layout)

    def extra_repr(self) -> str:
        """PyTorch's: ``input_size, hidden_size`` and the options that differ from the defaults."""
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
        ):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(_RecurrentLayer):
    """Elman RNN ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, ``act`` tanh or
    relu (``nonlinearity``); arguments and return values as ``torch.nn.RNN``."""

    _gates = 1
    _run = staticmethod(_rnn_run)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        check_nonlinearity("RNN", nonlinearity)
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
            rng=rng,
        )
        self.nonlinearity = nonlinearity

    def _options(self) -> dict[str, Any]:
        return {"nonlinearity": self.nonlinearity}


class LSTM(_RecurrentLayer):
    """Long short-term memory (gates ``i f g o``, PyTorch's order):
    ``c_t = s(f) c_{t-1} + s(i) tanh(g)``, ``h_t = s(o) tanh(c_t)``; arguments and return
    values ``(output, (h_n, c_n))`` as ``torch.nn.LSTM`` (no ``proj_size``)."""

    _gates = 4
    _state_names = ("h0", "c0")
    _run = staticmethod(_lstm_run)


class GRU(_RecurrentLayer):
    """Gated recurrent unit (gates ``r z n``): ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``,
    ``h_t = (1 - z) n + z h_{t-1}``; arguments and return values as ``torch.nn.GRU``."""

    _gates = 3
    _run = staticmethod(_gru_run)


# ------------------------------------------------------------------ cells
class _RecurrentCell(_Recurrent):
    """What ``RNNCell``, ``LSTMCell`` and ``GRUCell`` share: one step of the layer's
    recurrence, with parameters ``weight_ih weight_hh bias_ih bias_hh``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        _add_weights(self, "", (self._gates, self.input_size, self.hidden_size), self.bias, dtype)
        _init_uniform(self, self.hidden_size, as_rng(rng))

    def forward(self, input: Any, hx: Any = None) -> Any:  # noqa: A002 - PyTorch's name
        """The next state ``h'`` (LSTMCell: ``(h', c')``) from a ``(B, input_size)`` input
        (``(input_size,)`` unbatched) and the state (zeros when ``hx`` is None)."""
        owner = type(self).__name__
        x = ag.as_tensor(input)
        _check_features(owner, x, self.input_size, (1, 2))
        batched = x.ndim == 2
        x = x if batched else ag.expand_dims(x, 0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = (np.zeros(shape, dtype=x.dtype),) * len(self._state_names)
        else:
            expected = shape if batched else shape[1:]
            states = _given_states(self, hx, expected, None if batched else 0, "batch, hidden_size")
        step = ag.expand_dims(x, 0)  # a sequence of one step
        _, ends = self._run(step, _weights(self, ""), states, False, **self._options())
        ends = ends if batched else tuple(ag.squeeze(e, 0) for e in ends)
        return ends[0] if len(ends) == 1 else ends

    def extra_repr(self) -> str:
        """``input_size, hidden_size[, bias=False]``."""
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_RecurrentCell):
    """One Elman step ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (``torch.nn.RNNCell``)."""

    _gates = 1
    _run = staticmethod(_rnn_run)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: Any = np.float32,
        rng: Rng = None,
    ) -> None:
        check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity

    def _options(self) -> dict[str, Any]:
        return {"nonlinearity": self.nonlinearity}


class LSTMCell(_RecurrentCell):
    """One LSTM step; returns ``(h', c')`` (``torch.nn.LSTMCell``)."""

    _gates = 4
    _state_names = ("h0", "c0")
    _run = staticmethod(_lstm_run)


class GRUCell(_RecurrentCell):
    """One GRU step; returns ``h'`` (``torch.nn.GRUCell``)."""

    _gates = 3
    _run = staticmethod(_gru_run)
