"""The backward pass, step by step: one picture per VJP the engine runs, and a viewer.

:func:`backward_steps` runs the real engine (``backward.run_backward`` with
``retain_graph=True``), collecting through ``on_step`` what each step received and
sent, in the order the engine ran it. Gradients are returned to the walkthrough
(``targets=``) instead of accumulating into the leaves' ``.grad``, so drawing the
walkthrough changes nothing. Frame 0 shows the seed ``dL/dL = 1`` at the root;
frame ``k`` highlights the op whose VJP ran in step ``k`` and shows every gradient
computed so far (a tensor used by several ops shows the running sum of what has
arrived). Tensors that will receive a gradient keep room for it in every frame
(invisible text), so all frames share one layout and stepping through them reads
like an animation. ``index.html`` shows each frame beside the VJP formula applied
(``Primitive.doc``) and the gradients that went in and came out; arrow keys step.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..backward import run_backward, seed_gradient
from ..node import Node, ancestors
from ..tensor import Tensor
from .dot import build_digraph, describe_kind
from .labels import clean, shape_text, value_lines
from .layout import readable
from .picture import Picture, module_label
from .render import FORMATS, render, write_atomic


class Step:
    """One VJP the engine ran: the node, the gradient of its output, those of its inputs."""

    __slots__ = ("node", "grad_out", "input_grads")

    def __init__(self, node: Node, grad_out: Any, input_grads: list[Any]) -> None:
        self.node = node
        self.grad_out = grad_out
        self.input_grads = input_grads


def record_steps(root: Tensor, seed: Any) -> list[Step]:
    """Run backward from ``root`` with ``seed``; return its steps in the engine's order.

    The graph is retained and no leaf's ``.grad`` changes: every leaf that requires
    grad is a ``targets`` slot, so its gradient is returned rather than accumulated.
    """
    steps: list[Step] = []

    def on_step(node: Node, grad_out: Any, input_grads: list[Any]) -> None:
        copies = [None if g is None else np.array(g, copy=True) for g in input_grads]
        steps.append(Step(node, np.array(grad_out, copy=True), copies))

    leaves: dict[Any, int] = {}
    for node in ancestors(root._node):  # the leaves that require grad
        for parent in node.parents:
            if isinstance(parent, Tensor) and parent._requires_grad and parent not in leaves:
                leaves[parent] = len(leaves)
    run_backward(root, seed, retain_graph=True, targets=leaves, on_step=on_step)
    return steps


def backward_steps(
    root: Tensor,
    folder: str | os.PathLike[str],
    *,
    grad: Any = None,
    image_format: str = "svg",
    show_data: bool = True,
    rankdir: str = "auto",
    modules: str | int = "auto",
    fold: bool | None = None,
    compact: bool | None = None,
) -> list[Path]:
    """Write one picture per step of ``root``'s backward pass, and ``index.html``.

    For ``L = root`` the engine visits the ops in reverse topological order; at each
    op with output gradient ``G = dL/d(out)`` it applies the VJP,
    ``dL/d(input_i) = G ∂out/∂input_i``, and sends the result to the input. Frame
    ``step_000`` shows the seed at the root; frame ``k`` highlights the op whose VJP
    ran ``k``-th and shows all gradients computed so far. ``index.html`` steps
    through the frames with the arrow keys, showing the formula applied and the
    gradients in and out. Nothing about the graph or the leaves' ``.grad`` changes.

    Parameters
    ----------
    root : Tensor
        The output, usually a scalar loss, whose graph has not been freed (call this
        before ``backward()``, or after ``backward(retain_graph=True)``).
    folder : path
        Where to write (created if missing). Frames are ``step_000.svg``, ...
    grad : array-like, optional
        ``dL/d(root)``; needed when ``root`` has more than one element.
    image_format : {"svg", "png", "pdf", "dot"}
        Format of the frames (all but ``"dot"`` need Graphviz's ``dot`` program).
    show_data, rankdir, modules, fold, compact
        As in :func:`to_dot` (chosen to fit the screen when left to choose). In a
        repeat drawn once (``×N``) every repeat's step lights the drawn op.

    Returns
    -------
    list of pathlib.Path
        The frames in step order, then ``index.html``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"backward_steps: expected an autograd Tensor, got {type(root).__name__}")
    if image_format not in FORMATS:
        raise ValueError(f"backward_steps: image_format must be one of {FORMATS}")
    seed, steps = walk_backward(root, grad, "backward_steps")
    measured: dict[Picture, list[tuple[str | None, dict[str, list[str]]]]] = {}

    def final_grads(p: Picture) -> dict[str, list[str]]:
        measured[p] = frames(p, root._node, seed, steps)
        return measured[p][-1][1]

    picture, rankdir = readable(
        root,
        show_data=show_data,
        rankdir=rankdir,
        modules=modules,
        fold=fold,
        compact=compact,
        extra=final_grads,
    )
    shots = measured.get(picture) or frames(picture, root._node, seed, steps)
    reserved = shots[-1][1]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(steps))))
    paths = []
    for k, (highlight, grads) in enumerate(shots):
        graph = build_digraph(
            picture, rankdir=rankdir, grads=grads, reserved=reserved, highlight=highlight
        )
        path = folder / f"step_{k:0{width}d}.{image_format}"
        write_atomic(path, render(graph, image_format, path))
        paths.append(path)
    index = folder / "index.html"
    page = _page(paths, step_panels(picture, root, seed, steps), shots)
    write_atomic(index, page.encode("utf-8"))
    return [*paths, index]


