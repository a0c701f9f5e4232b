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
from pathlib import Path
from typing import Any

import numpy as np

from ..backward import run_backward, seed_gradient
from ..node import Node, ancestors
from ..tensor import Tensor
from .dot import RANKDIRS, build_digraph, describe_kind
from .labels import shape_text, value_lines
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
    rankdir: str = "LR",
    modules: str = "cluster",
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
    show_data, rankdir, modules
        As in :func:`to_dot`.

    Returns
    -------
    list of pathlib.Path
        The frames in step order, then ``index.html``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"backward_steps: expected an autograd Tensor, got {type(root).__name__}")
    if root._node is None:
        raise ValueError(
            "backward_steps: root is a leaf tensor, so its backward pass has no steps; "
            "pass the result of a computation (e.g. a loss)"
        )
    if root._node.freed:
        raise RuntimeError(
            "backward_steps: the graph's saved arrays were freed by an earlier backward(); "
            "call backward_steps before backward(), or use backward(retain_graph=True)"
        )
    if image_format not in FORMATS:
        raise ValueError(f"backward_steps: image_format must be one of {FORMATS}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"backward_steps: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    picture = Picture(root, show_data=show_data, modules=modules)
    seed = seed_gradient(root, grad)
    seed = np.array(seed, copy=True)
    steps = record_steps(root, seed)
    frames = _frames(picture, root._node, seed, steps)
    reserved = frames[-1][1]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(steps))))
    paths = []
    for k, (highlight, grads) in enumerate(frames):
        graph = build_digraph(
            picture, rankdir=rankdir, grads=grads, reserved=reserved, highlight=highlight
        )
        path = folder / f"step_{k:0{width}d}.{image_format}"
        write_atomic(path, render(graph, image_format))
        paths.append(path)
    panels = [_start_panel(picture, root, seed, len(steps))]
    received: dict[Any, int] = {}  # tensor -> how many ops have sent it a gradient so far
    for k, step in enumerate(steps):
        for parent, g in zip(step.node.parents, step.input_grads):
            if g is not None:
                received[parent] = received.get(parent, 0) + 1
        panels.append(_step_panel(picture, step, k, len(steps), received))
    index = folder / "index.html"
    write_atomic(index, _page(paths, panels, frames).encode("utf-8"))
    return [*paths, index]


def _frames(
    picture: Picture, root_node: Node, seed: Any, steps: list[Step]
) -> list[tuple[str | None, dict[str, list[str]]]]:
    """For each frame, the highlighted box and the gradient lines of every box so far."""
    arrived: dict[Any, Any] = {root_node: seed}  # Node (its output) or leaf -> dL/d(it)
    shown = {picture.tensor_item[root_node].id: value_lines(seed)}
    frames: list[tuple[str | None, dict[str, list[str]]]] = [(None, dict(shown))]
    for step in steps:
        for parent, g in zip(step.node.parents, step.input_grads):
            if g is None:
                continue
            arrived[parent] = g if parent not in arrived else arrived[parent] + g
            item = picture.tensor_item[parent]
            if item.id not in picture.alias:
                shown[item.id] = value_lines(arrived[parent])
        op = picture.op_item[step.node].id
        frames.append((picture.alias.get(op, op), dict(shown)))
    return frames


def _pre(value: Any) -> str:
    return f"<pre>{html.escape(chr(10).join(value_lines(value)))}</pre>"


def _tensor_phrase(picture: Picture, key: Any) -> str:
    item = picture.tensor_item[key]
    return (
        f"<b>{html.escape(item.title)}</b> "
        f"<span class=kind>({describe_kind(item.kind)}, {shape_text(item.shape)})</span>"
    )


def _start_panel(picture: Picture, root: Tensor, seed: Any, count: int) -> str:
    return (
        f"<h2>Start: seed the gradient</h2><p>Backward begins at the output "
        f"{_tensor_phrase(picture, root._node)} with <code>G = dL/dL</code>:</p>{_pre(seed)}"
        f"<p>The engine will now run {count} vector-Jacobian products, one per op, each "
        f"once all the ops that used its output have sent their gradient (reverse "
        f"topological order). Use ← and → to step.</p>"
    )


def _step_panel(picture: Picture, step: Step, k: int, count: int, received: dict[Any, int]) -> str:
    node = step.node
    forward, _, rule = (node.prim.doc or "").partition(";")
    formula = (
        f"<p class=formula>forward <code>{html.escape(forward.strip())}</code><br>"
        f"VJP <code>{html.escape(rule.strip())}</code></p>"
        if rule
        else f"<p class=formula>{html.escape(forward.strip()) or 'no formula recorded'}</p>"
    )
    scope = " › ".join(html.escape(module_label(m)) for m in node.scope or ())
    where = f"<p class=where>inside {scope}</p>" if scope else ""
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
            what = f"dL/d{picture.tensor_item[parent].title}" if type(parent) is not Node else ""
            summed = (
                f", summed with the {received[parent] - 1} gradient(s) it received earlier"
                if received[parent] > 1
                else ""
            )
            inputs.append(
                f"<li>input {i}: {_tensor_phrase(picture, parent)} receives {what}{summed}:"
                f"{_pre(g)}</li>"
            )
    done = ""
    if k == count - 1:
        done = "<p class=done>Done: every op's VJP has run; all gradients are final.</p>"
    return (
        f"<h2>Step {k + 1} of {count}: <code>{html.escape(node.prim.name)}</code></h2>"
        f"{where}{formula}<p>Gradient arriving at its output "
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
