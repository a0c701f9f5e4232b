"""Draw the notes' two-layer network: the README picture and a backward walkthrough.

The network is the notes' ``loss = softmax_cross_entropy(relu(X @ W1) @ W2, y)``
(``X: 4×3``, ``W1: 3×5``, ``W2: 5×2``, no bias), built from plain ``ag`` ops with
named tensors, after ``backward(retain_graph=True)`` so the picture shows both the
values of every tensor and the gradients of ``W1`` and ``W2``.

Writes ``examples/images/two_layer_graph.svg`` and ``.dot`` (the README picture),
then a walkthrough of the backward pass (one SVG per VJP the engine runs, and an
``index.html`` to step through them with the arrow keys) into the folder given on
the command line (default ``./topograd-walkthrough``). The walkthrough replays the
notes' hand derivation: ``G = S - I_y`` (divided by ``m``) at the loss, then
``∇W2 = σ(XW1)ᵀ G``, the gradient through the ReLU, and ``∇W1 = Xᵀ (...)``.

Run: ``python examples/draw_graphs.py [walkthrough-folder]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd as ag
from autograd.viz import backward_steps, draw

IMAGES = Path(__file__).resolve().parent / "images"


def named(tensor: ag.Tensor, name: str) -> ag.Tensor:
    """Give ``tensor`` the label shown in pictures, and return it."""
    tensor.name = name
    return tensor


def two_layer_loss(seed: int = 0) -> ag.Tensor:
    """The notes' two-layer network's loss on a 4-example batch, tensors named."""
    rng = np.random.default_rng(seed)
    x = named(ag.tensor(rng.normal(size=(4, 3))), "X")
    w1 = named(ag.tensor(rng.normal(size=(3, 5)) * 0.5, requires_grad=True), "W1")
    w2 = named(ag.tensor(rng.normal(size=(5, 2)) * 0.5, requires_grad=True), "W2")
    y = named(ag.tensor(np.array([0, 1, 1, 0])), "y")
    z2 = named(ag.relu(named(x @ w1, "XW1")), "Z2 = σ(XW1)")
    logits = named(z2 @ w2, "Z3 (logits)")
    return named(ag.softmax_cross_entropy(logits, y), "loss")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("walkthrough", nargs="?", default="topograd-walkthrough")
    args = parser.parse_args()

    loss = two_layer_loss()
    loss.backward(retain_graph=True)  # keep intermediate values for the picture
    IMAGES.mkdir(exist_ok=True)
    for suffix in (".svg", ".dot"):
        path = draw(loss, IMAGES / f"two_layer_graph{suffix}", legend=True)
        print(f"wrote {path} ({path.stat().st_size} bytes)")

    files = backward_steps(two_layer_loss(), args.walkthrough)
    print(f"wrote {len(files) - 2} backward steps (+ the start frame) and {files[-1]}")


if __name__ == "__main__":
    main()
