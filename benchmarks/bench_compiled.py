"""Compiled steps (``ag.compile``) against eager steps, hand-written numpy, PyTorch, micrograd.

Every workload reuses another benchmark's problem and step builders, so "eager" here is
that benchmark's engine step and "compiled" is the same closure through ``ag.compile``:

- MLP training step at the four sizes of ``bench_mlp`` (SGD), against the notes'
  hand-written backprop (``nn.manual.mlp_grads``) and PyTorch;
- the ``(8,)`` chain of ``bench_overhead`` (forward + backward through ``ag.grad``), cost
  per op, against the hand-differentiated numpy chain;
- the scalar network of ``bench_scalar`` (note 003: 3-16-16-1, batch 8, 0-d tensors),
  against micrograd with the garbage collector paused;
- LeNet-5 (``bench_cnn``), the LSTM language model (``bench_lstm``) and the
  transformer block (``bench_transformer``) against PyTorch CPU eager and the numpy floors;
- tracing cost: the first compiled call (trace + optimise + generate) over an eager call.

Before timing, each compiled step is run beside an eager twin built from the same seeds
and must give the same bits (loss and every parameter) for a few steps.

Timing: CPU time (``time.process_time``: other processes on a shared machine do not
inflate it), medians over interleaved rounds (``common.interleaved_samples``), PyTorch
with one thread for this workload; run with ``OPENBLAS_NUM_THREADS=1`` so numpy is
single-threaded too. Each row's note gives the spread (lowest and highest sample).

Run: ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.bench_compiled [--quick]``.
"""

# ruff: noqa: N806 - the notes' matrix names (X)

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd.compile.passes import DEFAULT_PASSES

from . import bench_cnn, bench_lstm, bench_mlp, bench_scalar, bench_transformer, numpy_lstm
from .bench_chain import elementwise_chain, tensor_chain_numpy
from .bench_overhead import SHAPE, op_count, torch_chain
from .cnn_floor import LeNetFloor
from .common import interleaved_samples, micrograd_or_none, missing_note, row, torch_or_none

CLOCK = time.process_time
WORKLOAD = "Compiled steps (ag.compile)"


def bits(value: Any) -> bytes:
    """The raw bytes of a tensor's (or a tuple's first tensor's) values."""
    if isinstance(value, tuple):
        value = value[0]
    data = value.data if isinstance(value, ag.Tensor) else value
    return np.asarray(data.detach().numpy() if hasattr(data, "detach") else data).tobytes()


def twins(
    build: Callable[[], tuple[Callable[[], Any], list[Any]]], steps: int = 3
) -> tuple[Callable[[], Any], Any, float, float]:
    """``(eager step, compiled step, first-call seconds, eager-call seconds)`` from two
    set-ups ``build()`` makes alike (a step closure and its parameters), after checking
    that ``steps`` steps of both give the same bits."""
    eager, eager_params = build()
    step, params = build()
    compiled = ag.compile(step)
    start = CLOCK()
    eager_loss = eager()
    eager_s = CLOCK() - start
    start = CLOCK()
    compiled_loss = compiled()
    first_s = CLOCK() - start
    for i in range(steps):
        if i:
            eager_loss, compiled_loss = eager(), compiled()
        if bits(eager_loss) != bits(compiled_loss):
            raise AssertionError(f"bench_compiled: the compiled loss differs at step {i}")
        for a, b in zip(eager_params, params):
            if bits(a) != bits(b):
                raise AssertionError(f"bench_compiled: a compiled parameter differs at step {i}")
    assert compiled.cache_info() == (1, steps - 1), compiled.cache_info()
    return eager, compiled, first_s, eager_s


def timed(cases: dict[str, Callable[[], Any]], quick: bool, min_sample_s: float) -> dict:
    """``{name: (median, lowest, highest)}`` seconds per call, interleaved, CPU time."""
    repeats = 3 if quick else 9
    samples = interleaved_samples(
        cases, repeats, 0.002 if quick else min_sample_s, quick=quick, clock=CLOCK
    )
    return {n: (statistics.median(v), min(v), max(v)) for n, v in samples.items()}


