"""``explore(root, path)``: one self-contained HTML page to explore a graph in a browser.

The page holds everything inline (SVG pictures, data, script, styles; nothing is
fetched): pan by dragging, zoom with the wheel or the buttons, click a box to read,
in the side panel, its name, kind, shape, dtype, values, gradient statistics and, for
an op, its parameters and VJP formula (``Primitive.doc``). Clicking a module's box
expands it (its sub-modules collapsed), clicking an expanded module's frame collapses
it. Each such *view* is a picture laid out by Graphviz when the page is written: the
views reachable from the first by a few clicks (at most ``max_views``) are written,
those further away say how to draw them.

When the graph can still be walked backward (a scalar root, before ``backward()`` or
after ``backward(retain_graph=True)``), every tensor's panel shows ``dL/d(it)`` and
the page has the backward walkthrough: ← and → step through the VJPs in the engine's
order, lighting each op and the tensors that have their gradient, with the step's
formula and gradients in the panel (as :func:`backward_steps`, without extra files).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..node import FreedArray, Node
from ..tensor import Tensor
from .dot import build_digraph, describe_kind
from .labels import clean, params_text, shape_text, stats_lines, value_lines
from .layout import MAX_BOXES, check_budget, readable
from .picture import ClusterKey, Item, Picture, constant_value
from .render import render, write_atomic
from .walkthrough import formula_html, running_gradients, scope_html, step_panels, walk_backward

#: Values shown in a panel for tensors up to this many elements (stats beyond).
PANEL_VALUES = 120


def explore(
    root: Tensor,
    path: str | os.PathLike[str],
    *,
    show_data: bool = True,
    rankdir: str = "auto",
    modules: str | int = "auto",
    fold: bool | None = None,
    compact: bool | None = None,
    depth: int | None = None,
    max_views: int = 24,
) -> Path:
    """Write an interactive page of the graph that produced ``root`` to ``path``.

    The first view uses :func:`to_dot`'s screen-fitting choices for the options left
    to choose (``rankdir``, ``modules``, ``fold``, ``compact``; ``depth`` limits the
    graph as there). Views with more than :data:`~autograd.viz.layout.MAX_BOXES`
    boxes are not written. The file is written atomically; needs Graphviz's ``dot``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"explore: expected an autograd Tensor, got {type(root).__name__}")
    path = Path(path)
    first, first_direction = readable(
        root,
        show_data=show_data,
        rankdir=rankdir,
        modules=modules,
        fold=fold,
        compact=compact,
        depth=depth,
    )
    options = {
        "show_data": show_data,
        "fold": first.folds,
        "compact": first.compact,
        "depth": depth,
    }
    full = Picture(root, modules="cluster", **options)
    start = frozenset(item.source for item in first.items if item.kind == "module")
    pictures = {start: first}
    children = full.children()
    for state in _reachable(full, start, max_views, children):
        if state not in pictures:
            pictures[state] = Picture(root, modules=state, **options)
    check_budget(first, MAX_BOXES, "explore")
    states = [s for s, picture in pictures.items() if len(picture.items) <= MAX_BOXES]
    with ThreadPoolExecutor(max_workers=2) as pool:  # each dot runs in its own process
        svgs = list(pool.map(lambda s: _svg(pictures[s], first_direction, path), states))
    index = {state: k for k, state in enumerate(states)}
    walk = _walk(root)
    title = root.name or (f"output of {root._node.prim.name}" if root._node else "a leaf")
    data = {
        "views": [
            _view(pictures[s], svg, full, s, index, children) for s, svg in zip(states, svgs)
        ],
        "items": _panels(full, pictures.values(), walk),
        "steps": _steps_data(full, root, walk),
    }
    page = PAGE.replace("{{TITLE}}", html.escape(clean(title)))
    page = page.replace("{{DATA}}", json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))
    write_atomic(path, page.encode("utf-8"))
    return path


# ---------------------------------------------------------------------- views
def toggled(
    state: frozenset[ClusterKey], key: ClusterKey, children: dict[ClusterKey, list[ClusterKey]]
) -> frozenset[ClusterKey]:
    """The collapsed set after clicking ``key``: a collapsed module opens (its
    sub-modules collapsed), an open one closes (with everything inside it)."""
    if key in state:
        return (state - {key}) | frozenset(children.get(key, ()))
    return frozenset(k for k in state if k[: len(key)] != key) | {key}


