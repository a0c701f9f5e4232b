"""Quickstart: a gradient checked against its closed form, and a picture of its graph.

Run: ``python examples/quickstart.py [OUT_DIR]`` (default ``examples/output/quickstart/``,
not tracked by git).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

import autograd as ag

OUTPUT = Path(__file__).resolve().parent / "output" / "quickstart"


def main(out_dir: str | Path = OUTPUT) -> dict[str, float]:
    """Differentiate ``y = sum x tanh x``; compare with ``tanh x + x (1 - tanh² x)``."""
    x = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x.name = "x"
    y = (ag.tanh(x) * x).sum()
    y.name = "y"
    y.backward(retain_graph=True)  # keep the values for the picture
    closed_form = np.tanh(x.data) + x.data * (1 - np.tanh(x.data) ** 2)
    difference = float(np.max(np.abs(x.grad.numpy() - closed_form)))
    print("y = sum(x * tanh x) =", y.item())
    print("dy/dx (engine)      =", x.grad.numpy())
    print("closed form         =", closed_form)
    print("max |difference|    =", difference)

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    picture = folder / ("graph.svg" if shutil.which("dot") else "graph.dot")
    ag.draw(y, picture)
    print("graph written to    ", picture)
    return {"y": y.item(), "max_difference": difference}


if __name__ == "__main__":
    main(*sys.argv[1:])
