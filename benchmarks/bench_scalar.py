"""A network of scalar neurons (note 003 at micrograd's scale): graph nodes per second.

The MLP 3-16-16-1 of scalars (ReLU hidden units, linear output), evaluated on a
batch of 8 examples one scalar at a time, loss ``mean((ŷ − y)²)``, then
``backward()``. One Python function builds it for every scalar type, with the same
weights and the same order of operations (micrograd's ``Neuron``:
``b + w1 x1 + w2 x2 + ...``):

- ``engine``: 0-d ``ag.Tensor`` parameters;
- ``micrograd``: karpathy's ``Value`` (optional);
- ``torch``: 0-d ``torch`` tensors (optional).

The losses and gradients of all implementations are checked to agree first. The
table reports nodes per second, each library counting its own graph: the engine
its op nodes, micrograd its ``Value`` objects (leaves and constants included),
PyTorch its autograd ``grad_fn`` nodes. Ratios are the ratio of the time per
forward + backward pass, the same work in every library.

Two rows, two timing protocols: the garbage collector paused inside samples
(``timeit``'s convention, as in every other row of the table), and the collector on,
as a program runs. The second includes what collecting each library's graphs costs:
micrograd's are reference cycles (each ``Value`` holds a closure that refers back to
it) that only the collector frees; the engine's and PyTorch's are freed as soon as
the last reference goes, but the collector still walks their live objects.

Run: ``python -m benchmarks.bench_scalar [--quick]``.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd.node import Node

from .common import interleaved, micrograd_or_none, missing_note, row, torch_or_none

SIZES = (3, 16, 16, 1)
BATCH = 8

Layer = list[tuple[list[Any], Any]]  # one (weights, bias) pair per neuron


def initial_weights(sizes: Sequence[int] = SIZES, seed: int = 0) -> list[list[tuple]]:
    """Float weights ``U(-1, 1)`` and zero biases, as micrograd initialises its neurons."""
    rng = np.random.default_rng(seed)
    return [
        [(rng.uniform(-1, 1, n_in).tolist(), 0.0) for _ in range(n_out)]
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


def lift(weights: list[list[tuple]], scalar: Callable[[float], Any]) -> list[Layer]:
    """The same weights as leaf scalars of one library (``scalar(value)`` makes one)."""
    return [[([scalar(w) for w in ws], scalar(b)) for ws, b in layer] for layer in weights]


def forward_loss(layers: list[Layer], xs: np.ndarray, ys: np.ndarray, relu: Callable) -> Any:
    """``mean((ŷ − y)²)`` over the batch, one neuron at a time (``b + Σ wᵢ xᵢ``)."""
    total = 0.0
    for x, y in zip(xs.tolist(), ys.tolist()):
        z = x
        for depth, layer in enumerate(layers):
            last = depth == len(layers) - 1
            outs = []
            for ws, b in layer:
                act = b
                for w, xi in zip(ws, z):
                    act = act + w * xi
                outs.append(act if last else relu(act))
            z = outs
        total = total + (z[0] - y) ** 2
    return total * (1.0 / len(xs))


def count_graph(root: Any, parents: Callable[[Any], Sequence[Any]]) -> int:
    """Number of distinct objects reachable from ``root`` through ``parents`` (iterative)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in parents(stack.pop()):
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def engine_nodes(loss: ag.Tensor) -> int:
    """The engine's op nodes behind ``loss`` (leaves and constants are not nodes)."""
    return count_graph(loss._node, lambda node: [p for p in node.parents if isinstance(p, Node)])


