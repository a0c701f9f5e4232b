"""The ``topograd`` command: ``topograd demo`` trains the notes' network and draws it.

``topograd demo`` fits the two-layer network ``h(X) = σ(X W1) W2`` (notes, section
2) to a curved dataset (three spiral arms, or two concentric circles), checks the
engine's gradients against the hand-derived formulas of ``nn.manual``, and writes
into an output folder (default ``./topograd-demo/``):

- ``loss_graph.svg`` and ``loss_graph.dot``: the computation graph of the loss that
  backprop walks (the SVG needs Graphviz's ``dot`` program; without it only the
  ``.dot`` file is written);
- ``loss_curve.png``: the training loss per epoch;
- ``decision_boundary.png``: the regions the network assigns to each class.

The pictures need matplotlib and the progress bar tqdm (``pip install
"topograd[demo]"``); without them the demo still trains, checks and draws the graph,
and says what it skipped.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, W2)

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import autograd as ag
from autograd.viz import draw

from . import data, functional, manual, optim
from .mlp import TwoLayerMLP

DATASETS = ("spiral", "circles")
INSTALL_HINT = 'pip install "topograd[demo]"'


def _optional(module: str) -> ModuleType | None:
    """``module`` imported, or None when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse ``type=`` that accepts only positive values of ``kind``."""
    noun = "integer" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``topograd`` argument parser (``--version`` and the ``demo`` command)."""
    parser = argparse.ArgumentParser(
        prog="topograd",
        description="topograd: a reverse-mode autodiff engine on numpy, with the lecture "
        "notes' networks.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {ag.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="train the notes' two-layer network on a curved dataset and draw it",
        description=__doc__.split("\n\n")[1],
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("topograd-demo"),
        help="folder for the pictures (default: ./topograd-demo)",
    )
    demo.add_argument(
        "--dataset",
        choices=DATASETS,
        default="spiral",
        help="spiral: 3 interleaved arms; circles: 2 rings (default: spiral)",
    )
    demo.add_argument(
        "--epochs", type=_positive(int), default=1000, help="full-batch Adam steps (default: 1000)"
    )
    demo.add_argument(
        "--hidden", type=_positive(int), default=64, help="hidden units d, W1: 3×d (default: 64)"
    )
    demo.add_argument(
        "--lr", type=_positive(float), default=0.02, help="Adam learning rate (default: 0.02)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


# ----------------------------------------------------------------------------- data
def with_constant_feature(points: np.ndarray) -> np.ndarray:
    """``[x1, x2, 1]``: the notes' ``x₀ = 1`` trick, so the bias-free ``σ(X W1) W2`` can shift.

    Without it the ReLU network is positively homogeneous (``h(cX) = c h(X)``) and
    cannot separate an inner ring from an outer one along the same direction.
    """
    return np.hstack([points, np.ones((len(points), 1))]).astype(np.float32)


def make_dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """300 points of the dataset ``name`` (``spiral`` or ``circles``), 2-d, int labels."""
    if name == "spiral":
        return data.make_spiral(300, k=3, rng=seed)
    if name == "circles":
        return data.make_circles(300, noise=0.1, rng=seed)
    raise ValueError(f"topograd demo: unknown dataset {name!r}; use one of {DATASETS}")


# ------------------------------------------------------------------------- training
def gradient_difference(model: TwoLayerMLP, X: np.ndarray, y: np.ndarray) -> float:
    """Largest |engine − ``nn.manual.two_layer_grads``| over the loss, ∇W1 and ∇W2, in float64."""
    W1, W2 = (w.numpy().astype(np.float64) for w in (model.W1, model.W2))
    n, d = W1.shape
    twin = TwoLayerMLP(n, d, W2.shape[1], dtype=np.float64)
    twin.load_state_dict({"W1": W1, "W2": W2})
    loss = functional.cross_entropy(twin(ag.tensor(X.astype(np.float64))), y)
    loss.backward()
    hand_loss, dW1, dW2 = manual.two_layer_grads(X.astype(np.float64), y, W1, W2)
    return float(
        max(
            abs(loss.item() - hand_loss),
            np.max(np.abs(twin.W1.grad.numpy() - dW1)),
            np.max(np.abs(twin.W2.grad.numpy() - dW2)),
        )
    )


def accuracy(model: TwoLayerMLP, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points whose largest logit is their label."""
    with ag.no_grad():
        return float(np.mean(model(ag.tensor(X)).numpy().argmax(axis=1) == y))


def train(
    model: TwoLayerMLP,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
) -> list[float]:
    """Full-batch Adam on the mean cross-entropy; returns the loss at every epoch.

    Shows a tqdm progress bar when tqdm is installed, otherwise ten plain lines.
    """
    tqdm = _optional("tqdm")
    optimizer = optim.Adam(model.parameters(), lr=lr)
    inputs = ag.tensor(X)
    steps = range(epochs)
    bar = tqdm.tqdm(steps, desc="training", unit="epoch", leave=False) if tqdm else None
    report_every = max(1, epochs // 10)
    losses = []
    for epoch in bar if bar is not None else steps:
        optimizer.zero_grad()
        loss = functional.cross_entropy(model(inputs), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (epoch + 1) % report_every == 0 or epoch + 1 == epochs:
            if bar is not None:
                bar.set_postfix(loss=f"{losses[-1]:.4f}")
            else:
                print(f"  epoch {epoch + 1:5d}/{epochs}  loss {losses[-1]:.4f}", flush=True)
    if bar is not None:
        bar.close()
    return losses


# ------------------------------------------------------------------------- pictures
def draw_loss_graph(model: TwoLayerMLP, X: np.ndarray, y: np.ndarray, out: Path) -> list[Path]:
    """The loss graph on a 4-point batch as ``.dot`` and, when ``dot`` exists, ``.svg``.

    A small batch keeps the values and gradients printed in the boxes readable; the
    graph's structure does not depend on the batch size.
    """
    x = ag.tensor(X[:4])
    x.name = "X"
    labels = ag.tensor(y[:4])
    labels.name = "y"
    model.zero_grad()
    loss = functional.cross_entropy(model(x), labels)
    loss.name = "loss"
    loss.backward(retain_graph=True)  # keep the values so the picture shows them
    written = [draw(loss, out / "loss_graph.dot")]
    if shutil.which("dot") is None:
        print(
            "Graphviz's `dot` program was not found: wrote loss_graph.dot only (install "
            "Graphviz, e.g. `apt-get install graphviz`, to render loss_graph.svg)"
        )
    else:
        written.append(draw(loss, out / "loss_graph.svg"))
    model.zero_grad()
    return written


def plot_loss_curve(figure_cls: Any, losses: Sequence[float], path: Path) -> Path:
    """Training loss per epoch (log scale) as a PNG."""
    figure = figure_cls(figsize=(6, 4), dpi=100)
    axes = figure.add_subplot()
    axes.plot(np.arange(1, len(losses) + 1), losses, color="#cc7700")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("mean cross-entropy (training)")
    axes.set_title("σ(X W1) W2: training loss")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    return path


def plot_decision_boundary(
    figure_cls: Any,
    model: TwoLayerMLP,
    points: np.ndarray,
    y: np.ndarray,
    title: str,
    path: Path,
) -> Path:
    """The class the network predicts over a grid around ``points``, with the points on top."""
    lo, hi = points.min(axis=0) - 0.25, points.max(axis=0) + 0.25
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    grid = with_constant_feature(np.stack([gx.ravel(), gy.ravel()], axis=1))
    with ag.no_grad():
        regions = model(ag.tensor(grid)).numpy().argmax(axis=1).reshape(gx.shape)
    k = int(y.max()) + 1
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3"][:k]
    figure = figure_cls(figsize=(5.5, 5), dpi=100)
    axes = figure.add_subplot()
    axes.contourf(gx, gy, regions, levels=np.arange(k + 1) - 0.5, colors=colors, alpha=0.3)
    for label in range(k):
        mask = y == label
        axes.scatter(
            points[mask, 0],
            points[mask, 1],
            s=12,
            color=colors[label],
            edgecolors="black",
            linewidths=0.3,
            label=f"class {label}",
        )
    axes.set_title(title)
    axes.set_aspect("equal")
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    return path


# ----------------------------------------------------------------------------- demo
def run_demo(
    out: Path | str = "topograd-demo",
    dataset: str = "spiral",
    epochs: int = 1000,
    hidden: int = 64,
    lr: float = 0.02,
    seed: int = 0,
) -> dict[str, Any]:
    """Train, check and draw (see the module docstring); print a report.

    Returns ``grad_diff`` (largest engine vs ``nn.manual`` difference, float64,
    before and after training), ``losses``, ``train_accuracy``, ``test_accuracy``
    (on a fresh sample of the same dataset), ``files`` (the paths written),
    ``skipped`` (what could not be made, and why) and ``seconds``.
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    points, y = make_dataset(dataset, seed)
    test_points, test_y = make_dataset(dataset, seed + 1)
    X, X_test = with_constant_feature(points), with_constant_feature(test_points)
    k = int(y.max()) + 1
    model = TwoLayerMLP(X.shape[1], hidden, k, activation="relu", rng=seed)
    print(
        f"topograd demo: h(X) = relu(X W1) W2 on {dataset} ({len(X)} points, {k} classes), "
        f"W1: {X.shape[1]}×{hidden}, W2: {hidden}×{k}; input x = (x1, x2, 1)"
    )

    diff_before = gradient_difference(model, X, y)
    losses = train(model, X, y, epochs, lr)
    diff_after = gradient_difference(model, X, y)
    grad_diff = max(diff_before, diff_after)
    train_acc, test_acc = accuracy(model, X, y), accuracy(model, X_test, test_y)
    print(
        f"trained {epochs} epochs of full-batch Adam (lr {lr}): loss {losses[0]:.4f} → "
        f"{losses[-1]:.4f}; accuracy {train_acc:.1%} on the training points, "
        f"{test_acc:.1%} on {len(X_test)} new points"
    )
    print(
        f"gradient check: engine vs nn.manual.two_layer_grads (the notes' ∇W1, ∇W2), "
        f"float64, before and after training: largest difference {grad_diff:.1e}"
    )

    files = draw_loss_graph(model, X, y, out)
    skipped = []
    if shutil.which("dot") is None:
        skipped.append("loss_graph.svg (Graphviz's dot not found)")
    figure_module = _optional("matplotlib.figure")
    if figure_module is None:
        skipped += ["loss_curve.png", "decision_boundary.png"]
        print(
            f"matplotlib is not installed: skipped loss_curve.png and decision_boundary.png "
            f"({INSTALL_HINT} to get them)"
        )
    else:
        title = f"{dataset}: relu(X W1) W2, d = {hidden}, test accuracy {test_acc:.1%}"
        files.append(plot_loss_curve(figure_module.Figure, losses, out / "loss_curve.png"))
        files.append(
            plot_decision_boundary(
                figure_module.Figure, model, points, y, title, out / "decision_boundary.png"
            )
        )
    if _optional("tqdm") is None:
        print(f"(tqdm is not installed: plain progress lines instead of a bar; {INSTALL_HINT})")
    seconds = time.perf_counter() - start
    print(f"\nwrote to {out}/:")
    for path in files:
        print(f"  {path.name:24s} {path.stat().st_size:>9,d} bytes")
    print(f"done in {seconds:.1f} s")
    return {
        "grad_diff": grad_diff,
        "losses": losses,
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "files": files,
        "skipped": skipped,
        "seconds": seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``topograd`` console script; returns the exit status.

    Bad arguments print a usage message and exit with status 2 (argparse's
    convention); an output folder that cannot be written exits with status 1.
    """
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        try:
            run_demo(args.out, args.dataset, args.epochs, args.hidden, args.lr, args.seed)
        except OSError as exc:
            print(f"topograd demo: cannot write to {str(args.out)!r}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
