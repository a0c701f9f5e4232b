"""Recurrent layers' time loops as primitives: the Elman RNN, LSTM and GRU recurrences.

A recurrent layer splits into the input projection of every time step at once, one
matmul outside the loop (``x @ W_ih^T + b`` in ``nn``), and the recurrence here, which
does only what must be sequential: per step one matmul with ``W_hh`` and the gates. A
scan is one graph node for the whole sequence, and its VJP is one reverse loop with one
matmul per step; ``dW_hh = sum_t dz_t^T h_{t-1}`` is a single matmul after the loop.

Inputs are time-major: ``xproj`` ``(T, B, G H)``, the input projections with the
biases that can be folded in; ``w_hh`` ``(G H, H)`` (PyTorch's layout); initial states
``(B, H)``. ``reverse=True`` runs from the last step to the first (the backward
direction of a bidirectional layer); outputs stay aligned with the input steps.

- ``rnn_scan``: ``h_t = act(xproj_t + h_{t-1} W_hh^T)``, ``act`` tanh or relu;
  returns every ``h_t``, ``(T, B, H)``.
- ``lstm_scan``: ``z_t = xproj_t + h_{t-1} W_hh^T`` split into gates ``i f g o``
  (PyTorch's order), ``c_t = s(f) c_{t-1} + s(i) tanh(g)``, ``h_t = s(o) tanh(c_t)``
  (``s`` the sigmoid); returns every ``h_t`` and every ``c_t``, ``(2, T, B, H)``.
- ``gru_scan``: ``a_t = h_{t-1} W_hh^T + b_hh`` (``b_hh`` is an input: its ``n`` part
  sits inside the reset gate's product), ``r = s(x_r + a_r)``, ``u = s(x_z + a_z)``,
  ``n = tanh(x_n + r a_n)``, ``h_t = (1 - u) n + u h_{t-1}``; returns ``(T, B, H)``.

Each step is written once with array-namespace functions (``xp``): the forward runs it
on ndarrays and keeps the gate activations for the first-order VJP; under
``create_graph`` the VJP reruns it on Tensors, so second derivatives go through the same
code. The backward steps use operators only.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..optable import op
from ..primitive import Primitive, apply
from ..tensor import Tensor, unwrap
from .namespaces import NUMPY_NS

RNN_NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(owner: str, nonlinearity: Any) -> None:
    """``ValueError`` naming ``owner`` unless ``nonlinearity`` is one of ``RNN_NONLINEARITIES``."""
    if nonlinearity not in RNN_NONLINEARITIES:
        raise ValueError(
            f"{owner}: nonlinearity must be one of {RNN_NONLINEARITIES}, got {nonlinearity!r}"
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-x)`` in three passes. Below -88 (float32) ``e^-x`` overflows to inf,
    which gives the right limit 0; numpy's warning about it is silenced. (The engine's
    branch-free stable sigmoid takes five passes, which cost as much as the step's matmul.)"""
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


#: What the scans' forwards compute with: numpy's namespace with the faster sigmoid.
FORWARD_NS = SimpleNamespace(**{**vars(NUMPY_NS), "sigmoid": _sigmoid})


def _steps(length: int, reverse: bool) -> range:
    """Time steps in the order a scan visits them."""
    return range(length - 1, -1, -1) if reverse else range(length)


def _previous(xp: Any, states: Any, initial: Any, reverse: bool) -> Any:
    """The state each step starts from, aligned with the steps: ``initial`` first (last
    when ``reverse``), then the states shifted by one step."""
    first = xp.expand_dims(initial, 0)
    if reverse:
        return xp.concatenate((states[1:], first), axis=0)
    return xp.concatenate((first, states[:-1]), axis=0)


def _recurrent_weight_grad(dz: Any, previous: Any) -> Any:
    """``dW_hh = sum_t dz_t^T h_{t-1}``: one matmul over every step and example."""
    return dz.reshape(-1, dz.shape[-1]).T @ previous.reshape(-1, previous.shape[-1])


