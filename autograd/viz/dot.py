"""DOT text of a :class:`~autograd.viz.picture.Picture`: styles, clusters, legend.

Styles, one per kind of box:

========== ===================================== ===============================
kind       what                                  drawn as
========== ===================================== ===============================
param      leaf that requires grad (a weight)    green box, bold border
input      leaf that does not (data, labels)     blue box
const      raw array / number given to an op     small grey dashed box
inter      intermediate result of an op          white box
root       the tensor being drawn (the loss)     orange box, double border
op         a primitive application               lavender ellipse
module     a collapsed module call               lavender 3-d box
========== ===================================== ===============================

Gradients are printed in red under the values, prefixed by ``∇``. The DOT text is
built as plain lines (no per-node ``graphviz`` calls), so 10,000-node graphs take a
fraction of a second.
"""

from __future__ import annotations

import graphviz

from ..tensor import Tensor
from .labels import GRAD_COLOR, escape, grad_row, table, value_lines
from .picture import ClusterKey, Item, Picture

RANKDIRS = ("LR", "RL", "TB", "BT")

#: Fill and border colour of each kind of box.
COLORS = {
    "param": ("#d9f2d0", "#3b8c2a"),
    "input": ("#dce9f8", "#3a6ea5"),
    "const": ("#efefef", "#9a9a9a"),
    "inter": ("#ffffff", "#7a7a7a"),
    "root": ("#fde3bf", "#cc7700"),
    "op": ("#eee3f7", "#8e5ea2"),
    "module": ("#e6d6f2", "#7b4a94"),
}
SHAPES = {"op": "ellipse", "module": "box3d"}
STYLE = {"param": "rounded,filled,bold", "const": "rounded,filled,dashed", "op": "filled"}
EXTRA = {"const": " fontsize=9", "root": " peripheries=2"}
HIGHLIGHT_FILL, HIGHLIGHT_BORDER = "#e74c3c", "#922b21"
LEGEND = (
    ("param", "parameter (requires grad)"),
    ("input", "input (no grad)"),
    ("const", "constant"),
    ("inter", "intermediate"),
    ("root", "output (root)"),
    ("op", "op (its VJP runs in backward)"),
)
GRAPH_ATTR = {
    "fontname": "Helvetica",
    "nodesep": "0.25",
    "ranksep": "0.4",
    "newrank": "true",
}
NODE_ATTR = {"fontname": "Helvetica", "fontsize": "11", "margin": "0.08,0.04"}
EDGE_ATTR = {
    "fontname": "Helvetica",
    "fontsize": "9",
    "fontcolor": "#666666",
    "color": "#666666",
    "arrowsize": "0.7",
}


def _style(kind: str, highlighted: bool = False) -> str:
    fill, border = (HIGHLIGHT_FILL, HIGHLIGHT_BORDER) if highlighted else COLORS[kind]
    extra = EXTRA.get(kind, "") + (" penwidth=3 fontcolor=white" if highlighted else "")
    return (
        f'shape={SHAPES.get(kind, "box")} style="{STYLE.get(kind, "rounded,filled")}" '
        f'fillcolor="{fill}" color="{border}"{extra}'
    )


STYLES = {kind: _style(kind) for kind in COLORS}
HIGHLIGHT_STYLES = {kind: _style(kind, True) for kind in ("op", "module")}
HIGHLIGHT_EDGE = f' color="{HIGHLIGHT_FILL}" fontcolor="{HIGHLIGHT_FILL}" penwidth=2.5'


