"""How long drawing takes: DOT text for a 10,000-node graph and a 50-layer MLP's loss.

Times ``ag.viz.to_dot(root).source`` (walking the graph, formatting every label,
producing the DOT text; best of a few runs) for

- a chain of 10,000 graph nodes (``tanh`` then ``* 1.01``, repeated) on a 4-vector,
  with and without values in the labels (the picture has ~25,000 boxes: ops, their
  outputs and the scalar constants);
- the loss graph of a 50-layer MLP (``nn.MLP`` when it exists, so module clusters
  are drawn; otherwise the same ``Z W + b``/ReLU layers from plain ``ag`` ops), and
  the time Graphviz's ``dot`` takes to lay it out as SVG (not in ``quick`` mode).

Run: ``python benchmarks/bench_viz.py [--quick]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
from autograd.node import ancestors
from autograd.viz import to_dot


def _best(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def chain(n_nodes: int) -> ag.Tensor:
    """A scalar whose graph is a chain of ``n_nodes`` nodes (tanh, multiply, ..., sum)."""
    x = ag.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True)
    y = x
    for _ in range((n_nodes - 1) // 2):
        y = ag.tanh(y) * 1.01
    return y.sum()


def mlp_loss(layers: int, width: int = 16, batch: int = 8) -> ag.Tensor:
    """Softmax cross-entropy of a ``layers``-layer MLP (``nn.MLP`` if available)."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(batch, width)))
    y = rng.integers(0, width, size=batch)
    try:
        import nn

        model = nn.MLP([width] * (layers + 1), rng=rng)
    except (ImportError, AttributeError):
        h = x
        for i in range(layers):
            w = ag.tensor(rng.normal(size=(width, width)) / width**0.5, requires_grad=True)
            b = ag.tensor(np.zeros(width), requires_grad=True)
            w.name, b.name = f"layers.{i}.weight", f"layers.{i}.bias"
            h = h @ w + b
            h = ag.relu(h) if i < layers - 1 else h
        return ag.softmax_cross_entropy(h, y)
    return ag.softmax_cross_entropy(model(x), y)


def count_nodes(root: ag.Tensor) -> int:
    """Number of graph nodes behind ``root``."""
    return len(ancestors(root._node))


def run(quick: bool = False) -> dict[str, float]:
    """Timings in seconds (and sizes) of building DOT for the graphs above."""
    repeats = 1 if quick else 3
    results: dict[str, float] = {}
    big = chain(2_001 if quick else 10_001)
    results["chain_nodes"] = count_nodes(big)
    results["chain_dot_s"] = _best(lambda: to_dot(big).source, repeats)
    results["chain_dot_no_data_s"] = _best(lambda: to_dot(big, show_data=False).source, repeats)
    loss = mlp_loss(50)
    results["mlp50_nodes"] = count_nodes(loss)
    results["mlp50_dot_s"] = _best(lambda: to_dot(loss).source, repeats)
    if not quick:
        graph = to_dot(loss)
        results["mlp50_svg_render_s"] = _best(lambda: graph.pipe(format="svg"), 1)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    for key, value in run(parser.parse_args().quick).items():
        print(f"{key:24s} {value:.4f}" if isinstance(value, float) else f"{key:24s} {value}")
