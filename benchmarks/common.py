"""What every benchmark shares: interleaved median timing, optional peers, the machine.

Timing rules (so that a ratio means something):

- every implementation is warmed up first, then the implementations take turns,
  each round in the next of all their orders (ABC, ACB, BAC, BCA, CAB, CBA, ...), so
  machine noise hits all of them alike and each runs right after each other one
  equally often (a plain rotation ABC, BCA, CAB runs A right after C in two rounds of
  three and B right after C in only one, so whatever C leaves behind would cost A
  more);
- one sample runs a workload ``number`` times, with ``number`` chosen once per
  implementation so that a sample lasts at least ``min_sample_s`` (timer
  resolution and call overhead vanish); the result is the median over samples of
  seconds per call;
- as in ``timeit``, the garbage collector is off inside a sample and runs between
  samples (young generations only): otherwise a cycle collection triggered by one
  library's garbage (e.g. micrograd's graphs, which are reference cycles) lands in
  whichever sample happens to be running. Where the collector's work is part of what
  a library costs (graphs of thousands of Python objects a pass), a workload also
  measures with ``collector=True``: a full collection before each sample, then the
  collector on during it, as a program runs, so each library pays for its own garbage;
- each sample starts after a pause of :data:`SETTLE_S` (full runs only): numpy's
  OpenBLAS and PyTorch's OpenMP keep their worker threads spin-waiting for a while
  after a call, and on a 2-core machine those spinning threads slow down whichever
  library runs next (PyTorch's 1024-2048-2048-10 step measured 1.7× slower right
  after numpy's than alone; with the pause it matches its solo time);
- each sample starts with :data:`WARM_FRACTION` of its calls, untimed: in the first
  calls after another library's turn, OpenBLAS's and PyTorch's thread pools still
  contend for the two cores (measured at 64-128-10: the engine's step took 0.13 to
  2.3 ms in a sample that came right after PyTorch's, 0.10 ms after numpy's, and so
  did numpy's when the order was swapped).

PyTorch and micrograd are optional peers: :func:`torch_or_none` and
:func:`micrograd_or_none` return None (and the benchmark reports a note) when they
are not installed. PyTorch runs with :data:`TORCH_THREADS` intra-op threads.
"""

from __future__ import annotations

import datetime
import gc
import importlib
import itertools
import os
import platform
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

import autograd as ag

#: Seconds to wait before each timed sample, so other libraries' worker threads go idle.
SETTLE_S = 0.2

#: Share of a sample's calls run untimed just before it (full runs only).
WARM_FRACTION = 0.2

#: PyTorch intra-op threads (the benchmark machine has 2 cores; numpy's BLAS uses its own).
TORCH_THREADS = 2


