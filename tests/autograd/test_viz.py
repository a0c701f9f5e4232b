"""Graph pictures: DOT structure, labels, styles, clusters, files, and the walkthrough."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from autograd.backward import run_backward, seed_gradient
from autograd.mode import enter_scope, exit_scope
from autograd.viz import backward_steps, draw, to_dot
from autograd.viz.dot import COLORS, HIGHLIGHT_FILL
from autograd.viz.labels import SMALL, number_text, value_lines

ROOT = Path(__file__).resolve().parents[2]
NODE = re.compile(r"^\t+(\w+) \[label=<(.*)> (.*)\]$")
EDGE = re.compile(r'^\t+(\w+) -> (\w+) \[label="([^"]*)"(.*)\]$')
CLUSTER = re.compile(r"^\t+subgraph (cluster_\w+) \{$")
CLUSTER_LABEL = re.compile(r"^\t+label=<<B>(.*?)</B>>")


class Parsed:
    """Boxes, edges and cluster membership read back from DOT text."""

    def __init__(self, source: str) -> None:
        self.nodes: dict[str, tuple[str, str]] = {}  # id -> (label, attributes)
        self.edges: list[tuple[str, str, str, str]] = []
        self.cluster_of: dict[str, tuple[str, ...]] = {}  # id -> cluster labels, outermost first
        path: list[str] = []
        pending = False
        for line in source.splitlines():
            if CLUSTER.match(line):
                path.append("?")
                pending = True
            elif pending and CLUSTER_LABEL.match(line):
                path[-1] = CLUSTER_LABEL.match(line).group(1)
                pending = False
            elif line.strip() == "}" and path:
                path.pop()
            elif m := EDGE.match(line):
                self.edges.append(m.groups())
            elif (m := NODE.match(line)) and m.group(1) not in ("graph", "node", "edge"):
                self.nodes[m.group(1)] = (m.group(2), m.group(3))
                self.cluster_of[m.group(1)] = tuple(path)

    def ids(self, prefix: str) -> list[str]:
        return [i for i in self.nodes if re.fullmatch(prefix + r"\d+", i)]

    def fill(self, node_id: str) -> str:
        return re.search(r'fillcolor="([^"]+)"', self.nodes[node_id][1]).group(1)

    def find(self, text: str) -> str:
        """The one box whose label contains ``text``."""
        found = [i for i, (label, _) in self.nodes.items() if text in label]
        assert len(found) == 1, (text, found)
        return found[0]


def parse(root: ag.Tensor, **kw) -> Parsed:
    return Parsed(to_dot(root, **kw).source)


def small_graph() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor]:
    """``z = x * y + 2.0`` with x a named parameter and y a named input."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor([3.0, -0.5])
    x.name, y.name = "x", "y"
    z = x * y + 2.0
    z.name = "z"
    return x, y, z


# ---------------------------------------------------------------------- structure
def test_small_graph_boxes_edges_and_labels():
    x, y, z = small_graph()
    p = parse(z)
    assert [p.nodes[i][0].count("<B>") for i in p.ids("op")] == [1, 1]
    ops = {re.search(r"<B>(\w+)</B>", p.nodes[i][0]).group(1): i for i in p.ids("op")}
    assert set(ops) == {"multiply", "add"}
    assert len(p.ids("t")) == 4 and len(p.ids("c")) == 1
    xs, ys, zs, const = p.find("<B>x</B>"), p.find("<B>y</B>"), p.find("<B>z</B>"), p.ids("c")[0]
    inter = [i for i in p.ids("t") if i not in (xs, ys, zs)][0]
    assert sorted(p.edges) == sorted(
        [
            (xs, ops["multiply"], "2", ""),
            (ys, ops["multiply"], "2", ""),
            (ops["multiply"], inter, "2", ""),
            (inter, ops["add"], "2", ""),
            (const, ops["add"], "scalar", ""),
            (ops["add"], zs, "2", ""),
        ]
    )
    assert "2 float64" in p.nodes[xs][0] and "1 2" in p.nodes[xs][0]  # shape, dtype, values
    assert "3 -0.5" in p.nodes[ys][0]
    assert "5 1" in p.nodes[zs][0]  # z = [1*3 + 2, 2*-0.5 + 2]
    assert "const" in p.nodes[const][0] and ">2<" in p.nodes[const][0]
    assert "∇" not in z.__repr__() and not any("∇" in label for label, _ in p.nodes.values())


