"""Where an engine training step spends its time, primitive by primitive.

Runs a workload's engine step (``bench_lstm``'s or ``bench_transformer``'s) with every
registered primitive's forward and VJP rules wrapped in timers, and reports per
primitive the milliseconds per step spent in its forward and in its backward rules,
then the rest: the optimizer's step and everything else (Python between the ops, the
engine's bookkeeping, gradient accumulation). Times are CPU time of this process
(``time.process_time``), which on a busy machine is steadier than wall time; with
multi-threaded BLAS it adds the threads' time up.

Run: ``python -m benchmarks.profile_steps [lstm|transformer] [--steps 10] [--quick]``.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import nn
from autograd.primitive import REGISTRY, unchanged

from . import bench_lstm, bench_transformer


def _timed(table: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            table[key] += time.process_time() - start

    return run


@contextmanager
def timed_primitives(table: dict[str, float]) -> Iterator[None]:
    """Add each primitive's forward and VJP seconds to ``table[(name, "forward" or
    "backward")]`` while the block runs (the ``unchanged`` marker is left alone: backward
    hands its gradient on without calling it)."""
    saved = {name: (p.forward, p.vjps, p.vjp) for name, p in REGISTRY.items()}
    try:
        for name, prim in REGISTRY.items():
            prim.forward = _timed(table, (name, "forward"), prim.forward)
            if prim.vjp is not None:
                prim.vjp = _timed(table, (name, "backward"), prim.vjp)
            else:
                prim.vjps = tuple(
                    rule if rule is unchanged else _timed(table, (name, "backward"), rule)
                    for rule in prim.vjps
                )
        yield
    finally:
        for name, (forward, vjps, vjp) in saved.items():
            prim = REGISTRY[name]
            prim.forward, prim.vjps, prim.vjp = forward, vjps, vjp


def engine_step(workload: str, quick: bool) -> Callable[[], Any]:
    """The workload's engine training step."""
    if workload == "lstm":
        problem = bench_lstm.make_problem(quick)
        return bench_lstm.engine_step(problem["model"], problem["tokens"], problem["targets"])
    problem = bench_transformer.make_problem(quick)
    return bench_transformer.engine_step(*(problem[k] for k in ("block", "x", "target", "mask")))


def profile(workload: str, steps: int = 10, quick: bool = False) -> dict[str, Any]:
    """``{"total": ms per step, "rows": [(what, forward ms, backward ms), ...]}``, the
    primitives by total time, then ``optimizer step`` and ``other``."""
    step = engine_step(workload, quick)
    step()  # warm-up
    table: dict[Any, float] = defaultdict(float)
    optimizer_step = nn.optim.Optimizer.step  # every optimizer's (the subclasses' _update)
    nn.optim.Optimizer.step = _timed(table, ("optimizer", "step"), optimizer_step)
    try:
        with timed_primitives(table):
            start = time.process_time()
            for _ in range(steps):
                step()
            total = time.process_time() - start
    finally:
        nn.optim.Optimizer.step = optimizer_step
    names = {name for name, _ in table if name != "optimizer"}
    rows = [(n, table[(n, "forward")], table[(n, "backward")]) for n in names]
    rows.sort(key=lambda r: -(r[1] + r[2]))
    optimizer = table[("optimizer", "step")]
    other = total - optimizer - sum(f + b for _, f, b in rows)
    per_step = lambda s: s / steps * 1e3  # noqa: E731
    rows = [(n, per_step(f), per_step(b)) for n, f, b in rows]
    rows += [("optimizer step", per_step(optimizer), 0.0), ("other", per_step(other), 0.0)]
    return {"total": per_step(total), "rows": rows}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print the profile of one workload's step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=("lstm", "transformer"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="the workload's --quick sizes")
    args = parser.parse_args(argv)
    result = profile(args.workload, args.steps, args.quick)
    print(f"{args.workload} step: {result['total']:.1f} ms CPU per step")
    print(f"{'':32} {'forward':>9} {'backward':>9}  share")
    for name, forward, backward in result["rows"]:
        share = (forward + backward) / result["total"]
        print(f"{name:32} {forward:9.2f} {backward:9.2f}  {share:5.1%}")
    return result


if __name__ == "__main__":
    main()