def _visible(state: frozenset[ClusterKey], full: Picture) -> list[ClusterKey]:
    """The clusters a click can toggle in a view: its module boxes and open clusters."""
    return [
        key
        for key in full.cluster_labels
        if key in state or not any(key[: len(c)] == c for c in state)
    ]


def _reachable(
    full: Picture,
    start: frozenset[ClusterKey],
    limit: int,
    children: dict[ClusterKey, list[ClusterKey]],
) -> list[frozenset]:
    """The views reachable from ``start`` by clicks, nearest first, at most ``limit``."""
    states = [start]
    seen = {start}
    queue = deque([start])
    while queue and len(states) < limit:
        state = queue.popleft()
        for key in _visible(state, full):
            new = toggled(state, key, children)
            if new not in seen and len(states) < limit:
                seen.add(new)
                states.append(new)
                queue.append(new)
    return states


def _svg(picture: Picture, rankdir: str, path: Path) -> str:
    """The picture as inline SVG (no prolog, sized by the page), in the first view's
    direction, so opening a module keeps the reader's bearings."""
    graph = build_digraph(picture, rankdir=rankdir, grads=picture.leaf_grads())
    svg = render(graph, "svg", path).decode("utf-8")
    svg = svg[svg.index("<svg") :]
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", svg, count=1)


def _view(
    picture: Picture,
    svg: str,
    full: Picture,
    state: frozenset[ClusterKey],
    index: dict[frozenset, int],
    children: dict[ClusterKey, list[ClusterKey]],
) -> dict[str, Any]:
    """One view's data: its SVG, the box that shows each item, where clicks lead
    (``children``: ``full.children()``)."""
    toggles = {}
    for key in _visible(state, full):
        target = index.get(toggled(state, key, children))
        toggles[full.cluster_number[key]] = target
    drawn = [*full.tensor_item.values(), *full.op_item.values()]
    return {
        "svg": svg,
        "boxes": {item.id: picture.box_id(item.id) for item in drawn},
        "toggles": toggles,
    }


# ---------------------------------------------------------------------- panels
def _walk(root: Tensor) -> dict[str, Any] | None:
    """The backward walk's seed, steps and final gradients, when it can be walked."""
    node = root._node
    if node is None or node.freed or root.data.size != 1:
        return None
    seed, steps = walk_backward(root, None, "explore")
    totals: dict[Any, Any] = {node: seed}
    received = []  # per step: the tensors that have a gradient after it
    for _, sums in running_gradients(node, seed, steps):
        totals.update(sums)
        received.append(list(totals))
    return {"seed": seed, "steps": steps, "totals": totals, "received": received}


def _block(value: Any) -> str:
    return f"<pre>{html.escape(chr(10).join(value_lines(value, PANEL_VALUES)))}</pre>"


def _gradient(value: Any) -> str:
    """A gradient's values (or statistics, if large), and its norm."""
    a = np.asarray(value)
    stats = stats_lines(a) if 1 < a.size <= PANEL_VALUES else []
    norm = float(np.sqrt(np.sum(np.abs(a.astype(np.float64)) ** 2)))
    lines = html.escape(chr(10).join([*stats, f"norm {norm:.4g}"]))
    return f"{_block(a)}<pre class=kind>{lines}</pre>"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{html.escape(label)}</th><td>{value}</td></tr>"


def _scope(node: Node) -> str:
    return scope_html(node) or "—"


