"""Run every benchmark, print one table, write JSON, Markdown and a PNG plot.

``python -m benchmarks`` (all workloads, several minutes) or ``python -m benchmarks
--quick`` (smallest sizes, seconds). Results go to ``benchmarks/results/`` as
``latest.json``, ``latest.md`` and ``latest.png`` (``--out`` to change).

Tabled workloads (each module's ``run(quick)`` returns ``{"rows": [...]}``, see
:func:`benchmarks.common.row`): ``bench_mlp``, ``bench_scalar``,
``bench_overhead``, ``bench_deep``, ``bench_memory``, ``bench_cnn``, ``bench_einsum``,
``bench_lstm``, ``bench_transformer``. Also run and recorded as-is:
``bench_chain`` and ``bench_viz`` (the latter when present). A workload that
raises is reported and the others still run; the exit status is then 1.
Tabled too: ``bench_optim`` (optimizer steps) and ``bench_data`` (mini-batches).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import SETTLE_S, TORCH_THREADS, WARM_FRACTION, environment

TABLED = (
    "bench_mlp",
    "bench_scalar",
    "bench_overhead",
    "bench_deep",
    "bench_memory",
    "bench_cnn",
    "bench_einsum",
    "bench_lstm",
    "bench_transformer",
    "bench_optim",
    "bench_data",
    "bench_compiled",
)
EXTRAS = ("bench_chain", "bench_viz")
PEERS = ("numpy", "torch", "micrograd")
DEFAULT_OUT = Path(__file__).resolve().parent / "results"

METHOD = (
    "Times are medians over repeated samples taken after warm-up, the implementations "
    "interleaved in one process, each round in the next of all their orders (ABC, ACB, "
    "BAC, ...: each follows each other equally often), garbage collector paused inside "
    "samples (except in the scalar-graph row marked 'garbage collector on', which runs "
    f"it as a program does, after a full collection), a {SETTLE_S} s pause and "
    f"{WARM_FRACTION:.0%} of the sample's calls run untimed before each sample, so that "
    "the previous library's BLAS/OpenMP worker threads are idle. Every ratio is the "
    "engine's cost over the peer's cost, measured side by side in the same run: above 1 "
    "the engine is slower (or uses more memory); for nodes/s the ratio of times is shown. "
    "Before timing, each workload checks that all implementations compute the same loss "
    f"and gradients. PyTorch runs with {TORCH_THREADS} threads; numpy's BLAS with its "
    "defaults (OPENBLAS_* variables as found)."
)


def load(name: str) -> Any:
    """``benchmarks.<name>``, or None when the module does not exist."""
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__package__}.{name}":
            return None
        raise


def run_all(quick: bool, names: Sequence[str] = TABLED + EXTRAS) -> dict[str, Any]:
    """Run the workloads ``names``; returns the JSON-ready results."""
    results: dict[str, Any] = {"environment": environment(), "quick": quick, "rows": []}
    results["extra"], results["errors"], results["seconds"] = {}, {}, {}
    for name in names:
        module = load(name)
        if module is None:
            continue
        print(f"running {name}{' (quick)' if quick else ''} ...", flush=True)
        start = time.perf_counter()
        try:
            output = module.run(quick=quick)
        except Exception:  # noqa: BLE001 - report and go on with the other workloads
            results["errors"][name] = traceback.format_exc()
            print(results["errors"][name], file=sys.stderr)
        else:
            if name in TABLED:
                results["rows"] += output["rows"]
            else:
                results["extra"][name] = output
        results["seconds"][name] = time.perf_counter() - start
    return results


# ------------------------------------------------------------------------- formatting
def fmt(value: Any) -> str:
    """A table cell: 3 significant digits for numbers, strings as they are, "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table_lines(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Header and one line per row: values of every implementation, then the ratios."""
    header = ["workload", "case", "unit", "engine", *PEERS, *(f"engine/{p}" for p in PEERS)]
    lines = [header]
    for r in rows:
        values = [fmt(r["values"].get(name)) for name in ("engine", *PEERS)]
        ratios = [fmt(r["ratios"][p]) + "×" if p in r["ratios"] else "—" for p in PEERS]
        lines.append([r["workload"], r["case"], r["unit"], *values, *ratios])
    return lines


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results table in GitHub Markdown."""
    lines = table_lines(rows)
    out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
    out += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines[1:]
    ]
    return "\n".join(out)


def text_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results table aligned in columns, for the terminal."""
    lines = table_lines(rows)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def environment_lines(env: dict[str, Any]) -> list[str]:
    """``key: value`` lines describing the machine and versions."""
    return [f"{key}: {value}" for key, value in env.items() if value not in (None, {}, "")]


def notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per row that carries a note."""
    return [f"{r['workload']} ({r['case']}, {r['unit']}): {r['note']}" for r in rows if r["note"]]


def extra_lines(extra: dict[str, Any]) -> list[str]:
    """Flattened ``module.key = value`` lines of the untabled workloads."""
    lines = []
    for module, output in extra.items():
        for key, value in output.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
                lines.append(f"{module}.{key}: {inner}")
            else:
                lines.append(f"{module}.{key}: {fmt(value)}")
    return lines


def markdown(results: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    quick = " (--quick)" if results["quick"] else ""
    parts = [f"# topograd benchmarks{quick}", ""]
    parts += [f"- {line}" for line in environment_lines(results["environment"])]
    parts += ["", METHOD, "", markdown_table(results["rows"]), ""]
    parts += ["## Notes", ""] + [f"- {line}" for line in notes(results["rows"])]
    if results["extra"]:
        parts += ["", "## Other measurements (seconds unless named)", ""]
        parts += [f"- {line}" for line in extra_lines(results["extra"])]
    if results["errors"]:
        parts += ["", "## Failed workloads", ""]
        for name, error in results["errors"].items():
            parts += [f"### {name}", "", "```", error.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def plot(results: dict[str, Any], path: Path) -> Path | None:
    """Bar chart of every ratio (log scale, 1 = parity) as a PNG; None without matplotlib."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return None
    rows = [r for r in results["rows"] if r["ratios"]]
    labels = [f"{r['workload']}\n{r['case']} ({r['unit']})" for r in rows]
    figure = Figure(figsize=(10, 0.55 * len(rows) + 1.8), dpi=110)
    axes = figure.add_subplot()
    height = 0.8 / len(PEERS)
    colors = {"numpy": "#4c72b0", "torch": "#dd8452", "micrograd": "#55a868"}
    bars: dict[str, tuple[list[float], list[float]]] = {peer: ([], []) for peer in PEERS}
    for i, r in enumerate(rows):  # a row's bars are centred on its label, however many
        present = [peer for peer in PEERS if peer in r["ratios"]]
        for k, peer in enumerate(present):
            bars[peer][0].append(i + (k - (len(present) - 1) / 2) * height)
            bars[peer][1].append(r["ratios"][peer])
    for peer, (ys, xs) in bars.items():
        if xs:
            axes.barh(ys, xs, height=height, color=colors[peer], label=f"engine / {peer}")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    times = FuncFormatter(lambda value, _: f"{value:g}×")
    axes.xaxis.set_major_formatter(times)
    axes.xaxis.set_minor_formatter(times)
    axes.tick_params(axis="x", which="minor", labelsize=7)
    axes.set_yticks(range(len(rows)), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("engine cost ÷ peer cost (log scale; < 1: engine faster or smaller)")
    axes.set_title("topograd benchmarks: ratios measured side by side in one run")
    if rows:
        axes.legend(fontsize=8, loc="lower right")
    axes.grid(True, axis="x", which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    return path


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """``latest.json``, ``latest.md`` and (with matplotlib) ``latest.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "latest.json", out / "latest.md"]
    written[0].write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    written[1].write_text(markdown(results), encoding="utf-8")
    png = plot(results, out / "latest.png")
    if png is None:
        print("matplotlib is not installed: skipped latest.png (pip install matplotlib)")
    else:
        written.append(png)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run, print the table, write the files; 1 if a workload failed."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="smallest sizes, seconds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the results")
    parser.add_argument(
        "--only", nargs="+", choices=TABLED + EXTRAS, metavar="NAME",
        help=f"run only these workloads ({', '.join(TABLED + EXTRAS)})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run_all(args.quick, args.only or TABLED + EXTRAS)
    results["total_seconds"] = time.perf_counter() - start
    print()
    print("\n".join(environment_lines(results["environment"])))
    print()
    print(text_table(results["rows"]))
    print()
    print("\n".join(notes(results["rows"]) + extra_lines(results["extra"])))
    for path in write(results, args.out):
        print(f"wrote {path}")
    print(f"total {results['total_seconds']:.1f} s")
    if results["errors"]:
        print(f"failed: {', '.join(results['errors'])}", file=sys.stderr)
        return 1
    return 0
