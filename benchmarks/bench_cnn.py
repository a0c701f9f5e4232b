"""One LeNet-5 training step (float32, batch 64 of 1×28×28), three ways, and where its time goes.

``conv 5×5 (1→6) → relu → maxpool 2 → conv 5×5 (6→16) → relu → maxpool 2 → linear
256→120 → relu → 120→84 → relu → 84→10``, softmax cross-entropy, SGD (lr 0.01):

- ``engine``: ``nn.Sequential`` of ``nn.Conv2d``/``nn.MaxPool2d``/``nn.Linear`` +
  ``nn.functional.cross_entropy`` + ``backward()`` + ``nn.optim.SGD``;
- ``numpy``: the hand-written im2col floor with hand-derived backward
  (``benchmarks.cnn_floor``), in two rows: keeping its im2col matrices between steps,
  and allocating them fresh every step;
- ``torch``: the same network in ``torch.nn`` with the same weights (CPU, eager).

Before timing, one float64 step of each is checked to give the same loss, gradients and
updated weights. Also measured: peak memory of a step (tracemalloc, engine and floor)
and a profile of the engine's step: its conv forwards, the conv VJPs (input, weight),
pooling forward and VJP, each timed alone at the step's shapes.

Run: ``python -m benchmarks.bench_cnn [--quick]``.
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W)

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import nn
from autograd.ops import conv

from .bench_memory import traced_step_peak
from .bench_mlp import engine_step, torch_step
from .cnn_floor import LeNetFloor
from .common import interleaved, interleaved_ms, row, torch_or_none

BATCH, QUICK_BATCH = 64, 8
LR = 0.01
WORKLOAD = "LeNet-5 training step (float32)"
#: The engine's parameter names in the floor's order and names.
NAMES = {
    "0.weight": "W1",
    "0.bias": "b1",
    "3.weight": "W2",
    "3.bias": "b2",
    "7.weight": "W3",
    "7.bias": "b3",
    "9.weight": "W4",
    "9.bias": "b4",
    "11.weight": "W5",
    "11.bias": "b5",
}


def lenet(dtype: Any = np.float32, seed: int = 0) -> nn.Sequential:
    """The engine's LeNet-5 (PyTorch's default initialisation, seeded)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, dtype=dtype, rng=seed),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, dtype=dtype, rng=seed + 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120, dtype=dtype, rng=seed + 2),
        nn.ReLU(),
        nn.Linear(120, 84, dtype=dtype, rng=seed + 3),
        nn.ReLU(),
        nn.Linear(84, 10, dtype=dtype, rng=seed + 4),
    )


def make_problem(batch: int, seed: int = 0) -> dict[str, Any]:
    """A float32 model, images and labels shared by every implementation."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    return {"model": lenet(seed=seed), "X": X, "y": rng.integers(0, 10, batch)}


def floor_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of the model's parameters under the floor's names."""
    return {NAMES[k]: v.copy() for k, v in model.state_dict().items()}


