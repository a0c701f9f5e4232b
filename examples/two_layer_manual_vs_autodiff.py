"""The notes' two-layer network: hand-derived gradients (section 2) against the engine.

``h(X) = σ(X W1) W2`` with softmax cross-entropy averaged over the batch. With
``S = softmax(h(X))`` and ``I_y`` the one-hot labels, the notes derive::

    ∇W2 = σ(X W1)ᵀ (S − I_y) / m
    ∇W1 = Xᵀ ((S − I_y) W2ᵀ ∘ σ'(X W1)) / m

``nn.manual.two_layer_grads`` is exactly these lines of numpy; the engine gets the
same numbers by walking the graph of ``nn.TwoLayerMLP`` backwards, knowing only each
primitive's VJP. The script

1. compares both gradients for every activation the notes list (float64), and
2. trains two copies of the network on the spiral data, one by ``loss.backward()``
   and ``nn.optim.SGD``, one by the hand formulas and ``W -= lr * dW``, and shows
   that their weights stay equal to rounding all the way.

The network has no biases, so (as in the notes' ``θᵀx`` with ``x₀ = 1``) a
constant feature 1 is appended to each input: without it a ReLU network is
positively homogeneous, ``h(cX) = c h(X)``, and cannot tell the spiral's inner
and outer turns apart along the same direction.

Run: ``python examples/two_layer_manual_vs_autodiff.py [--steps 500] [--hidden 64]``.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, W2)

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import autograd as ag
import nn

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")


def engine_grads(model: nn.TwoLayerMLP, X: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """``(loss, dW1, dW2)`` from the engine: forward, cross-entropy, ``backward()``."""
    model.zero_grad()
    loss = nn.functional.cross_entropy(model(ag.tensor(X)), y)
    loss.backward()
    return loss.item(), model.W1.grad.numpy(), model.W2.grad.numpy()


def compare(X: np.ndarray, y: np.ndarray, hidden: int, activation: str, seed: int) -> dict:
    """Largest |engine − hand| over the loss, ``dW1`` and ``dW2`` for one activation."""
    model = nn.TwoLayerMLP(
        X.shape[1], hidden, int(y.max()) + 1, activation, dtype=np.float64, rng=seed
    )
    ours = engine_grads(model, X, y)
    hand = nn.manual.two_layer_grads(X, y, model.W1.numpy(), model.W2.numpy(), activation)
    return {
        name: float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for name, a, b in zip(("loss", "dW1", "dW2"), ours, hand)
    }


def train_side_by_side(
    X: np.ndarray, y: np.ndarray, hidden: int, steps: int, lr: float, seed: int
) -> dict[str, Any]:
    """Full-batch gradient descent twice, by the engine and by hand, from the same start."""
    model = nn.TwoLayerMLP(X.shape[1], hidden, int(y.max()) + 1, dtype=np.float64, rng=seed)
    W1, W2 = model.W1.numpy().copy(), model.W2.numpy().copy()
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    losses, weight_gap = [], 0.0
    for _ in range(steps):
        loss, _, _ = engine_grads(model, X, y)
        optimizer.step()
        hand_loss, dW1, dW2 = nn.manual.two_layer_grads(X, y, W1, W2)
        W1 -= lr * dW1
        W2 -= lr * dW2
        losses.append(loss)
        gap = max(np.max(np.abs(model.W1.numpy() - W1)), np.max(np.abs(model.W2.numpy() - W2)))
        weight_gap = max(weight_gap, float(gap), abs(loss - hand_loss))
    with ag.no_grad():
        predicted = model(ag.tensor(X)).numpy().argmax(axis=1)
    return {"losses": losses, "max_gap": weight_gap, "accuracy": float(np.mean(predicted == y))}


def main(hidden: int = 64, steps: int = 500, lr: float = 2.0, seed: int = 0) -> dict[str, Any]:
    """Compare gradients for each activation, then train both ways; print a report.

    Returns ``grad_diffs`` (activation -> {"loss", "dW1", "dW2"} largest absolute
    differences), ``max_gap`` (largest weight or loss difference between the two
    training runs over all steps), ``losses`` (the engine run's) and ``accuracy``
    (training accuracy of the engine-trained network).
    """
    X, y = nn.data.make_spiral(300, k=3, rng=seed)
    X = np.hstack([X, np.ones((len(X), 1))])  # x₀ = 1 (the bias trick)
    print(
        f"spiral data with x₀ = 1: X {X.shape}, {int(y.max()) + 1} classes; network σ(X W1) W2, "
        f"W1: {X.shape[1]}×{hidden}, W2: {hidden}×{int(y.max()) + 1}, float64\n"
    )
    print(f"{'activation':12s}{'|Δ loss|':>12s}{'max |Δ dW1|':>14s}{'max |Δ dW2|':>14s}")
    grad_diffs = {}
    for activation in ACTIVATIONS:
        grad_diffs[activation] = diffs = compare(X, y, hidden, activation, seed)
        print(f"{activation:12s}{diffs['loss']:12.1e}{diffs['dW1']:14.1e}{diffs['dW2']:14.1e}")
    run = train_side_by_side(X, y, hidden, steps, lr, seed)
    print(
        f"\n{steps} steps of gradient descent (lr {lr}) by engine and by hand: "
        f"loss {run['losses'][0]:.3f} → {run['losses'][-1]:.3f}, training accuracy "
        f"{run['accuracy']:.1%}; largest difference between the two runs: "
        f"{run['max_gap']:.1e}"
    )
    return {"grad_diffs": grad_diffs, **run}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64, help="hidden units d")
    parser.add_argument("--steps", type=int, default=500, help="gradient-descent steps")
    parser.add_argument("--lr", type=float, default=2.0, help="learning rate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.hidden, args.steps, args.lr, args.seed)
