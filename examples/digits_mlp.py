"""An L-layer MLP on the 8x8 handwritten digits: >= 97% test accuracy in a few seconds.

The network is the notes' section 3, ``Z_{i+1} = σ(Z_i W_i + b_i)`` with ReLU and
softmax cross-entropy on the last layer's output, here ``nn.MLP([64, 256, 128, 10])``
trained with Adam on mini-batches. Before training, the engine's gradients on a
batch are checked against ``nn.manual.mlp_grads``, the notes' ``G_i`` recursion::

    G_{L+1} = (S − I_y) / m,   ∇W_i = Z_iᵀ (G_{i+1} ∘ σ'(Z_i W_i + b_i)),
    G_i = (G_{i+1} ∘ σ'(Z_i W_i + b_i)) W_iᵀ

The data is ``nn.data.load_digits()`` (1797 images, shipped with the package),
split 80/20 into training and test sets by a seeded shuffle, each pixel
standardised with the training set's mean and standard deviation. The report
shows the test accuracy after each epoch and a confusion matrix.

Run: ``python examples/digits_mlp.py [--epochs 30] [--seed 0]``.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W_i)

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import autograd as ag
import nn

SIZES = (64, 256, 128, 10)


def split_digits(seed: int, test_fraction: float = 0.2) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_test, y_test``: a seeded split, standardised pixels, float32.

    Each pixel becomes ``(x − μ) / s`` with the training set's mean ``μ`` and
    standard deviation ``s`` (``s = 1`` for pixels that are always blank).
    """
    X, y = nn.data.load_digits()
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    n_test = int(round(test_fraction * len(X)))
    X_train, X_test = X[n_test:], X[:n_test]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scale = lambda part: ((part - mean) / std).astype(np.float32)  # noqa: E731
    return scale(X_train), y[n_test:], scale(X_test), y[:n_test]


def check_against_manual(model: nn.MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Largest |engine − nn.manual.mlp_grads| over all weight and bias gradients (float64)."""
    reference = nn.MLP(model.sizes, dtype=np.float64)
    reference.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    loss = nn.functional.cross_entropy(reference(ag.tensor(X.astype(np.float64))), y)
    loss.backward()
    layers = reference.linears
    weights, biases = [m.weight.numpy() for m in layers], [m.bias.numpy() for m in layers]
    hand_loss, dWs, dbs = nn.manual.mlp_grads(X.astype(np.float64), y, weights, biases)
    diffs = [abs(loss.item() - hand_loss)]
    for layer, dW, db in zip(layers, dWs, dbs):
        diffs += [
            np.max(np.abs(layer.weight.grad.numpy() - dW)),
            np.max(np.abs(layer.bias.grad.numpy() - db)),
        ]
    return float(max(diffs))


def accuracy(model: nn.MLP, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``X`` whose largest logit is the label."""
    with ag.no_grad():
        return float(np.mean(model(ag.tensor(X)).numpy().argmax(axis=1) == y))


def train_epoch(model: nn.Module, loader: nn.data.DataLoader, optimizer: nn.optim.Adam) -> float:
    """One pass over ``loader``, an optimizer step per mini-batch; the mean training loss."""
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


def print_confusion(y: np.ndarray, predicted: np.ndarray, width: int = 4) -> np.ndarray:
    """Print and return the 10×10 confusion matrix (rows: true digit), columns ``width`` wide."""
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:{width}d}" for d in range(10)))
    for d in range(10):
        print(f"{d:4d} " + "".join(f"{n:{width}d}" for n in confusion[d]))
    return confusion


def main(epochs: int = 30, lr: float = 1e-3, batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Check gradients, train, evaluate; print a report.

    Returns ``grad_diff`` (engine vs hand ``G_i`` recursion, float64), ``losses``
    (mean training loss per epoch), ``test_accuracy`` per epoch,
    ``final_test_accuracy``, ``train_accuracy``, ``confusion`` (10×10, rows = true
    digit) and ``seconds`` (training time).
    """
    X_train, y_train, X_test, y_test = split_digits(seed)
    model = nn.MLP(SIZES, rng=seed)
    print(
        f"digits: {len(X_train)} training / {len(X_test)} test images; "
        f"{model.num_parameters()} parameters in nn.MLP({list(SIZES)}), float32"
    )
    grad_diff = check_against_manual(model, X_train[:64], y_train[:64])
    print(
        f"engine vs the notes' G_i recursion (nn.manual.mlp_grads) on a batch of 64: "
        f"largest difference {grad_diff:.1e}"
    )

    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    loader = nn.data.DataLoader(X_train, y_train, batch_size, shuffle=True, rng=seed)
    losses, test_accuracy = [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        losses.append(train_epoch(model, loader, optimizer))
        test_accuracy.append(accuracy(model, X_test, y_test))
        print(f"epoch {epoch + 1:3d}  loss {losses[-1]:.4f}  test accuracy {test_accuracy[-1]:.1%}")
    seconds = time.perf_counter() - start

    with ag.no_grad():
        predicted = model(ag.tensor(X_test)).numpy().argmax(axis=1)
    confusion = print_confusion(y_test, predicted)
    result = {
        "grad_diff": grad_diff,
        "losses": losses,
        "test_accuracy": test_accuracy,
        "final_test_accuracy": test_accuracy[-1],
        "train_accuracy": accuracy(model, X_train, y_train),
        "confusion": confusion,
        "seconds": seconds,
    }
    print(
        f"\ntest accuracy {result['final_test_accuracy']:.2%} (training "
        f"{result['train_accuracy']:.2%}) after {epochs} epochs in {seconds:.1f} s"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.lr, args.batch_size, args.seed)
