"""Pictures of the example models: size and time with the old options and the new defaults.

For each model of ``examples/draw_graphs.py`` (the notes' network, a 12-op and a
600-op chain, a 20-layer MLP, a convolution net, an unrolled LSTM, a one- and a
four-block GPT), side by side in one run:

- *before*: the options that were the defaults (``rankdir="LR", modules="cluster",
  fold=False, compact=False``): boxes, the time from the loss to an SVG (``to_dot``
  and Graphviz's ``dot``), and the picture's size in pixels at 96 dpi;
- *after*: the screen-fitting defaults (:mod:`autograd.viz.layout`), the same numbers;
- the zoom at which each fits a 1920×1080 screen (readable from 0.68: 11 pt text at
  10 px).

Each time is the median of ``repeats`` runs (1 in quick mode), min and max beside it.
Also: DOT text for a 10,000-op chain (2,000 in quick mode; no layout), and how long
the guard takes to refuse a 2,000-op chain that nothing folds (1,000 in quick mode).
Quick mode skips the three slowest models.

Run: ``python benchmarks/bench_viz.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
from autograd.viz import GraphTooLargeError, to_dot
from autograd.viz.layout import SCREEN, check_budget

EXAMPLES_FILE = Path(__file__).resolve().parents[1] / "examples" / "draw_graphs.py"
BEFORE = {"rankdir": "LR", "modules": "cluster", "fold": False, "compact": False}


def examples() -> Any:
    """``examples/draw_graphs.py`` as a module (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location("draw_graphs", EXAMPLES_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES = examples()


def _times(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def picture(build: Callable[[], ag.Tensor], options: dict[str, Any], repeats: int) -> dict:
    """Boxes, SVG time (median, min, max in seconds) and pixel size of one picture."""
    loss = build()
    boxes = len(to_dot(loss, **options).picture.items)

    def draw_svg() -> str:
        return to_dot(loss, **options).pipe(format="svg", encoding="utf-8")

    svg, times = _times(draw_svg, repeats)
    width, height = EXAMPLES.picture_size(svg)
    return {
        "boxes": boxes,
        "svg_s": statistics.median(times),
        "svg_s_min": min(times),
        "svg_s_max": max(times),
        "px": f"{width}x{height}",
        "zoom": round(min(1.0, SCREEN[0] / width, SCREEN[1] / height), 3),
    }


def huge_chain(n_ops: int = 2000) -> ag.Tensor:
    """A chain with no repeats to fold (each op differs from the three before it)."""
    x = ag.tensor(np.linspace(0.1, 0.9, 3), requires_grad=True)
    ops = [ag.tanh, ag.sin, ag.cos, ag.sigmoid, lambda t: t * 0.5, lambda t: t + 0.25]
    rng = np.random.default_rng(0)
    y, recent = x, []
    for _ in range(n_ops):
        k = int(rng.choice([i for i in range(len(ops)) if i not in recent]))
        recent = (recent + [k])[-3:]
        y = ops[k](y)
    return y.sum()


def run(quick: bool = False) -> dict[str, Any]:
    """Before/after pictures of every example model, and the DOT-text and guard timings."""
    repeats = 1 if quick else 5
    results: dict[str, Any] = {}
    for name, (_, build) in EXAMPLES.MODELS.items():
        if quick and name in ("chain600", "lstm8", "gpt4"):  # the slowest "before" layouts
            continue
        before, after = picture(build, BEFORE, repeats), picture(build, {}, repeats)
        results[name] = {
            **{f"before_{k}": v for k, v in before.items()},
            **{f"after_{k}": v for k, v in after.items()},
        }
    chain = EXAMPLES.chain_loss(2_000 if quick else 10_000)
    _, dot_text = _times(lambda: to_dot(chain, **BEFORE).source, 1 if quick else 3)
    results["chain_dot_text_s"] = min(dot_text)
    loss = huge_chain(1000 if quick else 2000)

    def refuse() -> None:
        try:
            check_budget(to_dot(loss).picture, 1200)
        except GraphTooLargeError:
            return
        raise AssertionError("the huge chain was not refused")

    _, guard = _times(refuse, 1)
    results["huge_chain_refused_in_s"] = guard[0]
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    for key, value in run(parser.parse_args().quick).items():
        if isinstance(value, dict):
            shown = "  ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
            )
            print(f"{key:10s} {shown}")
        else:
            print(f"{key:24s} {value:.3f}")
