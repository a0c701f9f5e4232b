"""The explorer page's content (the browser test drives it), and notebook display."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from autograd.viz import backward_steps, explore
from autograd.viz.explore import toggled
from benchmarks.bench_viz import EXAMPLES


def page_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    payload = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return json.loads(payload.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def gpt_page(tmp_path_factory) -> Path:
    return explore(EXAMPLES.gpt_loss(), tmp_path_factory.mktemp("explore") / "gpt.html")


def test_the_page_is_self_contained(gpt_page):
    text = gpt_page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "@import" not in text and "fetch(" not in text
    assert text.count("<svg") >= 2 and "viewBox" in text


def test_views_open_and_close_modules(gpt_page):
    data = page_data(gpt_page)
    first = data["views"][0]
    boxes = re.findall(r"<title>(m\d+)</title>", first["svg"])
    assert len(boxes) == 5  # tok, pos, blocks, ln_f, head
    blocks = next(b for b in boxes if "Sequential blocks" in data["items"][b])
    opened = data["views"][first["toggles"][blocks[1:]]]
    assert f"<title>{blocks}</title>" not in opened["svg"]
    assert f"<title>cluster_{blocks[1:]}</title>" in opened["svg"]  # now a frame
    assert data["views"][opened["toggles"][blocks[1:]]] == first  # closing it goes back
    assert len(data["views"]) <= 24


def test_panels_show_values_gradients_and_formulas(gpt_page):
    data = page_data(gpt_page)
    panels = data["items"]
    ops = [html for html in panels.values() if "<h2>op <code>softmax_cross_entropy" in html]
    assert ops and "VJP <code>dz = (S - I_y) / m</code>" in ops[0]
    weight = next(h for h in panels.values() if "<h2>head.weight</h2>" in h)
    assert "16×16" in weight and "float32" in weight and "dL/d(head.weight)" in weight
    assert "norm " in weight and "mean " in weight
    steps = data["steps"]
    assert len(steps) == 62 and steps[0]["op"] is None  # the seed, then 61 VJPs
    assert "Step 1 of 61" in steps[1]["html"] and len(steps[-1]["have"]) > len(steps[1]["have"])


def test_after_backward_the_page_says_the_walkthrough_needs_the_graph(tmp_path):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    loss = (ag.tanh(x) * 3.0).sum()
    loss.backward()
    data = page_data(explore(loss, tmp_path / "freed.html"))
    assert isinstance(data["steps"], str) and "retain_graph=True" in data["steps"]
    x_panel = next(h for h in data["items"].values() if "<h2>x</h2>" in h)
    assert "<h3>.grad</h3>" in x_panel  # leaves still show their .grad


def test_toggling_opens_one_level_and_closes_everything_inside():
    children = {(1,): [(1, 2), (1, 3)], (1, 2): [(1, 2, 4)]}
    assert toggled(frozenset({(1,)}), (1,), children) == {(1, 2), (1, 3)}
    assert toggled(frozenset({(1, 2), (1, 3)}), (1,), children) == {(1,)}


def test_walkthrough_names_what_unnamed_tensors_receive(tmp_path):
    x = ag.tensor([0.5, -1.0], requires_grad=True)
    loss = ag.exp(x * 2.0).sum()
    index = backward_steps(loss, tmp_path, image_format="dot")[-1]
    text = index.read_text(encoding="utf-8")
    assert "receives :" not in text and "receives dL/d(output of multiply)" in text
    assert "receives dL/dparameter" in text


def test_modules_display_their_structure_in_notebooks():
    nn = pytest.importorskip("nn")
    model = nn.MLP([3, 4, 2], rng=0)
    model.register_buffer("scale", np.ones(2, dtype=np.float32))
    html = model._repr_html_()
    assert html.count("<details") == 1 + 1 + 3  # MLP, layers, Linear, ReLU, Linear
    assert "Linear(in_features=3, out_features=4, bias=True)" in html
    assert "26 parameter values" in html and "weight</td><td>3×4</td><td>float32" in html
    assert "scale</td><td>2</td><td>float32</td><td class=n>buffer" in html


def test_graphs_display_as_svg_in_notebooks():
    graph = ag.to_dot(EXAMPLES.two_layer_loss())
    bundle = graph._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<svg" in graph._repr_svg_()
