"""An LSTM language-model training step, float32: embedding 64 -> 128, LSTM hidden 256,
sequence 64, batch 32, linear to 64 classes, cross-entropy over every position, SGD.

- ``engine``: ``nn.Embedding`` -> ``nn.LSTM`` -> ``nn.Linear``, ``nn.F.cross_entropy``,
  ``backward()``, ``nn.optim.SGD``;
- ``numpy``: :mod:`benchmarks.numpy_lstm`, written by hand: the textbook loop (the
  floor of the goal), and in a second row the engine's own strategy by hand;
- ``torch``: ``torch.nn.Embedding``/``LSTM``/``Linear`` with the same weights and
  ``torch.optim.SGD`` (skipped with a note when PyTorch is not installed).

Before timing, one step of every implementation on float64 copies must give the same
loss, gradients and updated weights. ``--quick``: sequence 8, batch 4.

Goals (issue 16): engine <= 1.15x the hand-written numpy step, <= 1.5x PyTorch.

Run: ``python -m benchmarks.bench_lstm [--quick]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
import nn

from . import numpy_lstm
from .common import first_step_agreement, interleaved_ms, row, torch_or_none

VOCAB, EMBED, HIDDEN, CLASSES = 64, 128, 256, 64
FULL, QUICK = (64, 32), (8, 4)  # (sequence, batch)
LR = 0.1
WORKLOAD = "LSTM language-model step (float32)"


class LanguageModel(nn.Module):
    """Token ids ``(T, B)`` -> logits ``(T, B, classes)``."""

    def __init__(self, dtype: Any = np.float32, rng: int = 0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED, dtype=dtype, rng=rng)
        self.lstm = nn.LSTM(EMBED, HIDDEN, dtype=dtype, rng=rng)
        self.head = nn.Linear(HIDDEN, CLASSES, dtype=dtype, rng=rng)

    def forward(self, tokens: Any) -> ag.Tensor:
        """Logits of the next token at every position."""
        out, _ = self.lstm(self.embedding(tokens))
        return self.head(out)


def make_problem(quick: bool, dtype: Any = np.float32) -> dict[str, Any]:
    """The model, token ids and targets every implementation shares."""
    steps, batch = QUICK if quick else FULL
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (steps, batch))
    return {"model": LanguageModel(dtype), "tokens": tokens, "targets": np.roll(tokens, -1, 0)}


def numpy_params(model: LanguageModel) -> dict[str, np.ndarray]:
    """The model's parameters, copied, under :mod:`numpy_lstm`'s names."""
    lstm = model.lstm
    return {
        "embedding": model.embedding.weight.numpy().copy(),
        "weight_ih": lstm.weight_ih_l0.numpy().copy(),
        "weight_hh": lstm.weight_hh_l0.numpy().copy(),
        "bias_ih": lstm.bias_ih_l0.numpy().copy(),
        "bias_hh": lstm.bias_hh_l0.numpy().copy(),
        "head_w": model.head.weight.numpy().copy(),
        "head_b": model.head.bias.numpy().copy(),
    }


def engine_step(model: LanguageModel, tokens: np.ndarray, targets: np.ndarray) -> Callable:
    """A closure doing one engine training step; returns the loss Tensor."""
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    flat = targets.reshape(-1)

    def step() -> ag.Tensor:
        optimizer.zero_grad()
        loss = nn.F.cross_entropy(model(tokens).reshape(-1, CLASSES), flat)
        loss.backward()
        optimizer.step()
        return loss

    return step


def torch_step(torch: Any, model: LanguageModel, tokens: np.ndarray, targets: np.ndarray):
    """A closure doing one PyTorch step with ``model``'s weights; returns ``(loss, modules)``."""
    dtype = torch.float64 if model.head.weight.dtype == np.float64 else torch.float32
    embedding = torch.nn.Embedding(VOCAB, EMBED).to(dtype)
    lstm = torch.nn.LSTM(EMBED, HIDDEN).to(dtype)
    head = torch.nn.Linear(HIDDEN, CLASSES).to(dtype)
    state = model.state_dict()
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(state["embedding.weight"]))
        lstm.load_state_dict(
            {k[5:]: torch.from_numpy(v) for k, v in state.items() if k.startswith("lstm.")}
        )
        head.weight.copy_(torch.from_numpy(state["head.weight"].T.copy()))
        head.bias.copy_(torch.from_numpy(state["head.bias"]))
    modules = (embedding, lstm, head)
    optimizer = torch.optim.SGD([p for m in modules for p in m.parameters()], lr=LR)
    ids, labels = torch.from_numpy(tokens), torch.from_numpy(targets.reshape(-1))

    def step() -> Any:
        optimizer.zero_grad()
        out, _ = lstm(embedding(ids))
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, CLASSES), labels)
        loss.backward()
        optimizer.step()
        return loss, modules

    return step


