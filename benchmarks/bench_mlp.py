"""One MLP training step (forward, cross-entropy, backward, SGD), float32, three ways.

- ``engine``: ``nn.MLP(sizes, bias=True, dtype=np.float32)`` + ``nn.functional.cross_entropy``
  + ``loss.backward()`` + ``nn.optim.SGD(lr).step()`` + ``zero_grad()``;
- ``numpy``: the notes' hand-written backprop ``nn.manual.mlp_grads`` + an in-place
  ``W -= lr * dW`` (the floor for a numpy engine);
- ``torch``: ``torch.nn.Sequential`` of ``Linear``/``ReLU`` holding the same weights
  (torch's ``Linear.weight`` is ``(out, in)``, ours ``(in, out)``), ``F.cross_entropy``,
  ``torch.optim.SGD``; skipped with a note when PyTorch is not installed.

Before timing, the first step's loss and gradients of all implementations are
checked to agree (float32 tolerance): a benchmark comparing different
computations would be worthless.

Run: ``python -m benchmarks.bench_mlp [--quick]``.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W)

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd as ag
import nn

from .common import interleaved_ms, row, torch_or_none

#: (sizes, batch) of the four workloads, smallest first.
SIZES = (
    ((2, 16, 16, 2), 32),
    ((64, 128, 10), 64),
    ((784, 256, 128, 10), 128),
    ((1024, 2048, 2048, 10), 512),
)
LR = 0.01


def make_problem(sizes: Sequence[int], batch: int, seed: int = 0) -> dict[str, Any]:
    """A float32 model, inputs and labels shared by every implementation."""
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes, bias=True, dtype=np.float32, rng=seed)
    X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    return {"model": model, "X": X, "y": y}


def engine_step(model: nn.MLP, X: np.ndarray, y: np.ndarray, lr: float = LR) -> Callable[[], Any]:
    """A closure doing one engine training step; returns the loss Tensor."""
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    inputs = ag.tensor(X)

    def step() -> ag.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def numpy_step(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    lr: float = LR,
) -> Callable[[], Any]:
    """A closure doing one hand-written step, updating ``weights``/``biases`` in place."""

    def step() -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        loss, dWs, dbs = nn.manual.mlp_grads(X, y, weights, biases)
        for W, dW, b, db in zip(weights, dWs, biases, dbs):
            W -= lr * dW
            b -= lr * db
        return loss, dWs, dbs

    return step


def torch_model(torch: Any, model: nn.MLP) -> Any:
    """``torch.nn.Sequential`` of Linear/ReLU with ``model``'s weights (transposed)."""
    layers: list[Any] = []
    linears = model.linears
    for i, linear in enumerate(linears):
        n_in, n_out = linear.weight.shape
        layer = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(linear.weight.numpy().T.copy()))
            layer.bias.copy_(torch.from_numpy(linear.bias.numpy().copy()))
        layers.append(layer)
        if i < len(linears) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_step(torch: Any, net: Any, X: np.ndarray, y: np.ndarray, lr: float = LR):
    """A closure doing one PyTorch training step; returns the loss tensor."""
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> Any:
        optimizer.zero_grad()
        loss = cross_entropy(net(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


def check_first_step(problem: dict[str, Any], torch: Any) -> float:
    """One step of each implementation on float64 copies: assert equal loss, gradients, update.

    The check runs in float64 so that it tests the computation, not rounding: in
    float32 a pre-activation within rounding of 0 can land on either side of the
    ReLU kink in different libraries (seen at 1024-2048-2048-10), which shifts one
    example's share of the gradient. Returns the largest relative difference
    (``||ours − theirs|| / ||theirs||``) over the gradients and updated weights.
    """
    X, y = problem["X"].astype(np.float64), problem["y"]
    model = nn.MLP(problem["model"].sizes, dtype=np.float64)
    model.load_state_dict(
        {k: v.astype(np.float64) for k, v in problem["model"].state_dict().items()}
    )
    weights = [m.weight.numpy().copy() for m in model.linears]
    biases = [m.bias.numpy().copy() for m in model.linears]
    net = torch_model(torch, model).double() if torch is not None else None
    loss = engine_step(model, X, y)().item()
    ours = [g for m in model.linears for g in (m.weight.grad.numpy(), m.bias.grad.numpy())]
    ours += [p.numpy() for m in model.linears for p in (m.weight, m.bias)]
    hand_loss, dWs, dbs = numpy_step(weights, biases, X, y)()
    flat = lambda pairs: [a for pair in pairs for a in pair]  # noqa: E731
    peers = {"numpy": (hand_loss, flat(zip(dWs, dbs)) + flat(zip(weights, biases)))}
    if net is not None:
        torch_loss = torch_step(torch, net, X, y)().item()
        as_ours = lambda t: t.detach().numpy().T if t.ndim == 2 else t.detach().numpy()  # noqa: E731
        params = list(net.parameters())
        peers["torch"] = (
            torch_loss,
            [as_ours(p.grad) for p in params] + [as_ours(p) for p in params],
        )
    worst = 0.0
    for name, (peer_loss, arrays) in peers.items():
        if not np.isclose(loss, peer_loss, rtol=1e-12, atol=0):
            raise AssertionError(f"bench_mlp: engine loss {loss} != {name} loss {peer_loss}")
        for i, (mine, theirs) in enumerate(zip(ours, arrays)):
            gap = float(np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-300))
            if gap > 1e-10:
                what = "gradient" if i < len(ours) // 2 else "updated parameter"
                raise AssertionError(
                    f"bench_mlp: {what} {i % (len(ours) // 2)} (shape {mine.shape}) differs "
                    f"between the engine and {name} by {gap:.2e} (relative norm)"
                )
            worst = max(worst, gap)
    return worst


def bench_size(sizes: Sequence[int], batch: int, quick: bool, torch: Any) -> dict[str, Any]:
    """Median milliseconds per training step of each implementation at one size (a row)."""
    problem = make_problem(sizes, batch)
    agreement = check_first_step(problem, torch)
    model, X, y = problem["model"], problem["X"], problem["y"]
    weights = [m.weight.numpy().copy() for m in model.linears]
    biases = [m.bias.numpy().copy() for m in model.linears]
    cases = {
        "engine": engine_step(model, X, y),
        "numpy": numpy_step(weights, biases, X, y),
    }
    if torch is not None:
        cases["torch"] = torch_step(torch, torch_model(torch, model), X, y)
    repeats, min_sample_s = (3, 0.005) if quick else (7, 0.05)
    values = interleaved_ms(cases, repeats, min_sample_s, quick=quick)
    case = f"{'-'.join(map(str, sizes))} batch {batch}"
    note = f"first step (float64) agrees to {agreement:.0e}"
    return row("MLP training step (float32)", case, "ms/step", values, note=note)


def run(quick: bool = False) -> dict[str, Any]:
    """Every size (``quick``: the smallest only, few samples); returns ``{"rows": [...]}``."""
    torch = torch_or_none()
    sizes = SIZES[:1] if quick else SIZES
    return {"rows": [bench_size(s, b, quick, torch) for s, b in sizes]}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], {k: v for k, v in line["values"].items()}, line["ratios"])
