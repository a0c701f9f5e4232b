"""One optimizer step (Adam, float32) over an MLP's parameters, three ways.

- ``engine``: ``nn.optim.Adam(model.parameters()).step()`` (per-parameter state in
  ndarrays updated in place, the step count a 0-d array, the update through the
  Tensor in-place methods that bump version counters; a group of small parameters in
  one pass over flat buffers);
- ``numpy``: the same update written by hand with in-place ufuncs and one scratch
  buffer per parameter (the floor for a numpy optimizer);
- ``torch``: ``torch.optim.Adam`` on tensors holding the same values (its default
  implementation for CPU tensors); skipped with a note when PyTorch is not installed.

The gradients are fixed (set once); only the step is timed. Before timing, three
steps of each implementation from the same start are checked to give the same
parameters (float32 tolerance).

A second workload measures where updating a group in one pass over flat buffers
(``nn/optim/flat.py``) pays: an SGD step over six parameters of ``n`` elements each,
fused (the limit ``MAX_MEAN_SIZE`` lifted for the measurement) and per parameter (the
arrays held elsewhere, so they cannot move), against numpy's ``W -= lr * dW`` loop.

Run: ``python -m benchmarks.bench_optim [--quick]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nn
from nn.optim import flat

from .common import interleaved_ms, row, torch_or_none

SIZES = ((784, 256, 128, 10), (1024, 2048, 2048, 10))
FLAT_SIZES, FLAT_QUICK_SIZES = (256, 4096, 16384, 65536), (256,)  # elements per parameter
QUICK_SIZES = ((64, 128, 10),)
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def make_problem(sizes: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Float32 parameters of an MLP with ``sizes`` and a fixed gradient for each."""
    rng = np.random.default_rng(0)
    params = [p.numpy().copy() for p in nn.MLP(sizes, rng=0).parameters()]
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    return params, grads