# ---------------------------------------------------------------- Elman RNN
def _rnn_forward(xp: Any, xproj: Any, w_hh: Any, h0: Any, reverse: bool, nonlinearity: str) -> Any:
    act = xp.tanh if nonlinearity == "tanh" else xp.relu
    w_t = xp.contiguous(w_hh.T)
    h, hs = h0, [None] * xproj.shape[0]
    for t in _steps(xproj.shape[0], reverse):
        h = hs[t] = act(xproj[t] + h @ w_t)
    return xp.stack(hs)


def _rnn_scan_vjp(
    xp: Any, g: Any, out: Any, xproj: Any, w_hh: Any, h0: Any, reverse: bool, nonlinearity: str
) -> tuple[Any, Any, Any]:
    if not isinstance(xproj, Tensor):  # first order: the forward's states
        hs = out
    else:
        hs = _rnn_forward(xp, xproj, w_hh, h0, reverse, nonlinearity)
    dzs, dh = [None] * xproj.shape[0], 0
    for t in _steps(xproj.shape[0], not reverse):
        dh = dh + g[t]
        h = hs[t]
        dz = dzs[t] = dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)
        dh = dz @ w_hh
    dz = xp.stack(dzs)
    return dz, _recurrent_weight_grad(dz, _previous(xp, hs, h0, reverse)), dh


RNN_SCAN = Primitive(
    "rnn_scan",
    lambda xproj, w_hh, h0, reverse, nonlinearity: _rnn_forward(
        FORWARD_NS, xproj, w_hh, h0, reverse, nonlinearity
    ),
    vjp=_rnn_scan_vjp,
    saves=(0, 1, 2, "out"),
    doc="h_t = act(x_t + h_{t-1} W^T);  dz_t = (g_t + dz_{t+1} W) act', dW = sum dz_t^T h_{t-1}",
)


# ---------------------------------------------------------------- LSTM
def _lstm_cell(xp: Any, z: Any, c_prev: Any) -> tuple[tuple[Any, ...], Any, Any]:
    """One step from the pre-activations ``z`` ``(B, 4H)``: ``(gates, c, h)``. Two sigmoids,
    over the adjacent ``i f`` blocks and over ``o`` (``exp`` dominates the step's arithmetic:
    it is not spent on the ``g`` block)."""
    n = c_prev.shape[-1]
    sig = xp.sigmoid(z[:, : 2 * n])
    i, f, o = sig[:, :n], sig[:, n:], xp.sigmoid(z[:, 3 * n :])
    g = xp.tanh(z[:, 2 * n : 3 * n])
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    return (i, f, g, o, tanh_c), c, o * tanh_c


def _lstm_cell_grad(dh: Any, dc: Any, gates: tuple[Any, ...], c_prev: Any) -> tuple[Any, Any]:
    """``(dz parts i f g o, dc_prev)`` from the step's ``dh`` and ``dc``."""
    i, f, g, o, tanh_c = gates
    dc = dc + dh * o * (1 - tanh_c * tanh_c)
    dz = (dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g))
    return (*dz, dh * tanh_c * o * (1 - o)), dc * f


def _lstm_forward(xp: Any, xproj: Any, w_hh: Any, h0: Any, c0: Any, reverse: bool) -> Any:
    """``(gates per step, every h, every c)``, the states as lists in step order."""
    w_t = xp.contiguous(w_hh.T)  # (h @ w_t runs faster on a contiguous copy)
    h, c = h0, c0
    length = xproj.shape[0]
    gates, hs, cs = [None] * length, [None] * length, [None] * length
    for t in _steps(length, reverse):
        gates[t], c, h = _lstm_cell(xp, xproj[t] + h @ w_t, c)
        hs[t], cs[t] = h, c
    return gates, hs, cs


def _lstm_scan(
    xproj: np.ndarray,
    w_hh: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    reverse: bool,
    _residual: dict[str, Any],
) -> np.ndarray:
    _residual["gates"], hs, cs = _lstm_forward(FORWARD_NS, xproj, w_hh, h0, c0, reverse)
    return np.stack(hs + cs).reshape(2, *xproj.shape[:2], h0.shape[-1])  # (one copy)


