"""The ``topograd`` console script (``nn.cli``): arguments, exit codes and the demo's outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import autograd as ag
from nn import cli

ROOT = Path(__file__).resolve().parent.parent


def exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code


def test_entry_point_is_declared():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["topograd"] == "nn.cli:main"


def test_version_and_help(capsys):
    assert exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"topograd {ag.__version__}"
    assert exit_code(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert exit_code(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--out" in out and "--dataset {spiral,circles}" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["train"],
        ["--frobnicate"],
        ["demo", "--epochs", "0"],
        ["demo", "--epochs", "many"],
        ["demo", "--hidden", "-3"],
        ["demo", "--lr", "0"],
        ["demo", "--dataset", "moons"],
    ],
)
def test_bad_arguments_print_usage_and_exit_2(argv, capsys):
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: topograd") and "error:" in err


def test_exit_codes_from_a_real_process(tmp_path):
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "nn.cli", *args], capture_output=True, text=True, timeout=60
    )
    assert run("--version").returncode == 0
    bad = run("demo", "--dataset", "moons")
    assert bad.returncode == 2 and "invalid choice: 'moons'" in bad.stderr


@pytest.mark.parametrize("dataset", ["spiral", "circles"])
def test_demo_trains_checks_and_writes_every_file(dataset, tmp_path, capsys):
    result = cli.run_demo(tmp_path / "out", dataset=dataset)
    assert result["grad_diff"] < 1e-12
    assert result["losses"][-1] < 0.1 * result["losses"][0]
    assert result["train_accuracy"] >= 0.97 and result["test_accuracy"] >= 0.95
    names = sorted(path.name for path in result["files"])
    assert names == ["decision_boundary.png", "loss_curve.png", "loss_graph.dot", "loss_graph.svg"]
    assert result["skipped"] == []
    out = tmp_path / "out"
    assert (out / "loss_graph.dot").read_text().startswith("digraph")
    assert "W1" in (out / "loss_graph.dot").read_text()
    assert "<svg" in (out / "loss_graph.svg").read_text()
    for png in ("loss_curve.png", "decision_boundary.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = capsys.readouterr().out
    assert f"largest difference {result['grad_diff']:.1e}" in report
    assert "loss_graph.svg" in report and "bytes" in report


def test_demo_without_matplotlib_tqdm_or_graphviz(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now fails
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.main(["demo", "--out", str(tmp_path), "--epochs", "20"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss_graph.dot"]
    report = capsys.readouterr().out
    assert "matplotlib is not installed: skipped loss_curve.png and decision_boundary.png" in report
    assert "`dot` program was not found: wrote loss_graph.dot only" in report
    assert "epoch    20/20" in report  # plain progress lines instead of a bar
    assert "tqdm is not installed" in report


def test_demo_into_a_file_path_fails_cleanly(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    assert cli.main(["demo", "--out", str(blocker), "--epochs", "5"]) == 1
    assert "topograd demo: cannot write to" in capsys.readouterr().err
