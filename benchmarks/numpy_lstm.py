"""The LSTM language model's training step written by hand in numpy, two ways.

The model: ``Embedding(V, E) -> LSTM(E, H) -> Linear(H, C)``, softmax cross-entropy
averaged over every position, one SGD step. Parameters are a dict in PyTorch's layout
(``weight_ih (4H, E)``, gates ``i f g o``) plus ``embedding (V, E)`` and the head
``head_w (H, C)`` (the notes' ``(in, out)``), ``head_b (C,)``. Both functions return
``(loss, grads)`` and update the parameters in place.

- :func:`textbook_step`: the straightforward code, as in a tutorial: every step
  projects its input and its state (``x_t W_ih^T + h W_hh^T + b``), applies each gate's
  nonlinearity, keeps a cache per step; backward walks the steps again and accumulates
  each weight gradient with small matmuls per step; the embedding gradient is
  ``np.add.at``. This is the hand-written numpy floor of the benchmark.
- :func:`fused_step`: the engine's strategy by hand: one matmul for every step's input
  projection, one sigmoid over a step's whole gate block, buffers written in place,
  ``dW_hh``/``dW_ih`` as one matmul each after the loop, the embedding gradient as a
  one-hot matmul. About what numpy can do at best.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (W, X, H)

from __future__ import annotations

from typing import Any

import numpy as np

Params = dict[str, np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _head_loss(hs: np.ndarray, targets: np.ndarray, p: Params) -> tuple[float, np.ndarray]:
    """Cross-entropy of the head's logits for ``hs`` ``(M, H)``: ``(loss, dlogits)``."""
    logits = hs @ p["head_w"] + p["head_b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    total = probs.sum(axis=1, keepdims=True)
    probs /= total
    rows = np.arange(len(targets))
    loss = float((np.log(total[:, 0]) - shifted[rows, targets]).mean())
    probs[rows, targets] -= 1
    return loss, probs / len(targets)


def _sgd(params: Params, grads: Params, lr: float) -> None:
    for name, grad in grads.items():
        params[name] -= lr * grad


def textbook_step(params: Params, tokens: np.ndarray, targets: np.ndarray, lr: float) -> Any:
    """One SGD step the straightforward way; ``tokens``/``targets`` ``(T, B)`` ints."""
    p = params
    W_ih, W_hh, b = p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]
    x = p["embedding"][tokens]
    T, B = tokens.shape
    H = W_hh.shape[1]
    h, c = np.zeros((B, H), x.dtype), np.zeros((B, H), x.dtype)
    cache, hs = [], []
    for t in range(T):
        z = x[t] @ W_ih.T + h @ W_hh.T + b
        i, f = _sigmoid(z[:, :H]), _sigmoid(z[:, H : 2 * H])
        g, o = np.tanh(z[:, 2 * H : 3 * H]), _sigmoid(z[:, 3 * H :])
        c_new = f * c + i * g
        tanh_c = np.tanh(c_new)
        cache.append((h, c, i, f, g, o, tanh_c))
        h, c = o * tanh_c, c_new
        hs.append(h)
    hs_all = np.stack(hs).reshape(T * B, H)
    loss, dlogits = _head_loss(hs_all, targets.reshape(-1), p)
    grads = {"head_w": hs_all.T @ dlogits, "head_b": dlogits.sum(axis=0)}
    dhs = (dlogits @ p["head_w"].T).reshape(T, B, H)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
    dx = np.empty_like(x)
    dh, dc = np.zeros((B, H), x.dtype), np.zeros((B, H), x.dtype)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, tanh_c = cache[t]
        dh = dh + dhs[t]
        dc = dc + dh * o * (1 - tanh_c**2)
        dz = np.concatenate(
            [
                dc * g * i * (1 - i),
                dc * c_prev * f * (1 - f),
                dc * i * (1 - g**2),
                dh * tanh_c * o * (1 - o),
            ],
            axis=1,
        )
        dW_ih += dz.T @ x[t]
        dW_hh += dz.T @ h_prev
        db += dz.sum(axis=0)
        dx[t] = dz @ W_ih
        dh, dc = dz @ W_hh, dc * f
    d_embedding = np.zeros_like(p["embedding"])
    np.add.at(d_embedding, tokens, dx)
    grads |= {"weight_ih": dW_ih, "weight_hh": dW_hh, "bias_ih": db, "bias_hh": db.copy()}
    grads["embedding"] = d_embedding
    _sgd(params, grads, lr)
    return loss, grads


def fused_step(params: Params, tokens: np.ndarray, targets: np.ndarray, lr: float) -> Any:
    """One SGD step with the engine's strategy, by hand (see the module docstring)."""
    p = params
    W_ih, W_hh = p["weight_ih"], p["weight_hh"]
    x = p["embedding"][tokens]
    T, B = tokens.shape
    H = W_hh.shape[1]
    xproj = x.reshape(T * B, -1) @ W_ih.T
    xproj += p["bias_ih"] + p["bias_hh"]
    xproj = xproj.reshape(T, B, 4 * H)
    gates = np.empty((T, B, 4 * H), x.dtype)  # i f g o after their nonlinearities
    hs = np.zeros((T + 1, B, H), x.dtype)  # hs[t + 1] = h_t; hs[0] = h_{-1} = 0
    cs = np.zeros((T + 1, B, H), x.dtype)
    tanh_cs = np.empty((T, B, H), x.dtype)
    for t in range(T):
        z = xproj[t] + hs[t] @ W_hh.T
        a = gates[t]
        a[:] = _sigmoid(z)
        np.tanh(z[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * g
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    hs_all = hs[1:].reshape(T * B, H)
    loss, dlogits = _head_loss(hs_all, targets.reshape(-1), p)
    grads = {"head_w": hs_all.T @ dlogits, "head_b": dlogits.sum(axis=0)}
    dhs = (dlogits @ p["head_w"].T).reshape(T, B, H)
    dz = np.empty((T, B, 4 * H), x.dtype)
    dh, dc = np.zeros((B, H), x.dtype), np.zeros((B, H), x.dtype)
    for t in reversed(range(T)):
        a, d = gates[t], dz[t]
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        dh += dhs[t]
        dc += dh * o * (1 - tanh_cs[t] ** 2)
        np.multiply(dc * g, i * (1 - i), out=d[:, :H])
        np.multiply(dc * cs[t], f * (1 - f), out=d[:, H : 2 * H])
        np.multiply(dc * i, 1 - g * g, out=d[:, 2 * H : 3 * H])
        np.multiply(dh * tanh_cs[t], o * (1 - o), out=d[:, 3 * H :])
        dh = d @ W_hh
        dc *= f
    dz_all = dz.reshape(T * B, 4 * H)
    db = dz_all.sum(axis=0)
    grads |= {
        "weight_ih": dz_all.T @ x.reshape(T * B, -1),
        "weight_hh": dz_all.T @ hs[:-1].reshape(T * B, H),
        "bias_ih": db,
        "bias_hh": db.copy(),
    }
    one_hot = np.eye(len(p["embedding"]), dtype=x.dtype)[tokens.reshape(-1)]
    grads["embedding"] = one_hot.T @ (dz_all @ W_ih)  # every row's sum as one matmul
    _sgd(params, grads, lr)
    return loss, grads