def _lstm_scan_vjp(
    xp: Any,
    g: Any,
    out: Any,
    xproj: Any,
    w_hh: Any,
    h0: Any,
    c0: Any,
    reverse: bool,
    _residual: dict[str, Any],
) -> tuple[Any, Any, Any, Any]:
    """One reverse loop. First order reads the forward's gates and states and writes each
    step's ``dz`` into one array; under ``create_graph`` the forward is rerun on Tensors."""
    length = xproj.shape[0]
    first_order = not isinstance(xproj, Tensor)
    if first_order:
        gates, hs, cs = _residual["gates"], out[0], out[1]
        dzs = np.empty_like(xproj, dtype=np.result_type(xproj, w_hh, h0, c0, g))
    else:
        gates, hs, cs = _lstm_forward(xp, xproj, w_hh, h0, c0, reverse)
        hs, cs, dzs = xp.stack(hs), xp.stack(cs), [None] * length
    c_prev = _previous(xp, cs, c0, reverse)
    dh, dc = 0, 0
    for t in _steps(length, not reverse):
        dz, dc = _lstm_cell_grad(dh + g[0][t], dc + g[1][t], gates[t], c_prev[t])
        if first_order:
            dz_t = np.concatenate(dz, axis=-1, out=dzs[t])
        else:
            dz_t = dzs[t] = xp.concatenate(dz, axis=-1)
        dh = dz_t @ w_hh
    dz = dzs if first_order else xp.stack(dzs)
    return dz, _recurrent_weight_grad(dz, _previous(xp, hs, h0, reverse)), dh, dc


LSTM_SCAN = Primitive(
    "lstm_scan",
    _lstm_scan,
    vjp=_lstm_scan_vjp,
    saves=(0, 1, 2, 3, "out"),
    doc="c_t = s(f) c + s(i) tanh(g), h_t = s(o) tanh(c_t);  one reverse loop, dW = sum dz^T h",
)


# ---------------------------------------------------------------- GRU
def _gru_cell(xp: Any, x: Any, a: Any, h_prev: Any) -> tuple[tuple[Any, ...], Any]:
    """One step from ``x = xproj_t`` and ``a = h_prev W_hh^T + b_hh``: ``(gates, h)``."""
    n = h_prev.shape[-1]
    gates = xp.sigmoid(x[:, : 2 * n] + a[:, : 2 * n])
    r, u = gates[:, :n], gates[:, n:]
    a_n = a[:, 2 * n :]
    new = xp.tanh(x[:, 2 * n :] + r * a_n)
    return (r, u, new, a_n), new + u * (h_prev - new)


def _gru_cell_grad(dh: Any, gates: tuple[Any, ...], h_prev: Any) -> tuple[tuple[Any, ...], Any]:
    """``(dx parts r z n, da n part)`` of one step; ``da`` is ``dx`` but for ``n``."""
    r, u, new, a_n = gates
    d_new = dh * (1 - u) * (1 - new * new)
    du = dh * (h_prev - new) * u * (1 - u)
    dr = d_new * a_n * r * (1 - r)
    return (dr, du, d_new), d_new * r


def _gru_forward(xp: Any, xproj: Any, w_hh: Any, b_hh: Any, h0: Any, reverse: bool) -> Any:
    """``(gates per step, every h)``."""
    w_t = xp.contiguous(w_hh.T)
    h, length = h0, xproj.shape[0]
    gates, hs = [None] * length, [None] * length
    for t in _steps(length, reverse):
        gates[t], h = _gru_cell(xp, xproj[t], h @ w_t + b_hh, h)
        hs[t] = h
    return gates, xp.stack(hs)


def _gru_scan(
    xproj: np.ndarray,
    w_hh: np.ndarray,
    b_hh: np.ndarray,
    h0: np.ndarray,
    reverse: bool,
    _residual: dict[str, Any],
) -> np.ndarray:
    _residual["gates"], hs = _gru_forward(FORWARD_NS, xproj, w_hh, b_hh, h0, reverse)
    return hs