def parameters(params: list[np.ndarray], grads: list[np.ndarray]) -> list[nn.Parameter]:
    """Parameters holding copies of ``params``, each with its fixed gradient."""
    tensors = [nn.Parameter(p.copy()) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = g
    return tensors


def engine_step(params: list[np.ndarray], grads: list[np.ndarray]) -> tuple[Callable, list]:
    """``nn.optim.Adam``'s step; returns it and the parameters it updates."""
    tensors = parameters(params, grads)
    optimizer = nn.optim.Adam(tensors, lr=LR, betas=BETAS, eps=EPS)
    return optimizer.step, tensors


def numpy_step(params: list[np.ndarray], grads: list[np.ndarray]) -> tuple[Callable, list]:
    """Adam by hand: in-place ufuncs, one scratch array per parameter (PyTorch's formula)."""
    params = [p.copy() for p in params]
    exp_avg = [np.zeros_like(p) for p in params]
    exp_avg_sq = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    beta1, beta2 = BETAS
    steps = [0]

    def step() -> None:
        steps[0] += 1
        t = steps[0]
        step_size = np.float32(LR / (1 - beta1**t))
        bias_correction2_sqrt = np.float32((1 - beta2**t) ** 0.5)
        for p, g, m, v, tmp in zip(params, grads, exp_avg, exp_avg_sq, scratch):
            np.subtract(g, m, out=tmp)
            tmp *= 1 - beta1
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= bias_correction2_sqrt
            tmp += EPS
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size
            p += tmp

    return step, params


def torch_step(torch: Any, params: list[np.ndarray], grads: list[np.ndarray]) -> tuple:
    """``torch.optim.Adam``'s step on tensors holding the same values."""
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    optimizer = torch.optim.Adam(tensors, lr=LR, betas=BETAS, eps=EPS)
    return optimizer.step, [t.detach().numpy() for t in tensors]


def check_steps(cases: dict[str, tuple[Callable, list]], steps: int = 3) -> float:
    """Run ``steps`` steps of every case; the largest difference from numpy's parameters."""
    for step, _ in cases.values():
        for _ in range(steps):
            step()
    reference = cases["numpy"][1]
    worst = 0.0
    for name, (_, params) in cases.items():
        params = [p.numpy() if isinstance(p, nn.Parameter) else p for p in params]
        for i, (p, q) in enumerate(zip(params, reference)):
            if p.dtype != np.float32 or not np.allclose(p, q, rtol=1e-5, atol=1e-6):
                raise AssertionError(f"bench_optim: parameter {i} differs between {name} and numpy")
            worst = max(worst, float(np.max(np.abs(p - q))))
    return worst


def build_cases(torch: Any, params: list, grads: list) -> dict[str, tuple[Callable, list]]:
    """Each implementation's step, started from ``params``."""
    cases = {"engine": engine_step(params, grads), "numpy": numpy_step(params, grads)}
    if torch is not None:
        cases["torch"] = torch_step(torch, params, grads)
    return cases


def run(quick: bool = False) -> dict[str, Any]:
    """Milliseconds per Adam step for each size; returns ``{"rows": [...]}``."""
    torch = torch_or_none()
    rows = []
    for sizes in QUICK_SIZES if quick else SIZES:
        params, grads = make_problem(sizes)

        check_steps(build_cases(torch, params, grads))
        cases = build_cases(torch, params, grads)
        values = interleaved_ms(
            {name: step for name, (step, _) in cases.items()},
            repeats=3 if quick else 7,
            min_sample_s=0.01 if quick else 0.05,
            quick=quick,
        )
        count = sum(p.size for p in params)
        rows.append(
            row(
                "Optimizer step (Adam, float32)",
                f"{'-'.join(map(str, sizes))} MLP, {count:,} parameters",
                "ms/step",
                values,
            )
        )
    return {"rows": rows + flat_rows(quick)}


def sgd_step(params: list[np.ndarray], grads: list[np.ndarray], hold: bool) -> tuple:
    """``nn.optim.SGD``'s step and the arrays held back: with ``hold``, the parameter
    arrays, which the optimizer then cannot move (it steps parameter by parameter)."""
    tensors = parameters(params, grads)
    return nn.optim.SGD(tensors, lr=LR).step, [t.data for t in tensors] if hold else []


def flat_rows(quick: bool) -> list[dict[str, Any]]:
    """SGD over six parameters of each size: fused, per parameter, numpy by hand."""
    rows = []
    limit = flat.MAX_MEAN_SIZE
    for n in FLAT_QUICK_SIZES if quick else FLAT_SIZES:
        rng = np.random.default_rng(0)
        params = [rng.standard_normal(n).astype(np.float32) for _ in range(6)]
        grads = [rng.standard_normal(n).astype(np.float32) for _ in range(6)]
        numpy_params = [p.copy() for p in params]

        def numpy_sgd(ws: list[np.ndarray] = numpy_params, gs: list[np.ndarray] = grads) -> None:
            for w, g in zip(ws, gs):
                w -= LR * g

        flat.MAX_MEAN_SIZE = max(limit, n)  # fused at every size, for the measurement
        try:
            fused, _ = sgd_step(params, grads, hold=False)
            fused()  # the first step moves the arrays
            apart, held = sgd_step(params, grads, hold=True)
            cases = {"fused": fused, "per parameter": apart, "numpy": numpy_sgd}
            ms = interleaved_ms(cases, repeats=3 if quick else 7, quick=quick, peers=())
            del held  # (kept until here: the per-parameter step must not move them)
        finally:
            flat.MAX_MEAN_SIZE = limit
        default = "fused" if n <= limit else "per parameter"
        note = (
            f"fused {ms['fused']:.3g} ms, per parameter {ms['per parameter']:.3g} ms; "
            f"by default ({flat.__name__}.MAX_MEAN_SIZE = {limit:,}) the step is {default}"
        )
        values = {"engine": ms[default], "numpy": ms["numpy"]}
        case = f"6 parameters of {n:,} elements"
        rows.append(row("Optimizer step (SGD, float32)", case, "ms/step", values, note=note))
    return rows


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        print(line["case"], line["values"], line["ratios"])