def _tensor_panel(item: Item, picture: Picture, walk: dict[str, Any] | None) -> str:
    source = item.source
    if item.kind == "const":
        node, i = source
        value = constant_value(node, i)
        rows = _row("kind", "constant (an array or number given to an op)")
        if value is None or type(value) is FreedArray:
            known = "" if value is None else f"{shape_text(value.shape)} {value.dtype}"
            return f"<h2>constant</h2><table>{rows}{_row('shape', known)}</table>"
        a = np.asarray(value)
        rows += _row("shape", shape_text(a.shape)) + _row("dtype", str(a.dtype))
        return f"<h2>constant</h2><table>{rows}</table><h3>values</h3>{_block(a)}"
    tensor_like = source
    data = source.data if isinstance(source, Tensor) else source.out
    rows = _row("kind", describe_kind(item.kind))
    rows += _row("shape", shape_text(tensor_like.shape)) + _row("dtype", str(tensor_like.dtype))
    if type(source) is Node:
        rows += _row("made by", f"<code>{html.escape(source.prim.name)}</code>")
        rows += _row("inside", _scope(source))
        if source in picture.representative:
            rows += _row("repeat", "drawn once for all repeats (×N): these are the first's")
    body = f"<h2>{html.escape(clean(item.title))}</h2><table>{rows}</table>"
    if type(data) is FreedArray:
        body += "<h3>values</h3><p class=kind>released by backward()</p>"
    else:
        body += f"<h3>values</h3>{_block(data)}"
    if isinstance(source, Tensor) and source._grad is not None:
        body += f"<h3>.grad</h3>{_gradient(source._grad.data)}"
    if walk is not None and source in walk["totals"]:
        name = html.escape(clean(item.title))
        body += f"<h3>dL/d({name})</h3>{_gradient(walk['totals'][source])}"
    elif walk is None and type(source) is Node:
        body += "<p class=kind>gradient: not available (the graph was freed by backward())</p>"
    return body


def _op_panel(node: Node) -> str:
    rows = _row("inside", _scope(node))
    params = params_text(node.params)
    if params:
        rows += _row("parameters", f"<code>{html.escape(params)}</code>")
    shapes = []
    for parent in node:
        shape = None if parent is None else parent.shape
        shapes.append("constant" if shape is None else shape_text(shape))
    rows += _row("inputs", html.escape(", ".join(shapes)))
    rows += _row("output", html.escape(f"{shape_text(node.shape)} {node.dtype}"))
    return (
        f"<h2>op <code>{html.escape(node.prim.name)}</code></h2><table>{rows}</table>"
        f"{formula_html(node.prim.doc)}"
    )


def _module_panel(key: ClusterKey, full: Picture) -> str:
    inside = [item for item in full.items if item.cluster[: len(key)] == key]
    params = [item for item in inside if item.kind == "param"]
    ops = [item for item in inside if item.kind in ("op", "fused")]
    listed = "".join(
        f"<li>{html.escape(clean(p.title))} <span class=kind>{shape_text(p.shape)}</span></li>"
        for p in params
    )
    values = sum(int(np.prod(p.shape)) for p in params)
    names = ", ".join(dict.fromkeys(html.escape(op.title) for op in ops))
    return (
        f"<h2>{html.escape(clean(full.cluster_labels[key]))}</h2>"
        f"<p>{len(ops)} ops, {len(params)} parameters ({values:,} values). Click its box "
        f"to open it, its frame to close it.</p><h3>parameters</h3><ul>{listed}</ul>"
        f"<h3>ops</h3><p>{names or '—'}</p>"
    )


def _panels(full: Picture, pictures: Any, walk: dict[str, Any] | None) -> dict[str, str]:
    """The side panel's HTML for every box of every view, by box id."""
    panels: dict[str, str] = {}
    for item in full.items:
        if item.kind == "op":
            panels[item.id] = _op_panel(item.source)
        else:
            panels[item.id] = _tensor_panel(item, full, walk)
    for picture in pictures:
        for item in picture.items:
            if item.kind == "fused":
                out = picture.tensor_item[item.source]
                panels[item.id] = _op_panel(item.source) + _tensor_panel(out, full, walk)
    for key, number in full.cluster_number.items():
        if key in full.cluster_labels:
            panels[f"m{number}"] = _module_panel(key, full)
            panels[f"cluster_{number}"] = panels[f"m{number}"]
    return panels