def check_first_step(torch: Any) -> float:
    """One float64 step of each implementation from the same weights: the same loss,
    gradients and updated weights (relative norm 1e-10), or ``AssertionError``. Returns
    the largest relative difference."""
    problem = make_problem(quick=True, dtype=np.float64)
    model, tokens, targets = problem["model"], problem["tokens"], problem["targets"]
    names = numpy_params(model)  # the order of the comparisons
    peers: dict[str, tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
    for name, step in (
        ("textbook numpy", numpy_lstm.textbook_step),
        ("fused numpy", numpy_lstm.fused_step),
    ):
        params = numpy_params(model)
        loss, grads = step(params, tokens, targets, LR)
        peers[name] = (loss, grads, params)
    if torch is not None:
        t_loss, (embedding, lstm, head) = torch_step(torch, model, tokens, targets)()
        as_np = lambda t: t.detach().numpy()  # noqa: E731
        tensors = {
            "embedding": embedding.weight, "weight_ih": lstm.weight_ih_l0,
            "weight_hh": lstm.weight_hh_l0, "bias_ih": lstm.bias_ih_l0,
            "bias_hh": lstm.bias_hh_l0, "head_w": head.weight, "head_b": head.bias,
        }  # fmt: skip
        fix = lambda n, a: a.T if n == "head_w" else a  # noqa: E731 - torch's Linear is (out, in)
        peers["torch"] = (
            t_loss.item(),
            {n: fix(n, as_np(t.grad)) for n, t in tensors.items()},
            {n: fix(n, as_np(t)) for n, t in tensors.items()},
        )
    loss = engine_step(model, tokens, targets)().item()
    ours = numpy_params(model)  # after the update
    params = dict(zip(names, [
        model.embedding.weight, model.lstm.weight_ih_l0, model.lstm.weight_hh_l0,
        model.lstm.bias_ih_l0, model.lstm.bias_hh_l0, model.head.weight, model.head.bias,
    ]))  # fmt: skip
    grads = {n: p.grad.numpy() for n, p in params.items()}
    return first_step_agreement("bench_lstm", loss, grads, ours, peers)


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds per step of each implementation: two rows, against the textbook numpy
    floor and against the fused numpy step; returns ``{"rows": [...]}``."""
    torch = torch_or_none()
    agreement = check_first_step(torch)
    problem = make_problem(quick)
    model, tokens, targets = problem["model"], problem["tokens"], problem["targets"]
    textbook, fused = numpy_params(model), numpy_params(model)
    cases = {
        "engine": engine_step(model, tokens, targets),
        "numpy": lambda: numpy_lstm.textbook_step(textbook, tokens, targets, LR),
        "fused numpy": lambda: numpy_lstm.fused_step(fused, tokens, targets, LR),
    }
    if torch is not None:
        cases["torch"] = torch_step(torch, model, tokens, targets)
    repeats, min_sample_s = (3, 0.01) if quick else (9, 0.3)
    ms = interleaved_ms(cases, repeats, min_sample_s, quick=quick)
    torch_ms = ms["torch"]
    steps, batch = QUICK if quick else FULL
    case = f"embedding {VOCAB}->{EMBED}, hidden {HIDDEN}, sequence {steps}, batch {batch}"
    note = f"first step (float64) agrees to {agreement:.0e}; goals: <= 1.15x numpy, <= 1.5x torch"
    return {
        "rows": [
            row(WORKLOAD, case + ", numpy: textbook loop", "ms/step",
                {"engine": ms["engine"], "numpy": ms["numpy"], "torch": torch_ms}, note=note),
            row(WORKLOAD, case + ", numpy: the engine's strategy by hand", "ms/step",
                {"engine": ms["engine"], "numpy": ms["fused numpy"], "torch": torch_ms}),
        ]
    }  # fmt: skip


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], line["values"], line["ratios"])