def test_each_kind_has_its_style():
    x, y, z = small_graph()
    p = parse(z)
    kinds = {
        p.find("<B>x</B>"): "param",
        p.find("<B>y</B>"): "input",
        p.ids("c")[0]: "const",
        p.find("<B>z</B>"): "root",
        p.ids("op")[0]: "op",
    }
    for node_id, kind in kinds.items():
        assert p.fill(node_id) == COLORS[kind][0], kind
    assert "peripheries=2" in p.nodes[p.find("<B>z</B>")][1]
    assert "shape=ellipse" in p.nodes[p.ids("op")[0]][1]
    assert "dashed" in p.nodes[p.ids("c")[0]][1]
    intermediate = [i for i in p.ids("t") if p.fill(i) == COLORS["inter"][0]]
    assert len(intermediate) == 1


def test_gradients_after_backward_on_leaves_only():
    x, y, z = small_graph()
    z.sum().backward()  # dz/dx = y = [3, -0.5]
    p = parse(z.sum())
    assert "∇ 3 -0.5" in p.nodes[p.find("<B>x</B>")][0]
    assert sum("∇" in label for label, _ in p.nodes.values()) == 1
    # backward freed the graph, but small outputs and a small constant keep their values
    const = p.nodes[p.ids("c")[0]][0]
    assert "const" in const and "scalar float64" in const and ">2<" in const
    assert "2 float64" in p.nodes[p.find("<B>z</B>")][0]
    assert ">5 1<" in p.nodes[p.find("<B>z</B>")][0]
    assert not any("∇" in label for label, _ in parse(z, show_grad=False).nodes.values())


def test_show_data_false_hides_values_but_keeps_shapes():
    x, y, z = small_graph()
    p = parse(z, show_data=False)
    assert not any("FACE" in label for label, _ in p.nodes.values())
    assert "2 float64" in p.nodes[p.find("<B>x</B>")][0]


def test_large_tensors_show_summary_stats():
    x = ag.tensor(np.arange(100.0), requires_grad=True)
    p = parse((x * 2).sum())
    label = p.nodes[p.ids("t")[0]][0]
    assert "100 float64" in label
    assert "mean 49.5  std 28.9" in label and "min 0  max 99" in label


def test_value_formatting():
    assert value_lines(np.array([[1.0, -0.25], [10.5, 0.0]])) == ["   1 -0.25", "10.5     0"]
    assert value_lines(np.float64(-0.0)) == ["0"]
    assert value_lines(np.array([[1, 20], [300, 4]])) == ["  1 20", "300  4"]
    assert value_lines(np.array([True, False])) == ["T F"]
    assert value_lines(np.zeros((0, 3))) == ["(empty)"]
    assert len(value_lines(np.ones(SMALL))) == 2  # 20 numbers wrap at 10 per line
    assert number_text(1234567.0) == "1.23e+06" and number_text(np.int64(7)) == "7"


def test_float32_dtype_and_op_parameters_are_shown():
    x = ag.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    p = parse(x.sum(axis=1))
    assert "2×3 float32" in p.nodes[p.ids("t")[0]][0]
    assert "axis=(1,)" in p.nodes[p.ids("op")[0]][0]
    assert "keepdims" not in p.nodes[p.ids("op")[0]][0]  # False/None parameters are skipped


def test_dot_is_deterministic_across_builds():
    assert to_dot(small_graph()[2]).source == to_dot(small_graph()[2]).source


def test_shared_input_is_one_box_with_two_edges():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    p = parse(x * x)
    assert len(p.ids("t")) == 2
    assert [e[0] for e in p.edges].count(p.ids("t")[0]) == 2


def test_leaf_root_is_one_box():
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    x.name = "w"
    p = parse(x)
    assert list(p.nodes) == ["t0"] and p.edges == []
    assert p.fill("t0") == COLORS["param"][0]


