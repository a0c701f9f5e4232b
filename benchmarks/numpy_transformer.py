"""A pre-norm transformer encoder block's training step written by hand in numpy.

``x + attn(LN1(x))`` then ``+ W2 relu(W1 LN2(.))``, causal self-attention over
``heads`` heads, loss ``mean((block(x) - target)^2)``, one AdamW step with PyTorch's
update (decoupled weight decay). The straightforward code: every head at once through
batched matmuls, softmax and layer norm by their formulas, each backward step derived
by hand; no fusing beyond what numpy's broadcasting gives. This is the hand-written
numpy floor of ``bench_transformer``.

Parameters are a dict: ``in_w (3 D, D)`` and ``in_b`` (PyTorch's packed projection),
``out_w (D, D)``, ``out_b``, ``w1 (D, F)``, ``b1``, ``w2 (F, D)``, ``b2`` (``(in, out)``,
as ``nn.Linear``), ``ln1_w ln1_b ln2_w ln2_b``.
"""

# ruff: noqa: N803, N806 - matrix names

from __future__ import annotations

import math
from typing import Any

import numpy as np

Params = dict[str, np.ndarray]
EPS = 1e-5


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    mean = x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + EPS)
    xhat = (x - mean) * rstd
    return xhat * w + b, (xhat, rstd, w)


def _layer_norm_back(g: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, rstd, w = cache
    gw = g * w
    dx = rstd * (gw - gw.mean(-1, keepdims=True) - xhat * (gw * xhat).mean(-1, keepdims=True))
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
    return dx, (flat(g) * flat(xhat)).sum(0), flat(g).sum(0)


def step(params: Params, x: np.ndarray, target: np.ndarray, heads: int, state: dict) -> Any:
    """Forward, backward and an AdamW step (``state``: its moments, step count and
    hyper-parameters ``lr``, ``betas``, ``eps``, ``weight_decay``); returns ``(loss, grads)``."""
    p = params
    B, T, D = x.shape
    d = D // heads
    split = lambda a: a.reshape(B, T, heads, d).transpose(0, 2, 1, 3)  # noqa: E731
    merge = lambda a: a.transpose(0, 2, 1, 3).reshape(B, T, D)  # noqa: E731
    # attention block
    h1, ln1 = _layer_norm(x, p["ln1_w"], p["ln1_b"])
    qkv = h1 @ p["in_w"].T + p["in_b"]
    q, k, v = (split(qkv[..., i * D : (i + 1) * D]) for i in range(3))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    scores = np.where(np.tri(T, dtype=bool), scores, -np.inf)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    attn = merge(probs @ v)
    x1 = x + attn @ p["out_w"] + p["out_b"]
    # feed-forward block
    h2, ln2 = _layer_norm(x1, p["ln2_w"], p["ln2_b"])
    pre = h2 @ p["w1"] + p["b1"]
    act = np.maximum(pre, 0)
    out = x1 + act @ p["w2"] + p["b2"]
    loss = float(np.mean((out - target) ** 2))
    # backward
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
    g = 2 * (out - target) / out.size
    grads = {"w2": flat(act).T @ flat(g), "b2": flat(g).sum(0)}
    d_pre = (g @ p["w2"].T) * (pre > 0)
    grads |= {"w1": flat(h2).T @ flat(d_pre), "b1": flat(d_pre).sum(0)}
    dh2, grads["ln2_w"], grads["ln2_b"] = _layer_norm_back(d_pre @ p["w1"].T, ln2)
    g1 = g + dh2
    grads |= {"out_w": flat(attn).T @ flat(g1), "out_b": flat(g1).sum(0)}
    d_heads = split(g1 @ p["out_w"].T)
    dv = probs.transpose(0, 1, 3, 2) @ d_heads
    dp = d_heads @ v.transpose(0, 1, 3, 2)
    ds = probs * (dp - (dp * probs).sum(-1, keepdims=True)) / math.sqrt(d)
    dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
    d_qkv = np.concatenate([merge(dq), merge(dk), merge(dv)], axis=-1)
    grads |= {"in_w": flat(d_qkv).T @ flat(h1), "in_b": flat(d_qkv).sum(0)}
    _, grads["ln1_w"], grads["ln1_b"] = _layer_norm_back(d_qkv @ p["in_w"], ln1)
    _adamw(params, grads, state)
    return loss, grads


def _adamw(params: Params, grads: Params, state: dict) -> None:
    """``torch.optim.AdamW``'s update, in place."""
    lr, (beta1, beta2), eps, decay = (
        state["lr"],
        state["betas"],
        state["eps"],
        state["weight_decay"],
    )
    state["step"] = t = state.get("step", 0) + 1
    for name, grad in grads.items():
        m = state.setdefault(("m", name), np.zeros_like(grad))
        v = state.setdefault(("v", name), np.zeros_like(grad))
        param = params[name]
        param *= 1 - lr * decay
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        param -= (lr / (1 - beta1**t)) * m / denom
