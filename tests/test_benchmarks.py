"""The benchmark code runs on the smallest sizes and checks what it compares (no timings)."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import bench_cnn, bench_memory, bench_mlp, runner
from benchmarks.common import micrograd_or_none, row, time_sample, torch_or_none


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("bench")
    return runner.main(["--quick", "--out", str(out)]), out


def test_quick_run_writes_json_markdown_and_png(quick_run):
    status, out = quick_run
    assert status == 0
    results = json.loads((out / "latest.json").read_text())
    assert results["errors"] == {} and results["quick"] is True
    assert set(results["seconds"]) >= set(runner.TABLED) | {"bench_chain"}
    env = results["environment"]
    assert env["cores"] >= 1 and env["numpy"] == np.__version__ and env["cpu"]
    workloads = {r["workload"] for r in results["rows"]}
    assert {"MLP training step (float32)", "Deep scalar chain"} <= workloads
    for r in results["rows"]:
        engine = r["values"].get("engine")
        if isinstance(engine, float):
            assert engine > 0
    md = (out / "latest.md").read_text()
    assert "| workload | case | unit | engine | numpy | torch | micrograd |" in md
    assert env["cpu"] in md
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_run_rows_hold_every_implementation(quick_run):
    _, out = quick_run
    rows = {r["workload"]: r for r in json.loads((out / "latest.json").read_text())["rows"]}
    mlp = rows["MLP training step (float32)"]
    assert mlp["case"] == "2-16-16-2 batch 32"
    assert mlp["ratios"]["numpy"] == pytest.approx(mlp["values"]["engine"] / mlp["values"]["numpy"])
    deep = rows["Deep scalar chain"]
    if micrograd_or_none() is not None:
        assert deep["values"]["micrograd"] == "fails (RecursionError)"
    if torch_or_none() is not None:
        assert isinstance(mlp["values"]["torch"], float) and "torch" in deep["ratios"]
    else:
        assert mlp["values"]["torch"] == "not installed (pip install torch)"


@pytest.mark.parametrize("was_enabled", [True, False])
def test_samples_pause_the_collector_or_keep_it_on_and_restore_it(was_enabled):
    seen = []
    record = lambda: seen.append(gc.isenabled())  # noqa: E731
    (gc.enable if was_enabled else gc.disable)()
    try:
        assert time_sample(record, 3) > 0
        assert gc.isenabled() is was_enabled
        assert time_sample(record, 2, collector=True) > 0
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()
    assert seen == [False] * 3 + [True] * 2


def test_scalar_rows_time_both_collector_protocols(quick_run):
    _, out = quick_run
    rows = json.loads((out / "latest.json").read_text())["rows"]
    cases = [r["case"] for r in rows if r["workload"].startswith("Scalar neurons")]
    assert cases == ["forward + MSE + backward", "forward + MSE + backward, garbage collector on"]


def test_ratios_are_engine_cost_over_peer_cost():
    times = row("w", "c", "ms", {"engine": 3.0, "numpy": 1.5, "torch": "fails (X)"})
    assert times["ratios"] == {"numpy": 2.0}
    rates = row("w", "c", "nodes/s", {"engine": 100.0, "micrograd": 400.0}, lower_is_better=False)
    assert rates["ratios"] == {"micrograd": 4.0}


def test_mlp_check_catches_a_different_computation(monkeypatch):
    problem = bench_mlp.make_problem((2, 16, 16, 2), 32)
    assert bench_mlp.check_first_step(problem, torch_or_none()) < 1e-10
    real = bench_mlp.nn.manual.mlp_grads
    other_activation = lambda X, y, Ws, bs: real(X, y, Ws, bs, activation="tanh")  # noqa: E731, N803
    monkeypatch.setattr(bench_mlp.nn.manual, "mlp_grads", other_activation)
    with pytest.raises(AssertionError, match="engine loss .* != numpy loss"):
        bench_mlp.check_first_step(problem, None)

    def doubled_bias_grads(X, y, Ws, bs):  # noqa: N803
        loss, weight_grads, bias_grads = real(X, y, Ws, bs)
        return loss, weight_grads, [2 * db for db in bias_grads]

    monkeypatch.setattr(bench_mlp.nn.manual, "mlp_grads", doubled_bias_grads)
    with pytest.raises(AssertionError, match="gradient 1 .* between the engine and numpy"):
        bench_mlp.check_first_step(problem, None)


def test_memory_measurements_cover_the_gradients():
    sizes, batch = bench_memory.QUICK_SIZE
    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    for impl in ("engine", "numpy"):  # a step allocates at least one float32 per gradient entry
        assert bench_memory.traced_peak(impl, sizes, batch) >= 4 * weights
    if bench_memory.rss_available():  # in a fresh process, as rss_peak's docstring asks:
        # memory that earlier tests freed would otherwise hide the step's peak
        assert bench_memory.rss_peak_in_fresh_process("engine", (256, 512, 10), 64) > 0


def test_runner_reports_a_failing_workload_and_exits_1(monkeypatch, tmp_path, capsys):
    def broken(quick: bool = False):
        raise ValueError("boom")

    monkeypatch.setattr(runner, "load", lambda name: SimpleNamespace(run=broken))
    assert runner.main(["--quick", "--only", "bench_mlp", "--out", str(tmp_path)]) == 1
    results = json.loads((tmp_path / "latest.json").read_text())
    assert "ValueError: boom" in results["errors"]["bench_mlp"]
    assert "## Failed workloads" in (tmp_path / "latest.md").read_text()
    assert "failed: bench_mlp" in capsys.readouterr().err


def test_runner_rejects_an_unknown_workload(capsys):
    with pytest.raises(SystemExit) as info:
        runner.main(["--only", "bench_nope"])
    assert info.value.code == 2
    assert "invalid choice: 'bench_nope'" in capsys.readouterr().err


def test_benchmarks_runs_as_a_module(tmp_path):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "bench_overhead",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=Path(runner.__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Per-op overhead, shape (8,) float32" in done.stdout
    assert (tmp_path / "latest.json").exists()


def test_quick_run_has_the_lenet_rows(quick_run):
    _, out = quick_run
    rows = [
        r for r in json.loads((out / "latest.json").read_text())["rows"] if "LeNet" in r["workload"]
    ]
    steps = [r for r in rows if r["unit"] == "ms/step"]
    assert [r["case"] for r in steps] == [
        "batch 8, 1×28×28, numpy keeps its buffers",
        "batch 8, 1×28×28, numpy allocates fresh arrays",
    ]
    assert all(isinstance(r["values"]["numpy"], float) for r in steps)
    profile = [r["case"] for r in rows if r["workload"].startswith("LeNet-5 step profile")]
    assert "conv2 VJP, input" in profile and "max pool 1 VJP" in profile


def test_cnn_check_catches_a_different_computation(monkeypatch):
    problem = bench_cnn.make_problem(4)
    assert bench_cnn.check_first_step(problem, torch_or_none()) < 1e-10
    real = bench_cnn.LeNetFloor.grads

    def doubled_conv_bias(self, X, y):  # noqa: N803
        loss, grads = real(self, X, y)
        grads["b2"] = 2 * grads["b2"]
        return loss, grads

    monkeypatch.setattr(bench_cnn.LeNetFloor, "grads", doubled_conv_bias)
    with pytest.raises(AssertionError, match="gradient b2 differs between the engine and numpy"):
        bench_cnn.check_first_step(problem, None)


def test_cnn_floor_gradients_match_central_differences():
    from benchmarks.cnn_floor import LeNetFloor

    problem = bench_cnn.make_problem(2)
    weights = {
        k: v.astype(np.float64) for k, v in bench_cnn.floor_weights(problem["model"]).items()
    }
    images, y = problem["X"].astype(np.float64), problem["y"]
    floor = LeNetFloor(weights)
    _, grads = floor.grads(images, y)
    rng = np.random.default_rng(0)
    for name in ("W1", "b2", "W3"):  # a few entries of a few tensors, central differences
        for index in [tuple(rng.integers(0, n) for n in weights[name].shape) for _ in range(3)]:
            saved = weights[name][index]
            weights[name][index] = saved + 1e-6
            up = floor.grads(images, y)[0]
            weights[name][index] = saved - 1e-6
            down = floor.grads(images, y)[0]
            weights[name][index] = saved
            assert grads[name][index] == pytest.approx((up - down) / 2e-6, abs=1e-7)


def test_optimizer_and_data_checks_catch_a_different_computation():
    from benchmarks import bench_data, bench_optim

    params, grads = bench_optim.make_problem((4, 8, 2))
    assert bench_optim.check_steps(bench_optim.build_cases(None, params, grads)) < 1e-6
    cases = bench_optim.build_cases(None, params, grads)
    cases["engine"] = (lambda: None, cases["engine"][1])  # a step that does nothing
    with pytest.raises(AssertionError, match="parameter 0 differs between engine and numpy"):
        bench_optim.check_steps(cases)
    X, y = np.arange(600.0, dtype=np.float32).reshape(300, 2), np.arange(300)  # noqa: N806
    passes = {
        "engine": lambda shuffle: bench_data.engine_batches((X, y), shuffle, 0),
        "numpy": lambda shuffle: bench_data.numpy_batches(X, y, shuffle, 0),
    }
    bench_data.check_batches(passes)
    passes["engine"] = lambda shuffle: bench_data.engine_batches((X, y[::-1]), shuffle, 0)
    with pytest.raises(AssertionError, match="engine's batches differ from numpy's"):
        bench_data.check_batches(passes)