def test_deep_chain_is_drawn_without_recursion():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = ag.tanh(y)
    p = parse(y, show_data=False, fold=False, compact=False)
    assert len(p.ids("op")) == 3000 and len(p.edges) == 6000


def test_options_rankdir_legend_and_errors():
    z = small_graph()[2]
    assert "rankdir=TB" in to_dot(z, rankdir="TB").source
    legend = to_dot(z, legend=True).source
    assert "legend" in legend and all(COLORS[k][0] in legend for k in COLORS if k != "module")
    assert "legend" not in to_dot(z).source
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(z, rankdir="XY")
    with pytest.raises(ValueError, match="modules"):
        to_dot(z, modules="fold")
    with pytest.raises(TypeError, match="Tensor"):
        to_dot(np.ones(3))


# ---------------------------------------------------------------------- modules
class Block:
    """Stands in for an nn.Module: clusters only need a class name and ``_name``."""

    def __init__(self, name: str | None = None) -> None:
        self._name = name


class Act(Block):
    pass


@pytest.fixture
def set_scope():
    entered: list = []  # what each enter_scope returned, to leave in reverse

    def set_(*modules: object) -> None:
        while entered:
            exit_scope(entered.pop())
        for module in modules:
            entered.append(enter_scope(module))

    yield set_
    set_()


def model_graph(set_scope) -> ag.Tensor:
    """net(X) = act(X @ W1 @ shared) @ shared, recorded inside nested dummy modules."""
    net, lin0, act, lin1 = Block("net"), Block("lin0"), Act(), Block("lin1")
    x = ag.tensor(np.ones((2, 2)))
    w1 = ag.tensor(np.eye(2), requires_grad=True)
    shared = ag.tensor(np.eye(2), requires_grad=True)
    x.name, w1.name, shared.name = "X", "W1", "shared"
    set_scope(net, lin0)
    h = x @ w1 @ shared
    set_scope(net, act)
    h = ag.relu(h)
    set_scope(net, lin1)
    h = h @ shared
    set_scope()
    out = h.sum()
    out.name = "out"
    return out


def test_module_calls_form_nested_labelled_clusters(set_scope):
    p = parse(model_graph(set_scope))
    assert p.cluster_of[p.find("<B>W1</B>")] == ("Block net", "Block lin0")
    assert p.cluster_of[p.find("<B>shared</B>")] == ("Block net",)  # used by two modules
    assert p.cluster_of[p.find("<B>X</B>")] == ()  # data comes from outside the model
    assert p.cluster_of[p.find("<B>out</B>")] == ()
    relu = p.find("<B>relu</B>")
    assert p.cluster_of[relu] == ("Block net", "Act")
    ops = [i for i in p.ids("op") if p.cluster_of[i] == ("Block net", "Block lin0")]
    assert len(ops) == 2  # the two matmuls of lin0
    assert p.nodes.keys() == parse(model_graph(set_scope), modules="flat").nodes.keys()
    assert "subgraph" not in to_dot(model_graph(set_scope), modules="flat").source


def test_collapse_draws_each_innermost_module_as_one_box(set_scope):
    p = parse(model_graph(set_scope), modules="collapse")
    boxes = p.ids("m")
    assert len(boxes) == 3 and all("box3d" in p.nodes[b][1] for b in boxes)
    lin0 = p.find("Block lin0")
    assert "W1 2×2" in p.nodes[lin0][0] and "matmul" in p.nodes[lin0][0]
    assert not any("<B>W1</B>" in label for label, _ in p.nodes.values())  # hidden inside
    assert p.cluster_of[lin0] == ("Block net",)
    # visible: X, shared (used by two modules), the three module results, sum's output
    assert len(p.ids("t")) == 6 and len(p.ids("op")) == 1  # only the sum outside modules
    sources = {e[0] for e in p.edges if e[1] == lin0}
    assert sources == {p.find("<B>X</B>"), p.find("<B>shared</B>")}
    assert len(p.edges) == len(set((a, b) for a, b, *_ in p.edges))


