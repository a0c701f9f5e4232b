"""Peak memory of one MLP training step (forward, cross-entropy, backward, SGD), float32.

The widest network, 1024-2048-2048-10 with a batch of 512 (``--quick``:
64-128-10, batch 64), built as in ``bench_mlp``. Two measurements:

- **tracemalloc** (engine and numpy, in this process): the peak of memory
  allocated through Python's allocators, numpy arrays included, above what was
  allocated when the step began. Exact, and blind to nothing numpy allocates.
- **RSS** (engine, numpy and PyTorch, each in a fresh process): the peak resident
  set size during the step (``VmHWM`` after resetting it through
  ``/proc/self/clear_refs``) minus the resident size before the step. PyTorch's CPU
  allocator is invisible to tracemalloc, so this is the like-for-like comparison.
  Each process first runs a few steps of a tiny MLP so that one-time library
  initialisation is not counted, and runs with glibc's ``MALLOC_MMAP_THRESHOLD_``
  fixed at 64 KiB: every large buffer is then mapped on allocation and unmapped
  on release, so memory freed earlier (e.g. by weight initialisation) cannot be
  silently reused and hide part of the step's peak. Linux only; skipped with a
  note elsewhere.

For scale: the gradients alone of the 1024-2048-2048-10 network are 25.2 MB, and
each of its 512×2048 hidden activations 4.2 MB.

Run: ``python -m benchmarks.bench_memory [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .bench_mlp import SIZES, engine_step, make_problem, numpy_step, torch_model, torch_step
from .common import missing_note, row, torch_or_none

QUICK_SIZE = ((64, 128, 10), 64)
MB = 1e6
IMPLEMENTATIONS = ("engine", "numpy", "torch")


def make_step(impl: str, sizes: Sequence[int], batch: int) -> Any:
    """A closure doing one training step of ``impl`` on ``bench_mlp``'s problem."""
    problem = make_problem(sizes, batch)
    model, X, y = problem["model"], problem["X"], problem["y"]  # noqa: N806
    if impl == "engine":
        return engine_step(model, X, y)
    if impl == "numpy":
        weights = [m.weight.numpy().copy() for m in model.linears]
        biases = [m.bias.numpy().copy() for m in model.linears]
        return numpy_step(weights, biases, X, y)
    if impl == "torch":
        torch = torch_or_none()
        return torch_step(torch, torch_model(torch, model), X, y)
    raise ValueError(f"bench_memory: unknown implementation {impl!r}; use one of {IMPLEMENTATIONS}")


def traced_peak(impl: str, sizes: Sequence[int], batch: int) -> float:
    """Bytes: tracemalloc's peak during one step above the traced size when it began."""
    return traced_step_peak(make_step(impl, sizes, batch))


def traced_step_peak(step: Callable[[], Any]) -> float:
    """Bytes: tracemalloc's peak during one call of ``step`` (after an untraced warm-up
    call) above the traced size when it began."""
    step()  # warm-up: lazily created state is not part of a step
    gc.collect()
    tracemalloc.start()
    try:
        begin = tracemalloc.get_traced_memory()[0]
        step()
        return float(tracemalloc.get_traced_memory()[1] - begin)
    finally:
        tracemalloc.stop()


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"bench_memory: no {field} in /proc/self/status")


def rss_peak(impl: str, sizes: Sequence[int], batch: int) -> float:
    """Bytes: peak RSS during the first step of ``impl`` above the RSS before it (Linux).

    Call in a fresh process (see :func:`rss_peak_in_fresh_process`): memory a
    previous workload freed but the allocator kept would hide part of the peak.
    """
    tiny_sizes, tiny_batch = SIZES[0]
    warm = make_step(impl, tiny_sizes, tiny_batch)
    for _ in range(3):
        warm()
    step = make_step(impl, sizes, batch)
    gc.collect()
    before = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")  # reset VmHWM (the peak) to the current RSS
    step()
    return float(_status_kb("VmHWM") - before) * 1024


def rss_peak_in_fresh_process(impl: str, sizes: Sequence[int], batch: int) -> float:
    """:func:`rss_peak` run in a new Python process; bytes."""
    command = [
        sys.executable, "-m", "benchmarks.bench_memory", "--child", impl,
        "--sizes", ",".join(map(str, sizes)), "--batch", str(batch),
    ]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench_memory: child for {impl} failed:\n{done.stderr}")
    return float(json.loads(done.stdout)["bytes"])


def rss_available() -> bool:
    """Whether the peak RSS can be reset and read (Linux ``/proc``)."""
    try:
        _status_kb("VmHWM")
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def run(quick: bool = False) -> dict[str, Any]:
    """Both measurements (``quick``: small MLP, tracemalloc only); ``{"rows": [...]}``."""
    sizes, batch = QUICK_SIZE if quick else SIZES[-1]
    case = f"{'-'.join(map(str, sizes))} batch {batch}"
    traced = {impl: traced_peak(impl, sizes, batch) / MB for impl in ("engine", "numpy")}
    traced["torch"] = "not visible to tracemalloc"
    rows = [
        row("Peak memory, one training step", case, "MB (tracemalloc)", traced,
            note="allocations through Python's allocators, numpy arrays included"),
    ]  # fmt: skip
    if quick:
        note = "skipped in --quick (three fresh processes)"
        rows.append(row("Peak memory, one training step", case, "MB (RSS)", {}, note=note))
    elif not rss_available():
        note = "skipped: needs Linux /proc/self/clear_refs"
        rows.append(row("Peak memory, one training step", case, "MB (RSS)", {}, note=note))
    else:
        impls = IMPLEMENTATIONS if torch_or_none() is not None else IMPLEMENTATIONS[:2]
        rss: dict[str, Any] = {
            impl: rss_peak_in_fresh_process(impl, sizes, batch) / MB for impl in impls
        }
        rss.setdefault("torch", missing_note("torch"))
        note = "peak RSS during the step minus RSS before it, each in a fresh process"
        rows.append(row("Peak memory, one training step", case, "MB (RSS)", rss, note=note))
    return {"rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sizes = [int(s) for s in args.sizes.split(",")]
        print(json.dumps({"bytes": rss_peak(args.child, sizes, args.batch)}))
    else:
        for line in run(args.quick)["rows"]:
            print(line["unit"], line["values"], line["ratios"])
