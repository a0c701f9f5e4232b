"""README.md stays true: its two commands, its quickstart, and its API overview."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO_COMMAND = 'python -m pip install -e ".[demo]" && topograd demo'
TEST_COMMAND = 'python -m pip install -e ".[dev]" && python -m pytest'


def test_readme_gives_the_demo_and_test_commands():
    assert DEMO_COMMAND in README
    assert TEST_COMMAND in README


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci.splitlines()


def test_the_console_script_is_declared():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'topograd = "nn.cli:main"' in pyproject


def test_quickstart_runs_and_its_comments_hold(tmp_path, monkeypatch):
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    if not _has_dot():
        block = block.replace('"graph.svg"', '"graph.dot"')
    namespace: dict = {}
    exec(compile(block, "README quickstart", "exec"), namespace)  # noqa: S102
    assert namespace["accuracy"] >= 0.95
    np.testing.assert_allclose(
        namespace["W1"].grad.numpy(), namespace["dW1"], rtol=1e-10, atol=1e-15
    )
    np.testing.assert_allclose(
        namespace["W2"].grad.numpy(), namespace["dW2"], rtol=1e-10, atol=1e-15
    )
    np.testing.assert_allclose(namespace["x"].grad.numpy(), [0.85534102, -1.1815685, 1.10532923])
    second = ag.grad(ag.grad(namespace["f"]))(1.0).item()
    assert second == pytest.approx(2 * np.cos(1.0) - np.sin(1.0), rel=1e-12)
    assert any(p.stat().st_size > 0 for p in tmp_path.glob("graph.*"))


@pytest.mark.parametrize(
    "names",
    [
        [n for n in ag.__all__ if n not in {"REGISTRY", "FunctionCtx", "viz"}],
        [n for n in nn.__all__ if n not in {"F", "data", "functional", "init", "manual", "optim"}],
    ],
    ids=["autograd", "nn"],
)
def test_api_overview_names_every_public_name(names):
    overview = README[README.index("## API overview") :]
    missing = [n for n in names if not re.search(rf"\b{re.escape(n)}\b", overview)]
    assert not missing, f"README's API overview does not mention {missing}"


def _has_dot() -> bool:
    import shutil

    return shutil.which("dot") is not None