def _import_or_none(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def torch_or_none() -> ModuleType | None:
    """``torch`` set to :data:`TORCH_THREADS` threads, or None when it is not installed."""
    torch = _import_or_none("torch")
    if torch is not None:
        torch.set_num_threads(TORCH_THREADS)
    return torch


def micrograd_or_none() -> ModuleType | None:
    """``micrograd.engine`` (its ``Value`` class), or None when micrograd is not installed."""
    return _import_or_none("micrograd.engine")


def missing_note(name: str) -> str:
    """The note a table shows for a peer that is not installed."""
    return f"not installed (pip install {name})"


def calls_per_sample(fn: Callable[[], Any], min_sample_s: float, collector: bool = False) -> int:
    """How many calls of ``fn`` fill ``min_sample_s`` (at least 1), from one call timed
    as the samples will be (``collector`` as in :func:`time_sample`)."""
    once = time_sample(fn, 1, collector=collector)
    return max(1, int(np.ceil(min_sample_s / max(once, 1e-9))))


def time_sample(
    fn: Callable[[], Any],
    number: int,
    settle_s: float = 0.0,
    warm_calls: int = 0,
    collector: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds per call over ``number`` calls of ``fn``, the garbage collector paused
    (or on, with ``collector``).

    ``clock`` reads the time (``time.process_time`` for CPU time, which other processes
    on a shared machine do not inflate). Sleeps ``settle_s`` and calls ``fn``
    ``warm_calls`` times first, untimed. With
    ``collector`` the collector runs a full pass first and stays on during the calls
    (see the module docstring). The collector's state is restored either way.
    """
    time.sleep(settle_s)
    for _ in range(warm_calls):
        fn()
    # the previous sample's garbage: all of it before a sample that collects as it goes,
    # else the young generations (a full pass is slow)
    gc.collect(2 if collector else 1)
    was_enabled = gc.isenabled()
    if collector:
        gc.enable()
    else:
        gc.disable()
    try:
        start = clock()
        for _ in range(number):
            fn()
        return (clock() - start) / number
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def interleaved(
    cases: dict[str, Callable[[], Any]],
    repeats: int,
    min_sample_s: float = 0.02,
    warmup: int = 1,
    quick: bool = False,
    collector: bool = False,
) -> dict[str, float]:
    """Median seconds per call of each case: :func:`interleaved_samples`' medians."""
    samples = interleaved_samples(cases, repeats, min_sample_s, warmup, quick, collector)
    return {name: statistics.median(values) for name, values in samples.items()}


def interleaved_ms(
    cases: dict[str, Callable[[], Any]],
    repeats: int,
    min_sample_s: float = 0.02,
    quick: bool = False,
    peers: tuple[str, ...] = ("torch",),
) -> dict[str, Any]:
    """Median milliseconds per call of each case (:func:`interleaved`), and the
    :func:`missing_note` of each of ``peers`` that is not among the cases."""
    ms: dict[str, Any] = {
        name: s * 1e3 for name, s in interleaved(cases, repeats, min_sample_s, quick=quick).items()
    }
    for peer in peers:
        ms.setdefault(peer, missing_note(peer))
    return ms


def interleaved_samples(
    cases: dict[str, Callable[[], Any]],
    repeats: int,
    min_sample_s: float = 0.02,
    warmup: int = 1,
    quick: bool = False,
    collector: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds per call of each case in every sample, the cases taking turns sample by sample.

    Each case is called ``warmup`` times, then calibrated (see
    :func:`calls_per_sample`), then ``repeats`` rounds of samples are taken, round
    ``r`` in the ``r``-th of all orders of the cases, each sample after a pause of
    :data:`SETTLE_S` seconds and :data:`WARM_FRACTION` of its calls untimed (neither
    when ``quick``); ``collector`` and ``clock`` as in :func:`time_sample`.
    """
    settle_s, warm = (0.0, 0.0) if quick else (SETTLE_S, WARM_FRACTION)
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    numbers = {name: calls_per_sample(fn, min_sample_s, collector) for name, fn in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    orders = list(itertools.permutations(cases))
    for turn in range(repeats):
        for name in orders[turn % len(orders)]:
            fn = cases[name]
            warm_calls = int(numbers[name] * warm)
            sample = time_sample(fn, numbers[name], settle_s, warm_calls, collector, clock)
            samples[name].append(sample)
    return samples


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (or ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    """Date, machine and library versions, recorded with every result."""
    torch = _import_or_none("torch")
    micrograd = _import_or_none("micrograd")
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "topograd": ag.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": TORCH_THREADS if torch is not None else None,
        "micrograd": "installed" if micrograd is not None else None,
        "openblas_env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS")},
    }


def row(
    workload: str,
    case: str,
    unit: str,
    values: dict[str, float | str | None],
    lower_is_better: bool = True,
    note: str = "",
) -> dict[str, Any]:
    """One line of the results table.

    ``values`` maps an implementation (``engine``, ``numpy``, ``torch``,
    ``micrograd``) to its measurement in ``unit``, to a string saying why there is
    none (e.g. ``"fails (RecursionError)"``), or to None (not applicable). Ratios
    are the engine's cost over each peer's cost: above 1 the engine is slower (or
    uses more memory); for rates (``lower_is_better=False``) the inverse is taken.
    """
    engine = values.get("engine")
    ratios = {}
    for peer, value in values.items():
        if peer == "engine" or not isinstance(value, float) or not isinstance(engine, float):
            continue
        ratios[peer] = engine / value if lower_is_better else value / engine
    return {
        "workload": workload,
        "case": case,
        "unit": unit,
        "values": values,
        "ratios": ratios,
        "lower_is_better": lower_is_better,
        "note": note,
    }


def first_step_agreement(
    workload: str,
    loss: float,
    grads: dict[str, np.ndarray],
    updated: dict[str, np.ndarray],
    peers: dict[str, tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]],
    tolerance: float = 1e-10,
) -> float:
    """Check that every peer's ``(loss, grads, updated parameters)`` of one float64 step
    equals the engine's (loss to 1e-12 relative, each array to ``tolerance`` in relative
    norm); ``AssertionError`` naming the workload, the peer and the array otherwise.
    Returns the largest relative difference."""
    worst = 0.0
    for peer, (peer_loss, peer_grads, peer_updated) in peers.items():
        if not np.isclose(loss, peer_loss, rtol=1e-12, atol=0):
            raise AssertionError(f"{workload}: engine loss {loss} != {peer} loss {peer_loss}")
        for what, mine, theirs in (
            ("gradient", grads, peer_grads),
            ("update", updated, peer_updated),
        ):
            for name in mine:
                gap = float(
                    np.linalg.norm(mine[name] - theirs[name]) / np.linalg.norm(theirs[name])
                )
                if gap > tolerance:
                    raise AssertionError(
                        f"{workload}: {what} of {name} differs between the engine and {peer} "
                        f"by {gap:.2e} (relative norm)"
                    )
                worst = max(worst, gap)
    return worst
