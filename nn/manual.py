"""The notes' hand-derived backpropagation, in plain numpy (no engine import).

This module is the reference the engine is tested against: each gradient is the
formula from the lecture notes, written out with matrix products. The loss is
softmax cross-entropy averaged over the ``m`` examples of the batch, with
``S = softmax(logits)`` and ``I_y`` the one-hot labels, so the gradient reaching
the logits is ``(S - I_y) / m``. An optional weight decay ``lam/2 * sum ||W||²``
(weights only, not biases) adds ``lam * W`` to each weight's gradient.

Activation derivatives at the kink follow the engine (and PyTorch):
``relu'(0) = 0``, ``leaky_relu'(0) = 0.01``.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, Z_i, G_i) are kept

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

LEAKY_RELU_SLOPE = 0.01

Activation = tuple[
    Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]
]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-a)`` without overflow (uses ``e^-|a|`` only)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1, e) / (1 + e)


#: name -> (σ(a), σ'(a) given the pre-activation ``a`` and the output ``z = σ(a)``)
ACTIVATIONS: dict[str, Activation] = {
    "relu": (lambda a: np.maximum(a, 0), lambda a, z: (a > 0).astype(a.dtype)),
    "sigmoid": (sigmoid, lambda a, z: z * (1 - z)),
    "tanh": (np.tanh, lambda a, z: 1 - z * z),
    "leaky_relu": (
        lambda a: np.where(a > 0, a, LEAKY_RELU_SLOPE * a),
        lambda a, z: np.where(a > 0, 1.0, LEAKY_RELU_SLOPE).astype(a.dtype),
    ),
    "identity": (lambda a: a, lambda a, z: np.ones_like(a)),
}


def _activation(name: str) -> Activation:
    if name not in ACTIVATIONS:
        raise ValueError(
            f"nn.manual: unknown activation {name!r}; use one of {sorted(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of ``(m, k)`` logits and its gradient ``(S - I_y)/m``.

    ``y`` is int labels ``(m,)`` or one-hot / probabilities ``(m, k)``.
    """
    m, k = logits.shape
    y = np.asarray(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_s = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    one_hot = np.eye(k, dtype=logits.dtype)[y] if y.dtype.kind in "iu" else y.astype(logits.dtype)
    if one_hot.shape != (m, k):
        raise ValueError(
            f"nn.manual: labels of shape {y.shape} do not fit logits of shape {(m, k)}; "
            f"give int labels ({m},) or one-hot ({m}, {k})"
        )
    loss = -float(np.sum(one_hot * log_s)) / m
    return loss, (np.exp(log_s) - one_hot) / m


def _check_chain(X: np.ndarray, weights: Sequence[np.ndarray]) -> None:
    if X.ndim != 2:
        raise ValueError(f"nn.manual: X must be an (m, n) matrix, got shape {X.shape}")
    width = X.shape[1]
    for i, W in enumerate(weights):
        if W.ndim != 2 or W.shape[0] != width:
            raise ValueError(
                f"nn.manual: weight {i} has shape {W.shape}, expected ({width}, n_{i + 2}) "
                f"to multiply the previous layer's {width} columns"
            )
        width = W.shape[1]


def _weight_decay(loss: float, grads: list[np.ndarray], weights: Sequence[np.ndarray], lam: float):
    """Add ``lam/2 sum ||W||²`` to the loss and ``lam W`` to each weight gradient."""
    if not lam:
        return loss, grads
    loss += lam / 2 * sum(float(np.sum(W * W)) for W in weights)
    return loss, [g + lam * W for g, W in zip(grads, weights)]


def two_layer_grads(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    activation: str = "relu",
    lam: float = 0.0,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and gradients of ``h(X) = σ(X W1) W2`` (notes, section 2).

    With ``S = softmax(σ(X W1) W2)``::

        dW2 = σ(X W1)ᵀ (S - I_y) / m
        dW1 = Xᵀ ((S - I_y) / m W2ᵀ ∘ σ'(X W1))

    Returns ``(loss, dW1, dW2)``; ``lam`` adds weight decay (module docstring).
    """
    X, W1, W2 = np.asarray(X), np.asarray(W1), np.asarray(W2)
    _check_chain(X, (W1, W2))
    sigma, sigma_prime = _activation(activation)
    A = X @ W1
    Z = sigma(A)
    loss, G = softmax_cross_entropy(Z @ W2, y)  # G = (S - I_y) / m
    dW2 = Z.T @ G
    dW1 = X.T @ ((G @ W2.T) * sigma_prime(A, Z))
    loss, (dW1, dW2) = _weight_decay(loss, [dW1, dW2], (W1, W2), lam)
    return loss, dW1, dW2


def mlp_grads(
    X: np.ndarray,
    y: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray] | None = None,
    activation: str = "relu",
    lam: float = 0.0,
) -> tuple[float, list[np.ndarray], list[np.ndarray] | None]:
    """Loss and gradients of the L-layer network by the notes' ``G_i`` recursion (section 3).

    Forward, caching every ``Z_i``: ``Z_1 = X``, ``Z_{i+1} = σ(Z_i W_i + b_i)``,
    no activation after the last layer (its output is the logits). Backward::

        G_{L+1} = (S - I_y) / m
        ∇W_i = Z_iᵀ (G_{i+1} ∘ σ_i'(Z_i W_i + b_i)),  ∇b_i = 1ᵀ (G_{i+1} ∘ σ_i'(...))
        G_i  = (G_{i+1} ∘ σ_i'(Z_i W_i + b_i)) W_iᵀ

    with ``σ_L' = 1``. Returns ``(loss, dWs, dbs)``; ``dbs`` is None when
    ``biases`` is. ``lam`` adds weight decay on the weights only.
    """
    X = np.asarray(X)
    weights = [np.asarray(W) for W in weights]
    _check_chain(X, weights)
    if biases is not None:
        biases = [np.asarray(b) for b in biases]
        shapes = [b.shape for b in biases]
        if shapes != [(W.shape[1],) for W in weights]:
            raise ValueError(
                f"nn.manual: biases have shapes {shapes}, expected "
                f"{[(W.shape[1],) for W in weights]} (one vector per layer)"
            )
    sigma, sigma_prime = _activation(activation)
    Zs, As = [X], []
    for i, W in enumerate(weights):
        A = Zs[-1] @ W if biases is None else Zs[-1] @ W + biases[i]
        As.append(A)
        if i < len(weights) - 1:
            Zs.append(sigma(A))
    loss, delta = softmax_cross_entropy(As[-1], y)  # G_{L+1} ∘ σ_L', σ_L = identity
    dWs: list[np.ndarray] = [np.empty(0)] * len(weights)
    dbs: list[np.ndarray] | None = None if biases is None else [np.empty(0)] * len(weights)
    for i in reversed(range(len(weights))):
        dWs[i] = Zs[i].T @ delta
        if dbs is not None:
            dbs[i] = delta.sum(axis=0)
        if i > 0:
            G = delta @ weights[i].T  # G_i, the gradient w.r.t. Z_i
            delta = G * sigma_prime(As[i - 1], Zs[i])
    loss, dWs = _weight_decay(loss, dWs, weights, lam)
    return loss, dWs, dbs