def test_nn_mlp_parameters_are_named_and_clustered():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "MLP"):
        pytest.skip("nn.MLP is not written yet")
    model = nn.MLP([3, 4, 2], rng=np.random.default_rng(0))
    loss = ag.softmax_cross_entropy(model(ag.tensor(np.ones((2, 3)))), np.array([0, 1]))
    p = parse(loss)
    names = [name for name, _ in model.named_parameters()]
    for name in names:
        box = p.find(f"<B>{name}</B>")
        assert p.cluster_of[box] and p.cluster_of[box][-1].startswith("Linear")


# ---------------------------------------------------------------------- files
def test_draw_dot_needs_no_graphviz(tmp_path, monkeypatch):
    z = small_graph()[2]
    monkeypatch.setenv("PATH", str(tmp_path))
    path = draw(z, tmp_path / "g.dot")
    assert path == tmp_path / "g.dot"
    assert path.read_text(encoding="utf-8") == to_dot(z).source


@pytest.mark.parametrize(
    "suffix, magic",
    [(".svg", (b"<?xml", b"<svg")), (".png", (b"\x89PNG\r\n\x1a\n",)), (".pdf", (b"%PDF",))],
)
def test_draw_renders_through_dot(tmp_path, suffix, magic):
    path = draw(small_graph()[2], tmp_path / f"g{suffix}", legend=True)
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 500
    assert sorted(os.listdir(tmp_path)) == [f"g{suffix}"]  # no temporary file left


def test_svg_contains_every_box(tmp_path):
    z = small_graph()[2]
    svg = draw(z, tmp_path / "g.svg").read_text(encoding="utf-8")
    titles = re.findall(r'<g id="node\d+" class="node">\s*<title>(\w+)</title>', svg)
    assert sorted(titles) == sorted(parse(z).nodes)


def test_missing_dot_raises_with_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as info:
        draw(small_graph()[2], tmp_path / "g.png")
    assert "brew install graphviz" in str(info.value) and "`dot`" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_drawn_files_get_ordinary_permissions(tmp_path):
    reference = tmp_path / "reference.txt"
    reference.write_text("x")
    path = draw(small_graph()[2], tmp_path / "g.dot")
    assert path.stat().st_mode == reference.stat().st_mode  # not mkstemp's private 0o600


def test_draw_rejects_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"\.jpg.*\.svg, \.png, \.pdf, \.dot"):
        draw(small_graph()[2], tmp_path / "g.jpg")


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "g.dot"
    path.write_text("old")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        draw(small_graph()[2], path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["g.dot"]


def test_digraph_displays_inline_in_jupyter():
    bundle = to_dot(small_graph()[2])._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))


# ---------------------------------------------------------------------- walkthrough
def steps_data(index: Path) -> list[dict]:
    text = index.read_text(encoding="utf-8")
    payload = re.search(r'<script type="application/json" id="steps">(.*?)</script>', text, re.S)
    return json.loads(payload.group(1).replace("<\\/", "</"))


def diamond() -> tuple[ag.Tensor, ag.Tensor]:
    """x feeds exp and sin; both feed a product; tanh of it plus exp again; then a sum."""
    x = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x.name = "x"
    a = ag.exp(x)
    b = ag.sin(x)
    out = (ag.tanh(a * b) + a).sum()
    out.name = "L"
    return x, out


def engine_order(root: ag.Tensor, leaf: ag.Tensor) -> list[str]:
    names: list[str] = []
    run_backward(
        root,
        seed_gradient(root, None),
        retain_graph=True,
        targets={leaf: 0},
        on_step=lambda node, g, grads: names.append(node.prim.name),
    )
    return names


def test_walkthrough_follows_the_engine_order(tmp_path):
    x, out = diamond()
    expected = engine_order(out, x)
    assert sorted(expected) == sorted(["sum", "add", "tanh", "multiply", "exp", "sin"])
    files = backward_steps(out, tmp_path, image_format="dot")
    assert [f.name for f in files] == [f"step_{k:03d}.dot" for k in range(7)] + ["index.html"]
    data = steps_data(files[-1])
    assert data[0]["op"] is None
    p = parse(out)  # same ids as the walkthrough's pictures
    ops = [re.search(r"<B>(\w+)</B>", p.nodes[d["op"]][0]).group(1) for d in data[1:]]
    assert ops == expected
    for frame, d in zip(files[:-1], data):
        frame_graph = Parsed(frame.read_text(encoding="utf-8"))
        lit = [i for i in frame_graph.nodes if frame_graph.fill(i) == HIGHLIGHT_FILL]
        assert lit == ([] if d["op"] is None else [d["op"]])
        assert frame_graph.nodes.keys() == p.nodes.keys()


