"""LeNet-5 by hand in numpy: im2col forward and the hand-derived backward (the floor).

The network of ``bench_cnn``: ``conv 5×5 (1→6) → relu → maxpool 2 → conv 5×5 (6→16) →
relu → maxpool 2 → linear 256→120 → relu → linear 120→84 → relu → linear 84→10``,
softmax cross-entropy, SGD. Written from the formulas, importing nothing from the engine:

- convolution: ``Z[n] = W̃ X̃[n] + b`` with ``X̃[n]`` the ``(C k², OH OW)`` im2col matrix
  of image ``n`` (a strided view copied out);
- its backward: ``∇W̃ = Σ_n G[n] X̃[n]ᵀ``, ``∇b = Σ G``, and ``∇X`` = the columns
  ``W̃ᵀ G[n]`` added back into the windows they came from (col2im, one slice per kernel
  offset);
- 2×2 max pooling on the four strided quarter views: each window's first maximum takes
  the gradient;
- the dense part: the notes' ``G_i`` recursion, starting from ``(S - I_y) / m``.

``LeNetFloor(weights, reuse_buffers=True)`` keeps its im2col matrices between steps (the
memory a step writes is then already mapped); ``reuse_buffers=False`` allocates them
fresh every step, as plain numpy code does.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W, G)

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

KERNEL = 5


def im2col(x: np.ndarray, k: int, out: np.ndarray | None) -> np.ndarray:
    """``(N, C k k, OH OW)``: column ``(i, j)`` of image ``n`` is its ``k × k`` window there."""
    n, c, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    s = x.strides
    windows = as_strided(x, (n, c, k, k, oh, ow), (s[0], s[1], s[2], s[3], s[2], s[3]))
    if out is None:
        return np.ascontiguousarray(windows).reshape(n, c * k * k, oh * ow)
    np.copyto(out.reshape(windows.shape), windows)
    return out


def col2im(cols: np.ndarray, c: int, h: int, w: int, k: int) -> np.ndarray:
    """The adjoint of :func:`im2col`: every column entry added back to its input pixel."""
    n = cols.shape[0]
    oh, ow = h - k + 1, w - k + 1
    cols = cols.reshape(n, c, k, k, oh, ow)
    x = np.zeros((n, c, h, w), cols.dtype)
    for p in range(k):
        for q in range(k):
            x[:, :, p : p + oh, q : q + ow] += cols[:, :, p, q]
    return x


def pool_forward(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2×2 max pooling over the four strided quarter views; returns the output and each
    window's first argmax (0..3, row-major)."""
    quarters = [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    out = np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]))
    index = np.full(out.shape, 3, np.int8)
    for t in (2, 1, 0):
        np.copyto(index, t, where=quarters[t] == out)
    return out, index


def pool_backward(g: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The gradient of :func:`pool_forward`: ``g`` at each window's argmax, 0 elsewhere."""
    n, c, oh, ow = g.shape
    out = np.empty((n, c, 2 * oh, 2 * ow), g.dtype)
    for t, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        np.multiply(g, index == t, out=out[:, :, i::2, j::2])
    return out


class LeNetFloor:
    """One SGD step of LeNet-5 in hand-written numpy; ``weights`` are updated in place.

    ``weights``: ``W1 (6, 1, 5, 5), b1, W2 (16, 6, 5, 5), b2`` (PyTorch's conv layout) and
    ``W3 (256, 120), b3, W4 (120, 84), b4, W5 (84, 10), b5`` (the notes' ``(in, out)``).
    """

    def __init__(self, weights: dict[str, np.ndarray], reuse_buffers: bool = True) -> None:
        self.weights = weights
        self.reuse_buffers = reuse_buffers
        self.buffers: dict[tuple[int, ...], np.ndarray] = {}

    def _cols(self, x: np.ndarray) -> np.ndarray:
        if not self.reuse_buffers:
            return im2col(x, KERNEL, None)
        n, c, h, w = x.shape
        shape = (n, c * KERNEL * KERNEL, (h - KERNEL + 1) * (w - KERNEL + 1))
        if shape not in self.buffers:
            self.buffers[shape] = np.empty(shape, x.dtype)
        return im2col(x, KERNEL, self.buffers[shape])

    def grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """``(loss, gradients)`` of the mean cross-entropy on ``(X, y)``."""
        P = self.weights
        m = len(X)
        # forward
        cols1 = self._cols(X)
        Z1 = (P["W1"].reshape(6, -1) @ cols1).reshape(m, 6, 24, 24) + P["b1"][:, None, None]
        A1, index1 = pool_forward(np.maximum(Z1, 0))
        cols2 = self._cols(A1)
        Z2 = (P["W2"].reshape(16, -1) @ cols2).reshape(m, 16, 8, 8) + P["b2"][:, None, None]
        A2, index2 = pool_forward(np.maximum(Z2, 0))
        F = A2.reshape(m, -1)
        H3 = np.maximum(F @ P["W3"] + P["b3"], 0)
        H4 = np.maximum(H3 @ P["W4"] + P["b4"], 0)
        logits = H4 @ P["W5"] + P["b5"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(np.mean(log_total[:, 0] - shifted[np.arange(m), y]))
        # backward: G = (S - I_y) / m, then layer by layer
        G = np.exp(shifted - log_total)
        G[np.arange(m), y] -= 1
        G /= m
        grads = {"W5": H4.T @ G, "b5": G.sum(axis=0)}
        G = (G @ P["W5"].T) * (H4 > 0)
        grads["W4"], grads["b4"] = H3.T @ G, G.sum(axis=0)
        G = (G @ P["W4"].T) * (H3 > 0)
        grads["W3"], grads["b3"] = F.T @ G, G.sum(axis=0)
        G = pool_backward((G @ P["W3"].T).reshape(A2.shape), index2) * (Z2 > 0)
        G2 = G.reshape(m, 16, -1)
        grads["W2"] = (G2 @ cols2.transpose(0, 2, 1)).sum(axis=0).reshape(P["W2"].shape)
        grads["b2"] = G2.sum(axis=(0, 2))
        dA1 = col2im(P["W2"].reshape(16, -1).T @ G2, 6, 12, 12, KERNEL)
        G1 = (pool_backward(dA1, index1) * (Z1 > 0)).reshape(m, 6, -1)
        grads["W1"] = (G1 @ cols1.transpose(0, 2, 1)).sum(axis=0).reshape(P["W1"].shape)
        grads["b1"] = G1.sum(axis=(0, 2))
        return loss, grads

    def step(self, X: np.ndarray, y: np.ndarray, lr: float) -> tuple[float, dict[str, Any]]:
        """One SGD step (``W -= lr ∇W`` in place); returns the loss and the gradients."""
        loss, grads = self.grads(X, y)
        for name, grad in grads.items():
            self.weights[name] -= lr * grad
        return loss, grads
