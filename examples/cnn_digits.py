"""A LeNet-style CNN on the 8x8 handwritten digits, next to the README's MLP; or on MNIST.

The shipped digits become images ``(N, 1, 8, 8)`` on the MLP example's split
(``digits_mlp.split_digits``: the same seeded 80/20 shuffle, pixels standardised with
the training set's statistics), so the two test accuracies compare like for like.
The network::

    conv 3×3 (1→16, padding 1) → batch norm → relu → maxpool 2      8×8 → 4×4
    conv 3×3 (16→32, padding 1) → batch norm → relu → maxpool 2     4×4 → 2×2
    flatten (128) → linear 128→64 → relu → linear 64→10

trained with Adam on mini-batches of 32, softmax cross-entropy. Before training, the
engine's gradient of the loss in two input images (float64, through every layer's VJP)
is checked entry by entry against central differences (``ag.gradcheck``).

Given a folder of MNIST IDX files (``--mnist DIR``: ``train-images-idx3-ubyte[.gz]``
and the three others, read by ``nn.data.load_mnist``), the same script trains LeNet-5
(conv 5×5 1→6, relu, maxpool 2, conv 5×5 6→16, relu, maxpool 2, linear 256→120→84→10)
on the 60,000 training images and tests on the 10,000 others.

The report: test accuracy per epoch, a confusion matrix, and (digits) the MLP's
98.05% for comparison.

Run: ``python examples/cnn_digits.py [--epochs 12] [--seed 0] [--mnist DIR]``;
``--draw examples/images/cnn_graph.svg`` draws the README's picture of the CNN's graph.
"""

# ruff: noqa: N803, N806 - matrix names (X)

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn

#: The README's MLP on the same split (examples/digits_mlp.py, 30 epochs).
MLP_TEST_ACCURACY = 0.9805


def _load_digits_mlp() -> Any:
    """The MLP example (its split, training epoch and confusion matrix), from the file
    beside this one."""
    spec = importlib.util.spec_from_file_location(
        "digits_mlp", Path(__file__).resolve().parent / "digits_mlp.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


digits_mlp = _load_digits_mlp()


def digits_cnn(seed: int) -> nn.Sequential:
    """The LeNet-style network for 8×8 digits (float32, seeded initialisation)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=seed), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=seed + 1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(128, 64, rng=seed + 2), nn.ReLU(), nn.Linear(64, 10, rng=seed + 3),
    )  # fmt: skip


def lenet5(seed: int) -> nn.Sequential:
    """LeNet-5 for 28×28 images (no padding: 28 → 24 → 12 → 8 → 4)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, rng=seed), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=seed + 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120, rng=seed + 2), nn.ReLU(), nn.Linear(120, 84, rng=seed + 3),
        nn.ReLU(), nn.Linear(84, 10, rng=seed + 4),
    )  # fmt: skip