def floor_step(floor: LeNetFloor, X: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """A closure doing one hand-written step."""
    return lambda: floor.step(X, y, LR)


def torch_model(torch: Any, model: nn.Module) -> Any:
    """``torch.nn`` LeNet-5 holding ``model``'s weights (Linear weights transposed)."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(256, 120),
        torch.nn.ReLU(),
        torch.nn.Linear(120, 84),
        torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    )
    state = {
        k: torch.tensor(v.T.copy() if v.ndim == 2 else v) for k, v in model.state_dict().items()
    }
    net.load_state_dict(state)
    return net.to(torch.float64 if model[0].weight.dtype == np.float64 else torch.float32)


def check_first_step(problem: dict[str, Any], torch: Any) -> float:
    """One float64 step of each implementation: assert equal loss, gradients and updated
    weights; returns the largest relative difference (``||ours − theirs|| / ||theirs||``)."""
    X, y = problem["X"].astype(np.float64), problem["y"]
    model = lenet(np.float64)
    model.load_state_dict(
        {k: v.astype(np.float64) for k, v in problem["model"].state_dict().items()}
    )
    net = torch_model(torch, model) if torch is not None else None
    floor = LeNetFloor(floor_weights(model))
    loss = engine_step(model, X, y, LR)().item()
    ours = {NAMES[k]: p.grad.numpy() for k, p in model.named_parameters()}
    updated = {NAMES[k]: p.numpy() for k, p in model.named_parameters()}
    floor_loss, floor_grads = floor.step(X, y, LR)
    peers = {"numpy": (floor_loss, floor_grads, floor.weights)}
    if net is not None:
        torch_loss = torch_step(torch, net, X, y, LR)().item()
        as_ours = lambda t: t.detach().numpy().T if t.ndim == 2 else t.detach().numpy()  # noqa: E731
        params = dict(zip(ours, net.parameters()))  # the same order: W1, b1, W2, ...
        peers["torch"] = (
            torch_loss,
            {k: as_ours(p.grad) for k, p in params.items()},
            {k: as_ours(p) for k, p in params.items()},
        )
    worst = 0.0
    for peer, (peer_loss, grads, weights) in peers.items():
        if not np.isclose(loss, peer_loss, rtol=1e-12, atol=0):
            raise AssertionError(f"bench_cnn: engine loss {loss} != {peer} loss {peer_loss}")
        for what, mine, theirs in (("gradient", ours, grads), ("updated weight", updated, weights)):
            for name in mine:
                gap = float(
                    np.linalg.norm(mine[name] - theirs[name]) / np.linalg.norm(theirs[name])
                )
                if gap > 1e-10:
                    raise AssertionError(
                        f"bench_cnn: {what} {name} differs between the engine and {peer} by "
                        f"{gap:.2e} (relative norm)"
                    )
                worst = max(worst, gap)
    return worst


def profile_cases(batch: int) -> dict[str, Callable[[], Any]]:
    """The engine's conv and pooling kernels at the step's shapes, each alone."""
    rng = np.random.default_rng(1)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    x1, w1, g1 = f32(batch, 1, 28, 28), f32(6, 1, 5, 5), f32(batch, 6, 24, 24)
    x2, w2, g2 = f32(batch, 6, 12, 12), f32(16, 6, 5, 5), f32(batch, 16, 8, 8)
    geometry = {"kernel_size": (5, 5), "stride": (1, 1), "padding": ((0, 0), (0, 0))}
    geometry.update(dilation=(1, 1), groups=1)
    pool = {
        "kernel_size": (2, 2),
        "stride": (2, 2),
        "padding": ((0, 0), (0, 0)),
        "dilation": (1, 1),
    }
    residual: dict[str, Any] = {}
    conv.max_pool_forward(g1, **pool, _residual=residual)
    return {
        "conv1 forward": lambda: conv.conv_forward(x1, w1, **geometry),
        "conv1 VJP, weight": lambda: conv.conv_weight_forward(x1, g1, **geometry),
        "conv2 forward": lambda: conv.conv_forward(x2, w2, **geometry),
        "conv2 VJP, input": lambda: conv.conv_transpose_forward(g2, w2, shape=(12, 12), **geometry),
        "conv2 VJP, weight": lambda: conv.conv_weight_forward(x2, g2, **geometry),
        "max pool 1 forward": lambda: conv.max_pool_forward(g1, **pool, _residual={}),
        "max pool 1 VJP": lambda: conv.max_pool_scatter_forward(
            x2, index=residual["index"], shape=(24, 24), **pool
        ),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """The step rows, the memory row and the profile rows; ``{"rows": [...]}``."""
    torch = torch_or_none()
    batch = QUICK_BATCH if quick else BATCH
    problem = make_problem(batch)
    agreement = check_first_step(problem, torch)
    model, X, y = problem["model"], problem["X"], problem["y"]
    cases = {
        "engine": engine_step(model, X, y, LR),
        "numpy": floor_step(LeNetFloor(floor_weights(model)), X, y),
        "numpy_fresh": floor_step(LeNetFloor(floor_weights(model), reuse_buffers=False), X, y),
    }
    if torch is not None:
        cases["torch"] = torch_step(torch, torch_model(torch, model), X, y, LR)
    repeats, min_sample_s = (3, 0.005) if quick else (9, 0.1)
    ms = interleaved_ms(cases, repeats, min_sample_s, quick=quick)
    torch_ms = ms["torch"]
    case = f"batch {batch}, 1×28×28"
    note = (
        f"first step (float64) agrees to {agreement:.0e}; goals: engine ≤ 1.15× the "
        f"hand-written numpy step, ≤ 1.5× PyTorch"
    )
    rows = [
        row(
            WORKLOAD,
            case + ", numpy keeps its buffers",
            "ms/step",
            {"engine": ms["engine"], "numpy": ms["numpy"], "torch": torch_ms},
            note=note,
        ),
        row(
            WORKLOAD,
            case + ", numpy allocates fresh arrays",
            "ms/step",
            {"engine": ms["engine"], "numpy": ms["numpy_fresh"], "torch": torch_ms},
        ),
    ]
    memory = {
        "engine": traced_step_peak(engine_step(lenet(), X, y, LR)) / 1e6,
        "numpy": traced_step_peak(floor_step(LeNetFloor(floor_weights(lenet())), X, y)) / 1e6,
        "torch": "not visible to tracemalloc",
    }
    rows.append(
        row(
            "Peak memory, LeNet-5 step",
            case,
            "MB (tracemalloc)",
            memory,
            note="goal: engine ≤ 1.3× the hand-written numpy step",
        )
    )
    profile = interleaved(profile_cases(batch), repeats, min_sample_s / 4, quick=quick)
    for name, s in profile.items():
        rows.append(row("LeNet-5 step profile (engine kernels)", name, "ms", {"engine": s * 1e3}))
    return {"rows": rows}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(
            line["workload"],
            "|",
            line["case"],
            {k: v for k, v in line["values"].items()},
            line["ratios"],
        )