def ranges(seconds: dict[str, tuple[float, float, float]], scale: float) -> str:
    """Each case's lowest–highest sample, times ``scale``: ``engine 1.2–1.4, numpy ...``."""
    return ", ".join(f"{n} {lo * scale:.3g}–{hi * scale:.3g}" for n, (_, lo, hi) in seconds.items())


def spread(seconds: dict[str, tuple[float, float, float]], scale: float, unit: str) -> str:
    """The eager time and ratio (the table's columns are the peers), then every spread."""
    eager, ratio = seconds["eager"][0], seconds["engine"][0] / seconds["eager"][0]
    return (
        f"eager {eager * scale:.3g} {unit} (compiled/eager {ratio:.2f}×); "
        f"spread {ranges(seconds, scale)} {unit}"
    )


def step_row(
    case: str,
    seconds: dict[str, tuple[float, float, float]],
    goal: str,
    first_s: float,
    missing: Sequence[str] = (),
) -> dict[str, Any]:
    """A row in ms/step: ``engine`` is the compiled step; ratios over every peer."""
    values: dict[str, Any] = {n: s[0] * 1e3 for n, s in seconds.items()}
    for peer in missing:
        values.setdefault(peer, missing_note(peer))
    trace = first_s / seconds["eager"][0]
    note = f"goal: {goal}; tracing cost {trace:.0f}× an eager step; {spread(seconds, 1e3, 'ms')}"
    return row(WORKLOAD, case, "ms/step", values, note=note)


def mlp_rows(quick: bool, torch: Any) -> list[dict[str, Any]]:
    rows = []
    for sizes, batch in bench_mlp.SIZES[:1] if quick else bench_mlp.SIZES:

        def build(sizes: Sequence[int] = sizes, batch: int = batch) -> tuple[Any, list[Any]]:
            problem = bench_mlp.make_problem(sizes, batch)
            model = problem["model"]
            step = bench_mlp.engine_step(model, problem["X"], problem["y"])
            return step, list(model.parameters())

        eager, compiled, first_s, _ = twins(build)
        problem = bench_mlp.make_problem(sizes, batch)
        model, X, y = problem["model"], problem["X"], problem["y"]
        weights = [m.weight.numpy().copy() for m in model.linears]
        biases = [m.bias.numpy().copy() for m in model.linears]
        cases = {
            "engine": compiled,
            "eager": eager,
            "numpy": bench_mlp.numpy_step(weights, biases, X, y),
        }
        if torch is not None:
            net = bench_mlp.torch_model(torch, model)
            cases["torch"] = bench_mlp.torch_step(torch, net, X, y)
        seconds = timed(cases, quick, 0.05)
        case = f"MLP step {'-'.join(map(str, sizes))} batch {batch}"
        goal = "≤ 1.0× numpy" + (
            " (JAX jit 0.56×/0.69× at the two smallest)" if batch < 100 else ""
        )
        rows.append(step_row(case, seconds, goal, first_s, ("torch",)))
    return rows


def passes_row(quick: bool) -> dict[str, Any]:
    """What each optimisation pass buys: the smallest MLP step compiled with no pass,
    with dead-code elimination alone, and with every default pass."""
    sizes, batch = bench_mlp.SIZES[0]
    variants = {"engine": DEFAULT_PASSES, "dce only": ("dce",), "no pass": ()}
    cases = {}
    for name, passes in variants.items():
        problem = bench_mlp.make_problem(sizes, batch)
        step = bench_mlp.engine_step(problem["model"], problem["X"], problem["y"])
        cases[name] = ag.compile(step, passes=passes)
    problem = bench_mlp.make_problem(sizes, batch)
    weights = [m.weight.numpy().copy() for m in problem["model"].linears]
    biases = [m.bias.numpy().copy() for m in problem["model"].linears]
    cases["numpy"] = bench_mlp.numpy_step(weights, biases, problem["X"], problem["y"])
    losses = {bits(cases[name]()) for name in variants}
    if len(losses) != 1:
        raise AssertionError("bench_compiled: the passes changed the compiled step's loss")
    seconds = timed(cases, quick, 0.05)
    ms = {n: s[0] * 1e3 for n, s in seconds.items()}
    counts = {n: len(next(iter(cases[n]._programs.values()))[0].instructions) for n in variants}
    note = (
        f"{' + '.join(DEFAULT_PASSES)}: {ms['engine']:.3g} ms, {counts['engine']} instructions; "
        f"dce only: {ms['dce only']:.3g} ms, {counts['dce only']}; no pass: "
        f"{ms['no pass']:.3g} ms, {counts['no pass']}; spread {ranges(seconds, 1e3)} ms"
    )
    values = {"engine": ms["engine"], "numpy": ms["numpy"]}
    case = f"passes, MLP step {'-'.join(map(str, sizes))} batch {batch}"
    return row(WORKLOAD, case, "ms/step", values, note=note)


