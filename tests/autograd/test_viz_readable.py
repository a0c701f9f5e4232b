"""Readable defaults: every example model's picture fits a 16:9 screen; repeats fold; the guard.

The models are ``examples/draw_graphs.py``'s, written from today's ops in the shapes of
the coming layers (a one- and a four-block GPT, a convolution as unfold + matmul, an
unrolled LSTM, a 20-layer MLP, a 12-op and a 600-op chain). Sizes come from real
``dot`` renders (deterministic), never from timings.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
from autograd.viz import GraphTooLargeError, draw, to_dot
from autograd.viz.layout import READABLE_ZOOM, SCREEN, estimate, zoom
from autograd.viz.picture import Picture
from autograd.viz.repeats import find_folds
from benchmarks.bench_viz import EXAMPLES, huge_chain


def cluster_labels(source: str) -> list[str]:
    return re.findall(r"label=<<B>(.*?)</B>>", source)


@pytest.mark.parametrize("name", list(EXAMPLES.MODELS))
def test_every_example_model_fits_the_screen_readably(name):
    graph = to_dot(EXAMPLES.MODELS[name][1]())
    width, height = EXAMPLES.picture_size(graph.pipe(format="svg", encoding="utf-8"))
    assert min(1.0, SCREEN[0] / width, SCREEN[1] / height) >= READABLE_ZOOM, (width, height)


def test_the_notes_network_keeps_todays_picture():
    loss = EXAMPLES.two_layer_loss()
    graph = to_dot(loss)
    assert graph.rankdir == "LR" and "rankdir=LR" in graph.source
    assert to_dot(loss).source == to_dot(loss, rankdir="LR", modules="cluster", fold=False,
                                          compact=False).source  # fmt: skip


def test_a_deep_chain_goes_top_to_bottom_in_compact_boxes():
    graph = to_dot(EXAMPLES.twelve_op_chain())
    assert graph.rankdir == "TB" and graph.picture.compact
    assert 'label=""' not in graph.source and "->" in graph.source  # edges without labels


def test_repeats_are_drawn_once_with_their_count():
    chain = to_dot(EXAMPLES.chain_loss(600))
    assert cluster_labels(chain.source) == ["×300 tanh → multiply"]
    assert chain.source.count("<B>tanh</B>") == 1 and len(chain.picture.items) < 12
    mlp = to_dot(EXAMPLES.deep_mlp_loss(20))
    assert "×19 Linear → ReLU" in cluster_labels(mlp.source)
    lstm = to_dot(EXAMPLES.lstm_loss(8))
    assert "×8 LSTMCell" in cluster_labels(lstm.source)
    gpt = to_dot(EXAMPLES.gpt_loss(4), modules="cluster", compact=False)
    assert "×4 Block" in cluster_labels(gpt.source)


def test_a_fold_covers_exactly_the_repeats():
    loss = EXAMPLES.deep_mlp_loss(6)
    picture = Picture(loss, fold=True)
    (fold,) = picture.folds
    assert (fold.start, fold.period, fold.count) == (0, 2, 5)  # linear + relu, 5 times
    hidden = set(picture.representative)
    assert len(hidden) == 8 and all(n not in picture.op_item for n in hidden)
    drawn_params = [t.name for _, t in picture.leaves if t.requires_grad]
    assert drawn_params == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.10.weight",
        "layers.10.bias",
    ]
    # the last layer reads the fifth repeat's output: its edge comes from the first repeat
    last = picture.op_item[picture.nodes[-2]]
    first_relu = picture.tensor_item[picture.nodes[1]]
    assert (first_relu.id, last.id, "8×16") in picture.edges


def test_folds_ignore_values_but_not_shapes():
    x = ag.tensor(np.ones(3), requires_grad=True)
    y = x
    for k in range(6):  # other constants each time: the same step
        y = ag.tanh(y) * (k + 1.0) if k % 2 else ag.sin(y) + 1.0
    (fold,) = find_folds(Picture(y.sum()).nodes[:-1])
    assert (fold.period, fold.count) == (4, 3)
    a = ag.tensor(np.ones(3), requires_grad=True)
    b = ag.tensor(np.ones(4), requires_grad=True)
    mixed = [ag.tanh(ag.tanh(ag.tanh(a))).sum(), ag.tanh(ag.tanh(ag.tanh(b))).sum()]
    assert find_folds(Picture(mixed[0] + mixed[1]).nodes) == []  # same ops, other shapes


def test_depth_limit_draws_the_ops_nearest_the_root():
    loss = EXAMPLES.chain_loss(40)
    source = to_dot(loss, depth=3, fold=False).source
    assert source.count("op") >= 3 and "earlier ops not drawn" in source
    picture = Picture(loss, depth=3)
    assert [n.prim.name for n in picture.nodes] == ["tanh", "multiply", "sum"]
    with pytest.raises(ValueError, match="depth"):
        to_dot(loss, depth=0)


def test_modules_as_a_depth_collapse_below_it():
    loss = EXAMPLES.gpt_loss(1)
    top = Picture(loss, modules=0)
    assert [item.title for item in top.items if item.kind == "module"] == ["GPT"]
    one = Picture(loss, modules=1)
    boxes = [item.title for item in one.items if item.kind == "module"]
    assert boxes == ["Embedding tok", "Embedding pos", "Sequential blocks", "LayerNorm ln_f",
                     "Linear head"]  # fmt: skip
    box = next(item for item in one.items if item.title == "Sequential blocks")
    assert "46 ops, 12 parameters (3,280 values)" in box.rows and "… and 8 more" in box.rows
    with pytest.raises(ValueError, match="modules"):
        to_dot(loss, modules=-1)


def test_estimate_is_close_to_dot():
    picture = Picture(EXAMPLES.gpt_loss(1), modules=1, fold=True, compact=True)
    graph = to_dot(EXAMPLES.gpt_loss(1), modules=1, fold=True, compact=True, rankdir="TB")
    real = EXAMPLES.picture_size(graph.pipe(format="svg", encoding="utf-8"))
    width, height = estimate(picture, "TB", picture.leaf_grads())
    assert 0.6 < width * 4 / 3 / real[0] < 1.7 and 0.85 < height * 4 / 3 / real[1] < 1.15
    assert zoom((100, 100)) == 1.0 and zoom((SCREEN[0] * 1.5, 10)) == pytest.approx(0.5)


def test_draw_refuses_a_huge_graph_and_says_how_to_draw_a_part(tmp_path):
    loss = huge_chain()
    with pytest.raises(GraphTooLargeError) as info:
        draw(loss, tmp_path / "g.svg")
    message = str(info.value)
    for remedy in ("depth=", "to_dot(t)", "modules='collapse'", "explore", "max_boxes=None"):
        assert remedy in message
    assert isinstance(info.value, ValueError) and list(tmp_path.iterdir()) == []
    assert draw(loss, tmp_path / "g.dot").exists()  # DOT text needs no layout
    assert draw(loss, tmp_path / "part.svg", depth=30).read_bytes().startswith(b"<?xml")


def test_a_huge_graph_displays_as_a_message_in_notebooks():
    graph = to_dot(huge_chain(), fold=False)
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "depth=" in bundle["text/plain"]
    assert graph._repr_svg_() is None
    small = to_dot(EXAMPLES.two_layer_loss())
    assert small._repr_svg_().lstrip().startswith("<?xml")
    assert small.copy().picture is small.picture