def implementations(torch: Any, micrograd: Any) -> dict[str, dict[str, Any]]:
    """Per library: how to make a leaf scalar, apply relu, read a gradient, count nodes."""
    impls: dict[str, dict[str, Any]] = {
        "engine": {
            "scalar": lambda v: ag.tensor(v, requires_grad=True),
            "relu": ag.relu,
            "grad": lambda p: p.grad.item(),
            "zero": lambda p: setattr(p, "grad", None),
            "nodes": engine_nodes,
        }
    }
    if micrograd is not None:
        impls["micrograd"] = {
            "scalar": micrograd.Value,
            "relu": lambda v: v.relu(),
            "grad": lambda p: float(p.grad),
            "zero": lambda p: setattr(p, "grad", 0),
            "nodes": lambda loss: count_graph(loss, lambda v: v._prev),
        }
    if torch is not None:
        impls["torch"] = {
            "scalar": lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True),
            "relu": torch.relu,
            "grad": lambda p: p.grad.item(),
            "zero": lambda p: setattr(p, "grad", None),
            "nodes": lambda loss: count_graph(
                loss.grad_fn, lambda fn: [f for f, _ in fn.next_functions]
            ),
        }
    return impls


def parameters(layers: list[Layer]) -> list[Any]:
    """All weights and biases, in a fixed order."""
    return [p for layer in layers for ws, b in layer for p in (*ws, b)]


def run(quick: bool = False) -> dict[str, Any]:
    """Time forward + backward of each implementation; returns ``{"rows": [...]}``."""
    rng = np.random.default_rng(1)
    xs, ys = rng.normal(size=(BATCH, SIZES[0])), rng.normal(size=BATCH)
    weights = initial_weights()
    torch, micrograd = torch_or_none(), micrograd_or_none()
    impls = implementations(torch, micrograd)
    losses, grads, nodes, cases = {}, {}, {}, {}
    for name, impl in impls.items():
        layers = lift(weights, impl["scalar"])
        params = parameters(layers)

        def step(layers=layers, params=params, impl=impl) -> Any:
            for p in params:
                impl["zero"](p)
            loss = forward_loss(layers, xs, ys, impl["relu"])
            loss.backward()
            return loss

        loss = step()
        losses[name] = float(loss.item() if hasattr(loss, "item") else loss.data)
        grads[name] = np.array([impl["grad"](p) for p in params])
        nodes[name] = impl["nodes"](loss)
        cases[name] = step
    for name in impls:
        if not np.isclose(losses[name], losses["engine"], rtol=1e-12) or not np.allclose(
            grads[name], grads["engine"], rtol=1e-10, atol=1e-12
        ):
            raise AssertionError(f"bench_scalar: {name} computes a different loss or gradient")
    rows = [timed_row(cases, nodes, quick, collector) for collector in (False, True)]
    return {"rows": rows, "nodes": nodes}


def timed_row(
    cases: dict[str, Callable[[], Any]], nodes: dict[str, int], quick: bool, collector: bool
) -> dict[str, Any]:
    """The table row of one timing protocol: the garbage collector paused in samples
    (``timeit``'s way), or on (``collector``, as a program runs: each library also pays
    for collecting its graphs; micrograd's are reference cycles)."""
    min_sample_s = 0.01 if quick else (0.2 if collector else 0.1)  # long enough for a full pass
    seconds = interleaved(
        cases,
        repeats=3 if quick else (5 if collector else 7),
        min_sample_s=min_sample_s,
        quick=quick,
        collector=collector,
    )
    values: dict[str, Any] = {name: nodes[name] / s for name, s in seconds.items()}
    values.setdefault("micrograd", missing_note("micrograd"))
    values.setdefault("torch", missing_note("torch"))
    counted = ", ".join(f"{name} {n:,}" for name, n in nodes.items())
    ms = ", ".join(f"{name} {s * 1e3:.2f}" for name, s in seconds.items())
    if collector:  # a full collection walks every tracked object the process holds
        ms += f"; {len(gc.get_objects()):,} objects tracked by the collector in this process"
    line = row(
        "Scalar neurons 3-16-16-1, batch 8",
        "forward + MSE + backward" + (", garbage collector on" if collector else ""),
        "nodes/s",
        values,
        lower_is_better=False,
        note=f"nodes counted: {counted}; ms per pass: {ms}",
    )
    # same work, each library its own node count: compare times
    line["ratios"] = {
        name: seconds["engine"] / s for name, s in seconds.items() if name != "engine"
    }
    return line


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], line["values"], line["ratios"], line["note"])