def load_images(mnist: str | None, seed: int) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_test, y_test`` as float32 images ``(n, 1, side, side)``."""
    if mnist is None:
        X_train, y_train, X_test, y_test = digits_mlp.split_digits(seed)
    else:
        (X_train, y_train), (X_test, y_test) = (
            nn.data.load_mnist(mnist, kind) for kind in ("train", "test")
        )
        mean, std = X_train.mean(), X_train.std()
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    side = int(round(np.sqrt(X_train.shape[1])))
    as_images = lambda X: X.reshape(len(X), 1, side, side).astype(np.float32)  # noqa: E731
    return as_images(X_train), y_train, as_images(X_test), y_test


def gradient_check(model: nn.Module, build: Any, X: np.ndarray, y: np.ndarray) -> bool:
    """``ag.gradcheck`` of the loss in the input images (every entry against central
    differences), through every layer's VJP, on a float64 copy of ``model`` in eval mode
    (batch norm with fixed statistics)."""
    reference = build(0).double()
    reference.load_state_dict(model.state_dict())
    reference.eval()
    loss = lambda images: nn.functional.cross_entropy(reference(images), y)  # noqa: E731
    return ag.gradcheck(loss, [X.astype(np.float64)])


def accuracy_and_predictions(model: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, Any]:
    """Test accuracy and predicted labels, in eval mode, without recording a graph."""
    model.eval()
    with ag.no_grad():
        predicted = np.concatenate(
            [
                model(ag.tensor(X[i : i + 1000])).numpy().argmax(axis=1)
                for i in range(0, len(X), 1000)
            ]
        )
    model.train()
    return float(np.mean(predicted == y)), predicted


def draw_graph(path: str, seed: int = 0) -> Path:
    """Draw the digits CNN's graph for a batch of 2 after ``backward()`` (module clusters,
    one op node per conv and pool with its kernel, stride and padding) to ``path``."""
    X_train, y_train, _, _ = load_images(None, seed)
    model = digits_cnn(seed)
    loss = nn.functional.cross_entropy(model(ag.tensor(X_train[:2])), y_train[:2])
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return ag.draw(loss, path, show_data=False)


def main(
    epochs: int = 12,
    lr: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
    mnist: str | None = None,
) -> dict[str, Any]:
    """Train, evaluate and print a report; returns the numbers.

    ``gradcheck`` (bool), ``losses`` (mean training loss per epoch), ``test_accuracy``
    per epoch, ``final_test_accuracy``, ``confusion`` (10×10, rows = true digit),
    ``seconds`` (training time), ``mlp_test_accuracy`` (digits only) and ``images``.
    """
    ag.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_images(mnist, seed)
    build = digits_cnn if mnist is None else lenet5
    model = build(seed)
    side = X_train.shape[-1]
    print(
        f"{'MNIST' if mnist else 'digits'}: {len(X_train)} training / {len(X_test)} test "
        f"images of 1×{side}×{side}; {model.num_parameters()} parameters, float32"
    )
    count = max(1, 128 // X_train[0].size)  # 2 digits or 1 MNIST image: 128 or 784 entries
    checked = gradient_check(model, build, X_train[:count], y_train[:count])
    verdict = "passed" if checked else "FAILED"
    print(f"gradcheck of the loss in {count} input image(s), float64: {verdict}")
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    loader = nn.data.DataLoader(X_train, y_train, batch_size, shuffle=True, rng=seed)
    losses, test_accuracy = [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        losses.append(digits_mlp.train_epoch(model, loader, optimizer))
        test_accuracy.append(accuracy_and_predictions(model, X_test, y_test)[0])
        print(f"epoch {epoch + 1:3d}  loss {losses[-1]:.4f}  test accuracy {test_accuracy[-1]:.2%}")
    seconds = time.perf_counter() - start
    final, predicted = accuracy_and_predictions(model, X_test, y_test)
    confusion = digits_mlp.print_confusion(y_test, predicted, width=5)
    print(f"\nCNN test accuracy {final:.2%} after {epochs} epochs in {seconds:.1f} s")
    result = {
        "gradcheck": checked,
        "losses": losses,
        "test_accuracy": test_accuracy,
        "final_test_accuracy": final,
        "confusion": confusion,
        "seconds": seconds,
        "images": X_train.shape[1:],
        "mlp_test_accuracy": None if mnist else MLP_TEST_ACCURACY,
    }
    if mnist is None:
        print(f"MLP (examples/digits_mlp.py) on the same split: {MLP_TEST_ACCURACY:.2%}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mnist", metavar="DIR", help="a folder of MNIST IDX files")
    parser.add_argument("--draw", metavar="PATH", help="only draw the CNN's graph (.svg, .dot)")
    args = parser.parse_args()
    if args.draw:
        print(f"wrote {draw_graph(args.draw, args.seed)}")
    else:
        main(args.epochs, args.lr, args.batch_size, args.seed, args.mnist)