def _steps_data(full: Picture, root: Tensor, walk: dict[str, Any] | None) -> list[dict] | str:
    """The walkthrough's frames: the op lit, the tensors that have a gradient, the text."""
    if walk is None:
        return (
            "The backward walkthrough needs the graph: explore a scalar output before "
            "backward(), or after backward(retain_graph=True)."
        )
    steps = walk["steps"]
    panels = step_panels(full, root, walk["seed"], steps)
    frames = [{"op": None, "have": [full.tensor_item[root._node].id], "html": panels[0]}]
    for step, panel, have in zip(steps, panels[1:], walk["received"]):
        op = full.op_item[full.representative.get(step.node, step.node)].id
        ids = [full.item_of(t).id for t in have if full.item_of(t) is not None]
        frames.append({"op": op, "have": ids, "html": panel})
    return frames


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>topograd explorer: {{TITLE}}</title>
<style>
html, body { height: 100%; margin: 0; }
body { font-family: system-ui, sans-serif; color: #222; display: flex; flex-direction: column; }
header { padding: 6px 12px; border-bottom: 1px solid #ddd; display: flex; gap: 8px;
         align-items: center; flex-wrap: wrap; font-size: 14px; }
header button { font-size: 14px; }
header .title { font-weight: bold; margin-right: 12px; }
main { flex: 1; display: flex; min-height: 0; }
#canvas { flex: 1; overflow: hidden; cursor: grab; background: #fcfcfc; position: relative; }
#canvas.dragging { cursor: grabbing; }
#canvas svg { width: 100%; height: 100%; display: block; user-select: none; }
#canvas g.node, #canvas g.cluster { cursor: pointer; }
#canvas g.selected > path, #canvas g.selected > polygon, #canvas g.selected > ellipse {
  stroke: #1f6feb; stroke-width: 3px; }
#canvas g.lit > path, #canvas g.lit > polygon, #canvas g.lit > ellipse {
  fill: #e74c3c; stroke: #922b21; stroke-width: 3px; }
#canvas g.has-grad > path, #canvas g.has-grad > polygon, #canvas g.has-grad > ellipse {
  stroke: #b03a2e; stroke-width: 2.5px; stroke-dasharray: 5 2; }
aside { width: 380px; overflow: auto; border-left: 1px solid #ddd; padding: 8px 14px;
        font-size: 13px; }
aside h2 { font-size: 16px; margin: 6px 0; }
aside h3 { font-size: 13px; margin: 10px 0 2px; color: #555; }
aside table { border-collapse: collapse; }
aside th { text-align: left; color: #666; font-weight: normal; padding-right: 10px;
           vertical-align: top; }
aside pre { background: #f6f6f6; padding: 4px 6px; overflow-x: auto; margin: 2px 0; }
.formula code, aside code { background: #f3ecf8; padding: 1px 4px; }
.kind, .where { color: #777; }
.done { font-weight: bold; color: #3b8c2a; }
#hint { color: #777; }
</style>
</head>
<body>
<header>
<span class="title">{{TITLE}}</span>
<button id="fit" title="fit the picture to the window">fit</button>
<button id="zoom-in" title="zoom in (wheel)">+</button>
<button id="zoom-out" title="zoom out (wheel)">−</button>
<button id="home" title="back to the first view">first view</button>
<span>backward walkthrough:</span>
<button id="prev" title="previous step (←)">←</button>
<button id="next" title="next step (→)">→</button>
<span id="counter"></span>
<span id="hint">drag to pan · wheel to zoom · click a box</span>
</header>
<main>
<div id="canvas"></div>
<aside id="panel"></aside>
</main>
<script type="application/json" id="data">{{DATA}}</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const canvas = document.getElementById("canvas");
const panel = document.getElementById("panel");
const counter = document.getElementById("counter");
let view = 0, step = -1, selected = null, box = null, home = null;
const intro = "<h2>Explore the graph</h2><p>Click a box to see its values, shape, dtype "
  + "and gradients; an op shows its VJP formula. Click a module's box to open it and an "
  + "open module's frame to close it. ← and → step through the backward pass.</p>";

function titleOf(g) { const t = g.querySelector("title"); return t ? t.textContent : ""; }
function groups() { return canvas.querySelectorAll("g.node, g.cluster"); }

function setBox(b) {
  box = b;
  canvas.querySelector("svg").setAttribute("viewBox", b.join(" "));
}
function fit() { setBox(home.slice()); }

function show(k) {
  view = k;
  canvas.innerHTML = data.views[k].svg;
  const svg = canvas.querySelector("svg");
  home = svg.getAttribute("viewBox").split(/\\s+/).map(Number);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  fit();
  groups().forEach((g) => g.addEventListener("click", (e) => {
    if (moved) return;
    e.stopPropagation();
    click(titleOf(g), g.classList.contains("cluster"));
  }));
  paint();
}

function boxOf(item) { return data.views[view].boxes[item] || item; }
function elementOf(id) {
  for (const g of groups()) if (titleOf(g) === id) return g;
  return null;
}

function click(id, isCluster) {
  const number = id.startsWith("cluster_") ? Number(id.slice(8))
    : /^m\\d+$/.test(id) ? Number(id.slice(1)) : null;
  const toggles = data.views[view].toggles;
  if (number !== null && number in toggles) {
    select(isCluster ? "m" + number : id);
    if (toggles[number] === null) {
      panel.insertAdjacentHTML("beforeend", "<p class=kind>That view was not written "
        + "(explore(..., max_views=...) writes more; to_dot(..., modules=...) draws it).</p>");
      return;
    }
    show(toggles[number]);
    return;
  }
  select(id);
}

function select(id) {
  selected = id;
  panel.innerHTML = data.items[id] || "<p>" + id + "</p>";
  paint();
}

function paint() {
  const frame = typeof data.steps === "string" || step < 0 ? null : data.steps[step];
  const lit = frame && frame.op ? boxOf(frame.op) : null;
  const have = new Set(frame ? frame.have.map(boxOf) : []);
  for (const g of groups()) {
    const id = titleOf(g);
    g.classList.toggle("selected", id === selected);
    g.classList.toggle("lit", id === lit);
    g.classList.toggle("has-grad", have.has(id));
  }
}

function walk(k) {
  if (typeof data.steps === "string") { panel.innerHTML = "<p>" + data.steps + "</p>"; return; }
  step = Math.max(0, Math.min(data.steps.length - 1, k));
  counter.textContent = "step " + step + " of " + (data.steps.length - 1);
  panel.innerHTML = data.steps[step].html;
  paint();
}

// pan and zoom: the SVG's viewBox is the window onto the picture
let drag = null, moved = false;
function point(e) {
  const r = canvas.getBoundingClientRect();
  const scale = Math.max(box[2] / r.width, box[3] / r.height);
  return [box[0] + (e.clientX - r.left - (r.width - box[2] / scale) / 2) * scale,
          box[1] + (e.clientY - r.top - (r.height - box[3] / scale) / 2) * scale, scale];
}
function zoom(factor, at) {
  const [x, y] = at || [box[0] + box[2] / 2, box[1] + box[3] / 2];
  setBox([x - (x - box[0]) * factor, y - (y - box[1]) * factor, box[2] * factor, box[3] * factor]);
}
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, point(e));
}, { passive: false });
canvas.addEventListener("mousedown", (e) => {
  drag = [e.clientX, e.clientY, box.slice(), point(e)[2]]; moved = false;
  canvas.classList.add("dragging");
});
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  const dx = e.clientX - drag[0], dy = e.clientY - drag[1];
  if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
  const [x, y, w, h] = drag[2];
  setBox([x - dx * drag[3], y - dy * drag[3], w, h]);
});
window.addEventListener("mouseup", () => {
  drag = null; canvas.classList.remove("dragging");
  setTimeout(() => { moved = false; }, 0);
});
document.getElementById("fit").onclick = fit;
document.getElementById("zoom-in").onclick = () => zoom(1 / 1.3);
document.getElementById("zoom-out").onclick = () => zoom(1.3);
document.getElementById("home").onclick = () => show(0);
document.getElementById("prev").onclick = () => walk(step - 1);
document.getElementById("next").onclick = () => walk(step + 1);
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight") walk(step + 1);
  else if (e.key === "ArrowLeft") walk(step - 1);
  else return;
  e.preventDefault();
});
panel.innerHTML = intro;
show(0);
</script>
</body>
</html>
"""
