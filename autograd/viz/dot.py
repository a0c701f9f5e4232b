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
fused      an op with its output (``compact``)   lavender box
module     a collapsed module call               lavender 3-d box
cut        an output beyond a ``depth`` limit    white dashed box
========== ===================================== ===============================

Gradients are printed in red under the values, prefixed by ``∇``. The DOT text is
built as plain lines (no per-node ``graphviz`` calls), so 10,000-node graphs take a
fraction of a second. Clusters are named by their number (``cluster_3``), module boxes
``m3``, so pictures of one graph drawn with different options name them alike.
"""

from __future__ import annotations

from typing import Any

import graphviz

from ..tensor import Tensor
from .labels import GRAD_COLOR, escape, grad_row, table
from .layout import (
    COMPACT_RANKSEP,
    MAX_BOXES,
    RANKDIRS,
    GraphTooLargeError,
    check_budget,
    readable,
)
from .picture import ClusterKey, Item, Picture

#: Fill and border colour of each kind of box.
COLORS = {
    "param": ("#d9f2d0", "#3b8c2a"),
    "input": ("#dce9f8", "#3a6ea5"),
    "const": ("#efefef", "#9a9a9a"),
    "inter": ("#ffffff", "#7a7a7a"),
    "root": ("#fde3bf", "#cc7700"),
    "op": ("#eee3f7", "#8e5ea2"),
    "module": ("#e6d6f2", "#7b4a94"),
    "fused": ("#eee3f7", "#8e5ea2"),
    "cut": ("#ffffff", "#9a9a9a"),
}
SHAPES = {"op": "ellipse", "module": "box3d"}
STYLE = {
    "param": "rounded,filled,bold",
    "const": "rounded,filled,dashed",
    "op": "filled",
    "cut": "rounded,filled,dashed",
}
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
#: Compact pictures (no edge labels) also set their ranks closer.
COMPACT_SPACING = {"ranksep": str(COMPACT_RANKSEP / 72)}
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
HIGHLIGHT_STYLES = {kind: _style(kind, True) for kind in ("op", "module", "fused")}
HIGHLIGHT_EDGE = f' color="{HIGHLIGHT_FILL}" fontcolor="{HIGHLIGHT_FILL}" penwidth=2.5'
MODULE_CLUSTER = (
    'style="rounded,filled" fillcolor="#f8f4fb" color="#b89cc8" fontcolor="#6c3f86" fontsize=10'
)
FOLD_CLUSTER = (
    'style="rounded,filled,dashed" fillcolor="#fdf7ec" color="#cc7700" fontcolor="#995900" '
    "fontsize=11 penwidth=1.5"
)


def build_digraph(
    picture: Picture,
    *,
    rankdir: str = "LR",
    legend: bool = False,
    grads: dict[str, list[str]] | None = None,
    reserved: dict[str, list[str]] | None = None,
    highlight: str | None = None,
) -> Graph:
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
    children = picture.children()
    stack: list[ClusterKey | None] = list(reversed(children.get((), [])))
    while stack:  # clusters nest: emit them depth first, iteratively
        key = stack.pop()
        if key is None:
            lines.append("\t}\n")
            continue
        label = escape(picture.cluster_labels[key])
        style = FOLD_CLUSTER if key[-1] < 0 else MODULE_CLUSTER
        lines.append(
            f"\tsubgraph cluster_{picture.cluster_number[key]} {{\n"
            f"\t\tlabel=<<B>{label}</B>> labeljust=l {style}\n"
        )
        lines.extend(node_line(item) for item in by_cluster.get(key, ()))
        stack.append(None)
        stack.extend(reversed(children.get(key, [])))
    for source, target, label in picture.edges:
        lit = HIGHLIGHT_EDGE if highlight is not None and highlight in (source, target) else ""
        attrs = f'label="{label}"{lit}' if not picture.compact else lit.lstrip()
        lines.append(
            f"\t{source} -> {target} [{attrs}]\n" if attrs else f"\t{source} -> {target}\n"
        )
    if legend:
        lines.extend(_legend_lines())
    spacing = COMPACT_SPACING if picture.compact else {}
    return Graph(
        "topograd",
        graph_attr={**GRAPH_ATTR, **spacing, "rankdir": rankdir},
        node_attr=NODE_ATTR,
        edge_attr=EDGE_ATTR,
        body=lines,
        picture=picture,
        rankdir=rankdir,
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


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` of a :class:`Picture`: ``.source`` is the DOT text,
    ``.picture`` what it shows, ``.rankdir`` its direction.

    In a notebook it displays as SVG (``_repr_svg_``, ``_repr_mimebundle_``), except
    when it has more boxes than :data:`~autograd.viz.layout.MAX_BOXES`: then it shows
    a message saying how to draw a part, instead of keeping ``dot`` busy for minutes.
    """

    def __init__(
        self, *args: Any, picture: Picture | None = None, rankdir: str = "LR", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.picture = picture
        self.rankdir = rankdir

    def copy(self) -> Graph:
        """An independent copy (of the DOT text; the picture is shared, read only)."""
        new = super().copy()
        new.picture, new.rankdir = self.picture, self.rankdir
        return new

    def too_large(self) -> str | None:
        """Why the picture is not rendered inline, or None."""
        if self.picture is None:
            return None
        try:
            check_budget(self.picture, MAX_BOXES, "display")
        except GraphTooLargeError as exc:
            return str(exc)
        return None

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        problem = self.too_large()
        if problem is not None:
            return {"text/plain": problem}
        return super()._repr_mimebundle_(include, exclude, **kwargs)

    def _repr_svg_(self) -> str | None:
        return None if self.too_large() else self.pipe(format="svg", encoding="utf-8")


def to_dot(
    root: Tensor,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "auto",
    legend: bool = False,
    modules: str | int = "auto",
    fold: bool | None = None,
    compact: bool | None = None,
    depth: int | None = None,
) -> Graph:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph``.

    One box per tensor (label: name if set, shape, dtype, and values if small) and
    one ellipse per op (its primitive's name and parameters); an edge, labelled with
    the shape that flows along it, goes from each input tensor to the op and from the
    op to its output. Parameters (leaves that require grad), inputs, constants,
    intermediates and the root are styled differently (see ``legend``). The result
    displays inline in Jupyter; ``.source`` is the DOT text; :func:`draw` saves it.

    The options left ``"auto"`` (or None) are chosen so the picture fits a 16:9
    screen at a readable size (:mod:`autograd.viz.layout`): small graphs, such as
    the notes' networks, are drawn in full from left to right; deep ones top to
    bottom; then repeated layers are drawn once, ops share a box with their output,
    and module clusters collapse, in that order, until the picture fits.

    Parameters
    ----------
    root : Tensor
        The output to draw, usually a loss. Drawing reads the graph and changes nothing.
    show_data : bool
        Show values of tensors with at most ``labels.SMALL`` (20) elements and
        ``mean, std, min, max`` of larger ones. Small outputs (up to 64 KiB) and
        small constants keep their values after ``backward()``; larger intermediate
        values are freed by it unless ``retain_graph=True``.
    show_grad : bool
        Show each leaf's ``.grad`` (``∇`` lines, red) when it has one. The engine keeps
        no gradient of intermediates; :func:`backward_steps` and :func:`explore` show those.
    rankdir : {"auto", "LR", "TB", "RL", "BT"}
        Direction of data flow.
    legend : bool
        Add a box explaining the box styles.
    modules : {"auto", "cluster", "collapse", "flat"} or int
        Boxes recorded inside an ``nn.Module`` call are grouped in a cluster labelled
        with the module's class and attribute name (``Linear layers.0``), nested like
        the modules; ``"collapse"`` draws each innermost module as one box, an int
        ``k`` each module nested deeper than ``k`` levels (``0``: each top-level
        call); ``"flat"`` ignores modules.
    fold : bool, optional
        Draw repeated structure (layers, time steps, loop bodies) once, in a cluster
        labelled ``×N``.
    compact : bool, optional
        Draw each op and its output as one box, without shape labels on edges.
    depth : int, optional
        Draw only the ``depth`` ops nearest ``root`` (earlier inputs as dashed boxes).

    Returns
    -------
    Graph
        A ``graphviz.Digraph``.
    """
    picture, chosen = readable(
        root,
        show_data=show_data,
        show_grad=show_grad,
        rankdir=rankdir,
        modules=modules,
        fold=fold,
        compact=compact,
        depth=depth,
    )
    return build_digraph(
        picture,
        rankdir=chosen,
        legend=legend,
        grads=picture.leaf_grads() if show_grad else None,
    )


def describe_kind(kind: str) -> str:
    """A few words for a kind of box (used by the walkthrough's text)."""
    return dict(LEGEND).get(kind, kind).split(" (")[0]