def test_walkthrough_shows_gradients_so_far_and_changes_nothing(tmp_path):
    x, out = diamond()
    files = backward_steps(out, tmp_path, image_format="dot")
    assert x.grad is None
    out.backward()  # the graph was retained, and nothing accumulated before
    a, b = np.exp(x.data), np.sin(x.data)
    t = np.tanh(a * b)
    expected = (1 - t**2) * (a * b + a * np.cos(x.data)) + a
    np.testing.assert_allclose(x.grad.numpy(), expected)
    final = Parsed(files[-2].read_text(encoding="utf-8"))
    x_box = final.find("<B>x</B>")
    assert f'COLOR="#b03a2e">∇ {value_lines(expected)[0]}' in final.nodes[x_box][0]
    first = Parsed(files[0].read_text(encoding="utf-8"))  # room kept, in the fill colour
    assert f'COLOR="{COLORS["param"][0]}">∇ {value_lines(expected)[0]}' in first.nodes[x_box][0]
    assert "∇ 1<" in first.nodes[first.find("<B>L</B>")][0]  # the seed
    # exp's output receives from multiply and from add: its panel says so
    data = steps_data(files[-1])
    assert any("summed with the 1 gradient(s) it received earlier" in d["html"] for d in data)


def test_walkthrough_html_references_every_frame_and_renders_svg(tmp_path):
    x, out = diamond()
    files = backward_steps(out, tmp_path / "new" / "folder")
    html = files[-1].read_text(encoding="utf-8")
    for frame in files[:-1]:
        assert frame.read_bytes().startswith((b"<?xml", b"<svg"))
        assert html.count(f'"{frame.name}"') == 2  # the step data and the link bar
    assert "ArrowRight" in html and "ArrowLeft" in html
    svg = files[3].read_text(encoding="utf-8")
    lit = re.findall(r"<title>(\w+)</title>\s*<\w+ fill=\"" + HIGHLIGHT_FILL, svg)
    assert lit == [steps_data(files[-1])[3]["op"]]


def load_example():
    spec = importlib.util.spec_from_file_location(
        "draw_graphs", ROOT / "examples" / "draw_graphs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_layer_walkthrough_replays_the_notes(tmp_path):
    loss = load_example().two_layer_loss()
    files = backward_steps(loss, tmp_path, image_format="dot")
    data = steps_data(files[-1])
    assert len(data) == 5  # the seed, then 4 VJPs
    p = parse(loss)
    ops = [re.search(r"<B>(\w+)</B>", p.nodes[d["op"]][0]).group(1) for d in data[1:]]
    assert ops == ["softmax_cross_entropy", "matmul", "relu", "matmul"]
    assert "(S - I_y) / m" in data[1]["html"]
    assert "dB = Aᵀ G" in data[2]["html"] and "dL/dW2" in data[2]["html"]
    assert "dL/dW1" in data[4]["html"] and "X</b>" in data[4]["html"]


def test_readme_picture_is_up_to_date():
    loss = load_example().two_layer_loss()
    loss.backward(retain_graph=True)
    committed = (ROOT / "examples" / "images" / "two_layer_graph.dot").read_text(encoding="utf-8")
    assert committed == to_dot(loss, legend=True).source, "run python examples/draw_graphs.py"
    svg = (ROOT / "examples" / "images" / "two_layer_graph.svg").read_bytes()
    assert svg.startswith((b"<?xml", b"<svg")) and b"W1" in svg


def test_walkthrough_errors(tmp_path):
    x, out = diamond()
    with pytest.raises(ValueError, match="leaf"):
        backward_steps(x, tmp_path)
    with pytest.raises(ValueError, match="image_format"):
        backward_steps(out, tmp_path, image_format="gif")
    vector = ag.exp(x)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        backward_steps(vector, tmp_path)
    files = backward_steps(vector, tmp_path, grad=np.ones(3), image_format="dot")
    assert len(files) == 3
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        backward_steps(out, tmp_path)