def _gru_scan_vjp(
    xp: Any,
    g: Any,
    out: Any,
    xproj: Any,
    w_hh: Any,
    b_hh: Any,
    h0: Any,
    reverse: bool,
    _residual: dict[str, Any],
) -> tuple[Any, Any, Any, Any]:
    if not isinstance(xproj, Tensor):
        gates, hs = _residual["gates"], out
    else:
        gates, hs = _gru_forward(xp, xproj, w_hh, b_hh, h0, reverse)
    h_prev = _previous(xp, hs, h0, reverse)
    dxs, das, dh = [None] * xproj.shape[0], [None] * xproj.shape[0], 0
    for t in _steps(xproj.shape[0], not reverse):
        dh = dh + g[t]
        (dr, du, d_new), da_new = _gru_cell_grad(dh, gates[t], h_prev[t])
        dxs[t] = xp.concatenate((dr, du, d_new), axis=-1)
        das[t] = xp.concatenate((dr, du, da_new), axis=-1)
        dh = dh * gates[t][1] + das[t] @ w_hh
    da = xp.stack(das)
    db = da.sum(axis=(0, 1))
    return xp.stack(dxs), _recurrent_weight_grad(da, h_prev), db, dh


GRU_SCAN = Primitive(
    "gru_scan",
    _gru_scan,
    vjp=_gru_scan_vjp,
    saves=(0, 1, 2, 3, "out"),
    doc="h_t = (1 - u) n + u h, n = tanh(x_n + r a_n);  one reverse loop, dW = sum da^T h",
)


# ---------------------------------------------------------------- public functions
def _check(name: str, gates: int, xproj: Any, w_hh: Any, *states: Any) -> None:
    """``ValueError`` naming the scan and the shapes unless they fit together."""
    xs, ws = np.shape(unwrap(xproj)), np.shape(unwrap(w_hh))
    shapes = [np.shape(unwrap(s)) for s in states]
    fits = len(xs) == 3 and xs[0] >= 1 and len(ws) == 2 and ws[0] == gates * ws[1]
    fits = fits and xs[2] == ws[0] and all(s == (xs[1], ws[1]) for s in shapes)
    if not fits:
        listed = ", ".join(str(s) for s in shapes)
        raise ValueError(
            f"{name}: xproj must be (T >= 1, B, {gates} H), w_hh ({gates} H, H) and each state "
            f"(B, H); got xproj {xs}, w_hh {ws}, states {listed}"
        )


@op(RNN_SCAN, method=False)
def rnn_scan(
    xproj: Any, w_hh: Any, h0: Any, reverse: bool = False, nonlinearity: str = "tanh"
) -> Tensor:
    """Elman recurrence ``h_t = act(xproj_t + h_{t-1} w_hh^T)`` over the time-major
    ``(T, B, H)`` projections; every ``h_t``, ``(T, B, H)``. ``act``: tanh or relu."""
    check_nonlinearity("rnn_scan", nonlinearity)
    _check("rnn_scan", 1, xproj, w_hh, h0)
    params = {"reverse": bool(reverse), "nonlinearity": nonlinearity}
    return apply(RNN_SCAN, (xproj, w_hh, h0), params)


@op(LSTM_SCAN, method=False)
def lstm_scan(xproj: Any, w_hh: Any, h0: Any, c0: Any, reverse: bool = False) -> Tensor:
    """LSTM recurrence over the time-major ``(T, B, 4H)`` projections (gates ``i f g o``);
    every ``h_t`` and ``c_t`` stacked as ``(2, T, B, H)``."""
    _check("lstm_scan", 4, xproj, w_hh, h0, c0)
    params = {"reverse": bool(reverse), "_residual": {}}
    return apply(LSTM_SCAN, (xproj, w_hh, h0, c0), params)


@op(GRU_SCAN, method=False)
def gru_scan(xproj: Any, w_hh: Any, b_hh: Any, h0: Any, reverse: bool = False) -> Tensor:
    """GRU recurrence over the time-major ``(T, B, 3H)`` projections (gates ``r z n``,
    ``xproj`` holding ``b_ih``, ``b_hh`` of shape ``(3H,)`` given apart); every ``h_t``."""
    _check("gru_scan", 3, xproj, w_hh, h0)
    if np.shape(unwrap(b_hh)) != np.shape(unwrap(w_hh))[:1]:
        raise ValueError(
            f"gru_scan: b_hh must have shape {np.shape(unwrap(w_hh))[:1]}, got "
            f"{np.shape(unwrap(b_hh))}"
        )
    params = {"reverse": bool(reverse), "_residual": {}}
    return apply(GRU_SCAN, (xproj, w_hh, b_hh, h0), params)