def walk_backward(root: Tensor, grad: Any, what: str) -> tuple[Any, list[Step]]:
    """Check that ``root``'s backward pass can be shown; return its seed and steps."""
    if root._node is None:
        raise ValueError(
            f"{what}: root is a leaf tensor, so its backward pass has no steps; "
            f"pass the result of a computation (e.g. a loss)"
        )
    if root._node.freed:
        raise RuntimeError(
            f"{what}: the graph's saved arrays were freed by an earlier backward(); "
            f"call {what} before backward(), or use backward(retain_graph=True)"
        )
    seed = np.array(seed_gradient(root, grad), copy=True)
    return seed, record_steps(root, seed)


def frames(
    picture: Picture, root_node: Node, seed: Any, steps: list[Step]
) -> list[tuple[str | None, dict[str, list[str]]]]:
    """For each frame, the highlighted box and the gradient lines of every box so far.

    A tensor's box shows the sum of what has arrived at it; boxes hidden in a module
    box, and the tensors of hidden repeats, show none.
    """
    root_box = picture.text_box(picture.tensor_item[root_node].id)
    shown = {root_box: value_lines(seed)} if root_box else {}
    shots: list[tuple[str | None, dict[str, list[str]]]] = [(None, dict(shown))]
    for step, totals in running_gradients(root_node, seed, steps):
        for parent, total in totals:
            if parent in picture.representative:
                continue
            item = picture.tensor_item.get(parent)
            box = item and picture.text_box(item.id)
            if box:
                shown[box] = value_lines(total)
        op = picture.op_item[picture.representative.get(step.node, step.node)].id
        shots.append((picture.box_id(op), dict(shown)))
    return shots


def running_gradients(
    root_node: Node, seed: Any, steps: list[Step]
) -> Iterator[tuple[Step, list[tuple[Any, Any]]]]:
    """Each step with the tensors it sent a gradient to and their sums so far."""
    arrived: dict[Any, Any] = {root_node: seed}  # Node (its output) or leaf -> dL/d(it)
    for step in steps:
        totals = []
        for parent, g in zip(step.node.parents, step.input_grads):
            if g is not None:
                arrived[parent] = g if parent not in arrived else arrived[parent] + g
                totals.append((parent, arrived[parent]))
        yield step, totals


def _pre(value: Any) -> str:
    return f"<pre>{html.escape(chr(10).join(value_lines(value)))}</pre>"


def _tensor_phrase(picture: Picture, key: Any) -> str:
    item = picture.item_of(key)
    assert item is not None
    return (
        f"<b>{html.escape(clean(item.title))}</b> "
        f"<span class=kind>({describe_kind(item.kind)}, {shape_text(key.shape)})</span>"
    )


def _gradient_name(picture: Picture, key: Any) -> str:
    """``dL/dW2`` or ``dL/d(output of matmul)``: what a tensor receives."""
    item = picture.item_of(key)
    assert item is not None
    title = clean(item.title)
    return html.escape(f"dL/d{title}" if " " not in title else f"dL/d({title})")


def step_panels(picture: Picture, root: Tensor, seed: Any, steps: list[Step]) -> list[str]:
    """The HTML text of each frame: the seed, then each step's formula and gradients."""
    panels = [_start_panel(picture, root, seed, len(steps))]
    received: dict[Any, int] = {}  # tensor -> how many ops have sent it a gradient so far
    for k, step in enumerate(steps):
        for parent, g in zip(step.node.parents, step.input_grads):
            if g is not None:
                received[parent] = received.get(parent, 0) + 1
        panels.append(_step_panel(picture, step, k, len(steps), received))
    return panels


def _start_panel(picture: Picture, root: Tensor, seed: Any, count: int) -> str:
    return (
        f"<h2>Start: seed the gradient</h2><p>Backward begins at the output "
        f"{_tensor_phrase(picture, root._node)} with <code>G = dL/dL</code>:</p>{_pre(seed)}"
        f"<p>The engine will now run {count} vector-Jacobian products, one per op, each "
        f"once all the ops that used its output have sent their gradient (reverse "
        f"topological order). Use ← and → to step.</p>"
    )


def formula_html(doc: str) -> str:
    """A primitive's ``doc`` (``"forward;  rule"``) as the forward and its VJP."""
    forward, _, rule = (doc or "").partition(";")
    if rule:
        return (
            f"<p class=formula>forward <code>{html.escape(forward.strip())}</code><br>"
            f"VJP <code>{html.escape(rule.strip())}</code></p>"
        )
    return f"<p class=formula>{html.escape(forward.strip()) or 'no formula recorded'}</p>"