def chain_row(quick: bool, torch: Any) -> dict[str, Any]:
    steps = 100 if quick else 1000
    x0 = np.random.default_rng(0).uniform(-1, 1, SHAPE).astype(np.float32)

    def chain(x: Any) -> Any:
        return elementwise_chain(x, steps, ag.tanh, ag.exp)

    gradient = ag.grad(chain)
    compiled = ag.compile(gradient)
    start = CLOCK()
    first = compiled(x0)
    first_s = CLOCK() - start
    reference = gradient(x0)
    if bits(first) != bits(reference) or bits(compiled(x0)) != bits(reference):
        raise AssertionError("bench_compiled: the compiled chain's gradient differs from eager")
    cases = {
        "engine": lambda: compiled(x0),
        "eager": lambda: gradient(x0),
        "numpy": lambda: tensor_chain_numpy(x0, steps),
    }
    if torch is not None:
        cases["torch"] = lambda: torch_chain(torch, x0, steps)
    seconds = timed(cases, quick, 0.05)
    ops = op_count(steps)
    values: dict[str, Any] = {n: s[0] / ops * 1e6 for n, s in seconds.items()}
    values.setdefault("torch", missing_note("torch"))
    trace = first_s / seconds["eager"][0]
    note = (
        f"goal: ≤ 1.2× numpy per op; tracing cost {trace:.0f}× an eager pass; "
        f"{spread(seconds, 1e6 / ops, 'µs/op')}"
    )
    case = f"(8,) chain of {ops:,} ops, forward + backward"
    return row(WORKLOAD, case, "µs/op", values, note=note)


def scalar_row(quick: bool, micrograd: Any) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(bench_scalar.BATCH, bench_scalar.SIZES[0]))
    ys = rng.normal(size=bench_scalar.BATCH)
    weights = bench_scalar.initial_weights()
    impls = bench_scalar.implementations(None, micrograd)

    def build_for(impl: dict[str, Any]) -> tuple[Callable[[], Any], list[Any]]:
        layers = bench_scalar.lift(weights, impl["scalar"])
        params = bench_scalar.parameters(layers)

        def step() -> Any:
            for p in params:
                impl["zero"](p)
            loss = bench_scalar.forward_loss(layers, xs, ys, impl["relu"])
            loss.backward()
            return loss

        return step, params

    eager, compiled, first_s, _ = twins(lambda: build_for(impls["engine"]))
    cases = {"engine": compiled, "eager": eager}
    if micrograd is not None:
        cases["micrograd"] = build_for(impls["micrograd"])[0]
    seconds = timed(cases, quick, 0.1)
    values: dict[str, Any] = {n: s[0] * 1e3 for n, s in seconds.items()}
    values.setdefault("micrograd", missing_note("micrograd"))
    trace = first_s / seconds["eager"][0]
    note = (
        f"goal: ≥ 5× faster than micrograd (ratio ≤ 0.2), collector paused; tracing cost "
        f"{trace:.0f}× an eager pass; {spread(seconds, 1e3, 'ms')}"
    )
    case = "scalar network 3-16-16-1 batch 8, forward + MSE + backward"
    return row(WORKLOAD, case, "ms/pass", values, note=note)


