"""Hostile input to pictures (issue 13, item 17), and what labels keep after backward.

Each class of failure has a test that failed before the fix: control characters and
16 KiB names made ``dot`` reject the graph with a raw ``CalledProcessError``, a lone
surrogate crashed the UTF-8 encoding, complex constants raised ``TypeError`` in the
label code, ``dot`` failures did not name the file, and drawing into a missing folder
named the temporary file.
"""

from __future__ import annotations

import html
import os
import stat

import numpy as np
import pytest

import autograd as ag
from autograd.viz import draw, to_dot
from autograd.viz.labels import MAX_TEXT, clean, number_text, value_lines

HOSTILE_NAMES = [
    "bell\x07",
    "nul\x00byte",
    "escape\x1b[31m",
    "lines\r\n\ttab",
    "del\x7f and c1\x9b",
    "surrogate\ud800",
    "x" * 17_000,
    "<b>&amp;</b> ]] \" '",
]


def scaled(name: str) -> ag.Tensor:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.name = name
    y = x * 2.0
    y.name = name
    return y.sum()


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_any_tensor_name_renders(tmp_path, name):
    path = draw(scaled(name), tmp_path / "g.svg")
    svg = path.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "</svg>" in svg
    assert html.escape(clean(name)[:12], quote=False) in svg


def test_clean_escapes_control_characters_and_cuts_long_text():
    assert clean("a\x07b\x00\n\t\x7f\x9f") == "a\\x07b\\x00\\n\\t\\x7f\\x9f"
    assert clean("sur\ud800") == "sur\\ud800"
    long = clean("y" * 20_000)
    assert len(long) == MAX_TEXT and long.endswith("…")
    assert clean("plain σ(XW1) ∇") == "plain σ(XW1) ∇"


def test_module_names_are_cleaned_too():
    nn = pytest.importorskip("nn")
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    model.add_module("odd\x07name", nn.ReLU())
    out = model(ag.tensor(np.ones((1, 2), dtype=np.float32))).sum()
    source = to_dot(out, modules="cluster").source
    assert "odd\\x07name" in source and "\x07" not in source


def test_complex_constants_and_values_are_labelled():
    class Scale(ag.Function):
        @staticmethod
        def forward(ctx, x, c):
            return x * np.abs(c)

        @staticmethod
        def backward(ctx, g):
            return g, None

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    source = to_dot(Scale.apply(x, np.array([1 + 2j, -3j]))).source
    assert "1+2j 0-3j" in source
    assert number_text(np.complex64(-1 - 0.5j)) == "-1-0.5j"
    big = value_lines(np.full(30, 1 + 1j))
    assert big[0].startswith("|z| mean 1.41")


def test_value_lines_of_odd_arrays():
    assert value_lines(np.array(["a", "b"])) == ["a b"]
    assert value_lines(np.array(["s"] * 30)) == ["30 values of <U1"]
    with np.errstate(all="raise"):  # no warning escapes for inf or NaN
        assert value_lines(np.full(30, np.inf)) == ["mean inf  std nan", "min inf  max inf"]


def test_dot_failure_names_the_file_and_quotes_dot(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: something went wrong in layout' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent))
    target = tmp_path / "g.svg"
    with pytest.raises(RuntimeError) as info:
        draw(scaled("x"), target)
    message = str(info.value)
    assert str(target) in message and "something went wrong in layout" in message
    assert os.listdir(tmp_path) == ["bin"]  # no file, no temporary left


def test_draw_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "g.svg"
    with pytest.raises(FileNotFoundError) as info:
        draw(scaled("x"), target)
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)
    assert info.value.filename == str(target)


def test_name_must_be_a_string():
    x = ag.tensor(1.0)
    with pytest.raises(TypeError, match="str"):
        x.name = 42


# ---------------------------------------------------------------- after backward
def test_loss_value_and_small_constants_survive_backward():
    x = ag.tensor([0.5, -1.0], requires_grad=True)
    labels = np.array([1, 0, 1])
    loss = (x * 3.0).sum() + ag.softmax_cross_entropy(ag.ones((3, 2)) * x, labels)
    loss.name = "loss"
    before = to_dot(loss).source
    loss.backward()
    after = to_dot(loss).source
    assert f">{number_text(loss.item())}<" in after  # the 0-d output keeps its value
    assert ">1 0 1<" in after and ">3<" in after  # the label vector and the scale factor
    assert after.count("const") == before.count("const")


def test_large_constants_keep_only_their_shape_after_backward():
    x = ag.tensor(np.ones(30), requires_grad=True)
    y = (x * np.arange(30.0)).sum()
    y.backward()
    node = y._node[0]  # the multiply
    assert node.saved is None and not hasattr(node, "constant")
    source = to_dot(y).source
    assert "const" in source


def test_retained_graph_keeps_no_separate_constant():
    x = ag.tensor([1.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward(retain_graph=True)
    assert not hasattr(y._node[0], "constant")  # the saved inputs are still there
