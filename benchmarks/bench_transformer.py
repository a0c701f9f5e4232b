"""A pre-norm transformer-block training step, float32: d_model 128, 4 heads,
feed-forward 512 (relu), causal self-attention, sequence 64, batch 16, loss the mean
squared error against a fixed target, AdamW.

- ``engine``: ``nn.TransformerEncoderLayer(norm_first=True, batch_first=True,
  dropout=0)`` with the causal mask, ``nn.F.mse_loss``, ``nn.optim.AdamW``;
- ``numpy``: :mod:`benchmarks.numpy_transformer`, the block written by hand;
- ``torch``: ``torch.nn.TransformerEncoderLayer`` with the same weights (its Linear
  weights transposed) and ``torch.optim.AdamW``, when installed.

Before timing, one float64 step of every implementation from the same weights must give
the same loss, gradients and updated weights. ``--quick``: sequence 8, batch 2.

Goals (issue 16): engine <= 1.15x the hand-written numpy step, <= 1.25x PyTorch.

Run: ``python -m benchmarks.bench_transformer [--quick]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import nn

from . import numpy_transformer
from .common import first_step_agreement, interleaved_ms, row, torch_or_none

D_MODEL, HEADS, FEED_FORWARD = 128, 4, 512
FULL, QUICK = (64, 16), (8, 2)  # (sequence, batch)
LR = 1e-3
WORKLOAD = "Pre-norm transformer-block step (float32)"
#: our parameter paths -> numpy_transformer's names
NAMES = {
    "self_attn.in_proj_weight": "in_w",
    "self_attn.in_proj_bias": "in_b",
    "self_attn.out_proj.weight": "out_w",
    "self_attn.out_proj.bias": "out_b",
    "linear1.weight": "w1",
    "linear1.bias": "b1",
    "linear2.weight": "w2",
    "linear2.bias": "b2",
    "norm1.weight": "ln1_w",
    "norm1.bias": "ln1_b",
    "norm2.weight": "ln2_w",
    "norm2.bias": "ln2_b",
}
LINEAR_WEIGHTS = {"self_attn.out_proj.weight", "linear1.weight", "linear2.weight"}


def make_problem(quick: bool, dtype: Any = np.float32) -> dict[str, Any]:
    """The block, inputs, target and causal mask every implementation shares."""
    steps, batch = QUICK if quick else FULL
    rng = np.random.default_rng(0)
    block = nn.TransformerEncoderLayer(
        D_MODEL, HEADS, FEED_FORWARD, dropout=0.0, batch_first=True, norm_first=True,
        dtype=dtype, rng=0,
    )  # fmt: skip
    x = rng.standard_normal((batch, steps, D_MODEL)).astype(dtype)
    target = rng.standard_normal((batch, steps, D_MODEL)).astype(dtype)
    mask = np.triu(np.ones((steps, steps), bool), 1)  # True: not allowed (PyTorch's MHA)
    return {"block": block, "x": x, "target": target, "mask": mask}


def numpy_state() -> dict[str, Any]:
    """AdamW's hyper-parameters (PyTorch's defaults) for :mod:`numpy_transformer`."""
    return {"lr": LR, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}


def engine_step(block: Any, x: np.ndarray, target: np.ndarray, mask: np.ndarray) -> Callable:
    """A closure doing one engine training step; returns the loss Tensor."""
    optimizer = nn.optim.AdamW(block.parameters(), lr=LR)

    def step() -> Any:
        optimizer.zero_grad()
        loss = nn.F.mse_loss(block(x, mask, is_causal=True), target)
        loss.backward()
        optimizer.step()
        return loss

    return step


def numpy_step(block: Any, x: np.ndarray, target: np.ndarray) -> Callable:
    """A closure doing one hand-written step on copies of ``block``'s weights."""
    params = {NAMES[k]: v for k, v in block.state_dict().items()}
    state = numpy_state()
    return lambda: (numpy_transformer.step(params, x, target, HEADS, state), params)


def torch_step(torch: Any, block: Any, x: np.ndarray, target: np.ndarray, mask: np.ndarray):
    """A closure doing one PyTorch step with ``block``'s weights; returns ``(loss, layer)``."""
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    layer = torch.nn.TransformerEncoderLayer(
        D_MODEL, HEADS, FEED_FORWARD, dropout=0.0, batch_first=True, norm_first=True
    ).to(dtype)
    layer.load_state_dict(
        {
            k: torch.from_numpy(v.T.copy() if k in LINEAR_WEIGHTS else v)
            for k, v in block.state_dict().items()
        }
    )
    optimizer = torch.optim.AdamW(layer.parameters(), lr=LR)
    inputs, goal, causal = torch.from_numpy(x), torch.from_numpy(target), torch.from_numpy(mask)

    def step() -> Any:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(layer(inputs, causal, is_causal=True), goal)
        loss.backward()
        optimizer.step()
        return loss, layer

    return step


def check_first_step(torch: Any) -> float:
    """One float64 step of each implementation from the same weights: the same loss,
    gradients and updated weights (relative norm 1e-10), or ``AssertionError``. Returns
    the largest relative difference."""
    problem = make_problem(quick=True, dtype=np.float64)
    block, x, target, mask = (problem[k] for k in ("block", "x", "target", "mask"))
    (loss_np, grads_np), params_np = numpy_step(block, x, target)()
    peers = {"numpy": (loss_np, grads_np, params_np)}
    if torch is not None:
        t_loss, layer = torch_step(torch, block, x, target, mask)()
        fix = lambda k, t: (t.T if k in LINEAR_WEIGHTS else t).detach().numpy()  # noqa: E731
        named = dict(layer.named_parameters())
        peers["torch"] = (
            t_loss.item(),
            {NAMES[k]: fix(k, t.grad) for k, t in named.items()},
            {NAMES[k]: fix(k, t) for k, t in named.items()},
        )
    loss = engine_step(block, x, target, mask)().item()
    grads = {NAMES[k]: p.grad.numpy() for k, p in block.named_parameters()}
    updated = {NAMES[k]: p.numpy() for k, p in block.named_parameters()}
    return first_step_agreement("bench_transformer", loss, grads, updated, peers)


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds per step of each implementation; returns ``{"rows": [...]}``."""
    torch = torch_or_none()
    agreement = check_first_step(torch)
    problem = make_problem(quick)
    block, x, target, mask = (problem[k] for k in ("block", "x", "target", "mask"))
    cases = {"engine": engine_step(block, x, target, mask), "numpy": numpy_step(block, x, target)}
    if torch is not None:
        cases["torch"] = torch_step(torch, block, x, target, mask)
    repeats, min_sample_s = (3, 0.01) if quick else (9, 0.3)
    ms = interleaved_ms(cases, repeats, min_sample_s, quick=quick)
    steps, batch = QUICK if quick else FULL
    case = f"d_model {D_MODEL}, {HEADS} heads, feed-forward {FEED_FORWARD}, causal, "
    case += f"sequence {steps}, batch {batch}"
    note = f"first step (float64) agrees to {agreement:.0e}; goals: <= 1.15x numpy, <= 1.25x torch"
    return {"rows": [row(WORKLOAD, case, "ms/step", ms, note=note)]}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], line["values"], line["ratios"])