def lenet_row(quick: bool, torch: Any) -> dict[str, Any]:
    batch = bench_cnn.QUICK_BATCH if quick else bench_cnn.BATCH

    def build() -> tuple[Any, list[Any]]:
        problem = bench_cnn.make_problem(batch)
        model = problem["model"]
        step = bench_mlp.engine_step(model, problem["X"], problem["y"], bench_cnn.LR)
        return step, list(model.parameters())

    eager, compiled, first_s, _ = twins(build)
    problem = bench_cnn.make_problem(batch)
    model, X, y = problem["model"], problem["X"], problem["y"]
    floor = LeNetFloor(bench_cnn.floor_weights(model))
    cases = {
        "engine": compiled,
        "eager": eager,
        "numpy": bench_cnn.floor_step(floor, X, y),
    }
    if torch is not None:
        net = bench_cnn.torch_model(torch, model)
        cases["torch"] = bench_mlp.torch_step(torch, net, X, y, bench_cnn.LR)
    seconds = timed(cases, quick, 0.1)
    return step_row(f"LeNet-5 step, batch {batch}", seconds, "≤ 1.2× torch", first_s, ("torch",))


def lstm_row(quick: bool, torch: Any) -> dict[str, Any]:
    def build() -> tuple[Any, list[Any]]:
        problem = bench_lstm.make_problem(quick)
        model = problem["model"]
        step = bench_lstm.engine_step(model, problem["tokens"], problem["targets"])
        return step, list(model.parameters())

    eager, compiled, first_s, _ = twins(build)
    problem = bench_lstm.make_problem(quick)
    model, tokens, targets = problem["model"], problem["tokens"], problem["targets"]
    fused = bench_lstm.numpy_params(model)
    cases = {
        "engine": compiled,
        "eager": eager,
        "numpy": lambda: numpy_lstm.fused_step(fused, tokens, targets, bench_lstm.LR),
    }
    if torch is not None:
        cases["torch"] = bench_lstm.torch_step(torch, model, tokens, targets)
    seconds = timed(cases, quick, 0.3)
    steps, batch = bench_lstm.QUICK if quick else bench_lstm.FULL
    case = f"LSTM LM step, sequence {steps}, batch {batch}, hidden {bench_lstm.HIDDEN}"
    return step_row(case, seconds, "≤ 1.2× torch", first_s, ("torch",))


def transformer_row(quick: bool, torch: Any) -> dict[str, Any]:
    def build() -> tuple[Any, list[Any]]:
        problem = bench_transformer.make_problem(quick)
        block = problem["block"]
        step = bench_transformer.engine_step(
            block, problem["x"], problem["target"], problem["mask"]
        )
        return step, list(block.parameters())

    eager, compiled, first_s, _ = twins(build)
    problem = bench_transformer.make_problem(quick)
    block, x, target, mask = (problem[k] for k in ("block", "x", "target", "mask"))
    cases = {
        "engine": compiled,
        "eager": eager,
        "numpy": bench_transformer.numpy_step(block, x, target),
    }
    if torch is not None:
        cases["torch"] = bench_transformer.torch_step(torch, block, x, target, mask)
    seconds = timed(cases, quick, 0.2)
    steps, batch = bench_transformer.QUICK if quick else bench_transformer.FULL
    case = f"transformer block step, sequence {steps}, batch {batch}"
    return step_row(case, seconds, "≤ 1.2× torch", first_s, ("torch",))


def run(quick: bool = False) -> dict[str, Any]:
    """Every compiled workload (``quick``: small sizes, few samples); ``{"rows": [...]}``."""
    torch, micrograd = torch_or_none(), micrograd_or_none()
    threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        rows = mlp_rows(quick, torch)
        rows.append(passes_row(quick))
        rows.append(chain_row(quick, torch))
        rows.append(scalar_row(quick, micrograd))
        rows += [f(quick, torch) for f in (lenet_row, lstm_row, transformer_row)]
    finally:
        if torch is not None:
            torch.set_num_threads(threads)
    return {"rows": rows}


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv)["rows"]:
        ratios = {k: round(v, 2) for k, v in line["ratios"].items()}
        print(line["case"], {k: v for k, v in line["values"].items()}, ratios, line["note"])