def build_digraph(
    picture: Picture,
    *,
    rankdir: str = "LR",
    legend: bool = False,
    grads: dict[str, list[str]] | None = None,
    reserved: dict[str, list[str]] | None = None,
    highlight: str | None = None,
) -> graphviz.Digraph:
    """The ``graphviz.Digraph`` of ``picture``.

    ``grads`` maps box ids to gradient lines to print; ``reserved`` maps box ids to
    lines drawn invisibly (in the fill colour) when no gradient is shown yet, so a
    sequence of pictures keeps one layout; ``highlight`` is the id of the op box drawn
    in red, with its edges.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"viz: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    grads = grads or {}
    reserved = reserved or {}
    by_cluster: dict[ClusterKey, list[Item]] = {}
    for item in picture.items:
        by_cluster.setdefault(item.cluster, []).append(item)

    def node_line(item: Item) -> str:
        rows = item.rows
        if item.id in grads:
            rows += grad_row(grads[item.id])
        elif item.id in reserved:
            rows += grad_row(reserved[item.id], COLORS[item.kind][0])
        style = HIGHLIGHT_STYLES[item.kind] if item.id == highlight else STYLES[item.kind]
        return f"\t{item.id} [label=<{table(rows)}> {style}]\n"

    lines = [node_line(item) for item in by_cluster.get((), ())]
    children: dict[ClusterKey, list[ClusterKey]] = {}
    for key in picture.cluster_labels:
        children.setdefault(key[:-1], []).append(key)
    stack: list[ClusterKey | None] = list(reversed(children.get((), [])))
    number = 0
    while stack:  # clusters nest: emit them depth first, iteratively
        key = stack.pop()
        if key is None:
            lines.append("\t}\n")
            continue
        label = escape(picture.cluster_labels[key])
        lines.append(
            f"\tsubgraph cluster_{number} {{\n\t\tlabel=<<B>{label}</B>> labeljust=l "
            f'style="rounded,filled" fillcolor="#f8f4fb" color="#b89cc8" fontcolor="#6c3f86" '
            f"fontsize=10\n"
        )
        number += 1
        lines.extend(node_line(item) for item in by_cluster.get(key, ()))
        stack.append(None)
        stack.extend(reversed(children.get(key, [])))
    for source, target, label in picture.edges:
        lit = highlight is not None and highlight in (source, target)
        lines.append(f'\t{source} -> {target} [label="{label}"{HIGHLIGHT_EDGE if lit else ""}]\n')
    if legend:
        lines.extend(_legend_lines())
    return graphviz.Digraph(
        "topograd",
        graph_attr={**GRAPH_ATTR, "rankdir": rankdir},
        node_attr=NODE_ATTR,
        edge_attr=EDGE_ATTR,
        body=lines,
    )


def _legend_lines() -> list[str]:
    """One small table box: a swatch in each kind's colours and what the kind means."""
    rows = '<TR><TD COLSPAN="2"><B>legend</B></TD></TR>'
    for kind, text in LEGEND:
        fill, border = COLORS[kind]
        style = ' STYLE="ROUNDED"' if kind != "op" else ""
        rows += (
            f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1"{style} WIDTH="22"> </TD>'
            f'<TD ALIGN="LEFT">{escape(text)}</TD></TR>'
        )
    rows += f'<TR><TD><FONT COLOR="{GRAD_COLOR}">∇</FONT></TD><TD ALIGN="LEFT">gradient</TD></TR>'
    label = f'<TABLE BORDER="1" COLOR="#cccccc" CELLBORDER="0" CELLSPACING="3">{rows}</TABLE>'
    return [f"\tlegend [label=<{label}> shape=plaintext fontsize=9]\n"]


def leaf_grads(picture: Picture) -> dict[str, list[str]]:
    """Gradient lines of every drawn leaf whose ``.grad`` is set."""
    return {
        item.id: value_lines(tensor._grad.data)
        for item, tensor in picture.leaves
        if tensor._grad is not None and item.id not in picture.alias
    }


def to_dot(
    root: Tensor,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "LR",
    legend: bool = False,
    modules: str = "cluster",
) -> graphviz.Digraph:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph``.

    One box per tensor (label: name if set, shape, dtype, and values if small) and
    one ellipse per op (its primitive's name and parameters); an edge, labelled with
    the shape that flows along it, goes from each input tensor to the op and from the
    op to its output. Parameters (leaves that require grad), inputs, constants,
    intermediates and the root are styled differently (see ``legend``). The result
    displays inline in Jupyter; ``.source`` is the DOT text; :func:`draw` saves it.

    Parameters
    ----------
    root : Tensor
        The output to draw, usually a loss. Drawing reads the graph and changes nothing.
    show_data : bool
        Show values of tensors with at most ``labels.SMALL`` (20) elements and
        ``mean, std, min, max`` of larger ones. After ``backward()`` without
        ``retain_graph=True`` intermediate values are freed and not shown.
    show_grad : bool
        Show each leaf's ``.grad`` (``∇`` lines, red) when it has one. The engine keeps
        no gradient of intermediates; :func:`backward_steps` shows those.
    rankdir : {"LR", "TB", "RL", "BT"}
        Direction of data flow.
    legend : bool
        Add a cluster explaining the box styles.
    modules : {"cluster", "collapse", "flat"}
        Boxes recorded inside an ``nn.Module`` call are grouped in a cluster labelled
        with the module's class and attribute name (``Linear layers.0``), nested like
        the modules; ``"collapse"`` draws each innermost module as one box; ``"flat"``
        ignores modules.

    Returns
    -------
    graphviz.Digraph
    """
    picture = Picture(root, show_data=show_data, modules=modules)
    return build_digraph(
        picture,
        rankdir=rankdir,
        legend=legend,
        grads=leaf_grads(picture) if show_grad else None,
    )


def describe_kind(kind: str) -> str:
    """A few words for a kind of box (used by the walkthrough's text)."""
    return dict(LEGEND).get(kind, kind).split(" (")[0]