def scope_html(node: Node) -> str:
    """The module calls ``node`` was recorded in, outermost first, joined by ``›`` and
    escaped for HTML; empty outside modules."""
    return " › ".join(html.escape(clean(module_label(m))) for m in node.scope or ())


def _step_panel(picture: Picture, step: Step, k: int, count: int, received: dict[Any, int]) -> str:
    node = step.node
    scope = scope_html(node)
    where = f"<p class=where>inside {scope}</p>" if scope else ""
    if node in picture.representative:
        where += "<p class=where>in a repeat drawn once (×N): the first repeat's op is lit</p>"
    inputs = []
    for i, (parent, g) in enumerate(zip(node.parents, step.input_grads)):
        if parent is None:
            inputs.append(f"<li>input {i}: a constant, no gradient</li>")
        elif g is None:
            inputs.append(
                f"<li>input {i}: {_tensor_phrase(picture, parent)}: no gradient "
                f"(it does not require grad)</li>"
            )
        else:
            summed = (
                f", summed with the {received[parent] - 1} gradient(s) it received earlier"
                if received[parent] > 1
                else ""
            )
            inputs.append(
                f"<li>input {i}: {_tensor_phrase(picture, parent)} receives "
                f"{_gradient_name(picture, parent)}{summed}:{_pre(g)}</li>"
            )
    done = ""
    if k == count - 1:
        done = "<p class=done>Done: every op's VJP has run; all gradients are final.</p>"
    return (
        f"<h2>Step {k + 1} of {count}: <code>{html.escape(node.prim.name)}</code></h2>"
        f"{where}{formula_html(node.prim.doc)}<p>Gradient arriving at its output "
        f"{_tensor_phrase(picture, node)}, <code>G</code>:</p>{_pre(step.grad_out)}"
        f"<p>Gradients sent to its inputs:</p><ul>{''.join(inputs)}</ul>{done}"
    )


def _page(paths: list[Path], panels: list[str], frames: list[Any]) -> str:
    data = [
        {"frame": path.name, "op": highlight, "html": panel}
        for path, panel, (highlight, _) in zip(paths, panels, frames)
    ]
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    links = " ".join(f'<a href="{html.escape(p.name)}">{k}</a>' for k, p in enumerate(paths))
    return PAGE.replace("{{LINKS}}", links).replace("{{STEPS}}", payload)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>topograd: the backward pass, step by step</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 8px 16px; border-bottom: 1px solid #ddd; display: flex; gap: 12px;
         align-items: center; flex-wrap: wrap; }
header button { font-size: 16px; }
nav a { margin: 0 2px; color: #555; text-decoration: none; }
nav a.current { color: #fff; background: #e74c3c; border-radius: 3px; padding: 0 4px; }
main { display: flex; gap: 16px; padding: 16px; align-items: flex-start; }
#picture { flex: 3; overflow: auto; }
#picture img { max-width: 100%; }
aside { flex: 1; min-width: 320px; max-width: 480px; font-size: 14px; }
aside pre { background: #faf4f3; color: #b03a2e; padding: 4px 8px; overflow-x: auto; }
.formula code { background: #f3ecf8; padding: 1px 4px; }
.kind, .where { color: #777; }
.done { font-weight: bold; color: #3b8c2a; }
</style>
</head>
<body>
<header>
<button id="prev" title="previous step (←)">←</button>
<button id="next" title="next step (→)">→</button>
<span id="counter"></span>
<nav>{{LINKS}}</nav>
<span class="kind">keys: ← → (or j k), Home, End</span>
</header>
<main>
<div id="picture"><img id="frame" alt="graph at this step"></div>
<aside id="panel"></aside>
</main>
<script type="application/json" id="steps">{{STEPS}}</script>
<script>
const steps = JSON.parse(document.getElementById("steps").textContent);
const img = document.getElementById("frame");
const panel = document.getElementById("panel");
const counter = document.getElementById("counter");
const links = document.querySelectorAll("nav a");
let current = 0;
function show(k) {
  current = Math.max(0, Math.min(steps.length - 1, k));
  img.src = steps[current].frame;
  panel.innerHTML = steps[current].html;
  counter.textContent = "step " + current + " of " + (steps.length - 1);
  links.forEach((a, i) => a.classList.toggle("current", i === current));
  history.replaceState(null, "", "#" + current);
}
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight" || e.key === "j" || e.key === " ") show(current + 1);
  else if (e.key === "ArrowLeft" || e.key === "k") show(current - 1);
  else if (e.key === "Home") show(0);
  else if (e.key === "End") show(steps.length - 1);
  else return;
  e.preventDefault();
});
document.getElementById("prev").onclick = () => show(current - 1);
document.getElementById("next").onclick = () => show(current + 1);
links.forEach((a, i) => a.addEventListener("click", (e) => { e.preventDefault(); show(i); }));
show(parseInt(location.hash.slice(1), 10) || 0);
</script>
</body>
</html>
"""
