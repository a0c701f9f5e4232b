"""Readable defaults: how big a picture will be, and the options that make it fit a screen.

:func:`estimate` predicts the size Graphviz's ``dot`` gives a :class:`Picture`
without running it, the way ``dot`` lays out a graph: boxes on *ranks* (each box one
rank before the first op that uses it; a box is at least 0.75 × 0.5 in, its label's
text measured at Helvetica's average character width), ranks stacked along the data
flow (``ranksep`` apart, halved when edges carry labels, which then take a rank of
their own), the boxes of a rank side by side (``nodesep`` apart), plus cluster
margins. It is within ~30 % of ``dot`` on the project's models, enough to choose.

:func:`choose` tries pictures from the most detailed to the smallest and keeps the
first that fits a 16:9 screen (:data:`SCREEN`) at a readable zoom
(:data:`READABLE_ZOOM`: 11 pt text at 10 px or more):

1. everything, left to right (the notes' networks stop here, as they always were
   drawn), else top to bottom if that fits better (a deep chain);
2. repeated structure drawn once (``×N``);
3. each op in one box with its output (``compact``);
4. module clusters collapsed into boxes, from the innermost level outwards (but a
   picture readable at zoom :data:`ACCEPTABLE_ZOOM` beats one box per top-level module).

Options the caller fixed are kept at every step. When nothing fits, the smallest
picture is drawn (at a smaller zoom); :func:`~autograd.viz.render.draw` refuses
pictures over its box budget instead of running ``dot`` for minutes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .picture import Item, Picture, graph_nodes
from .repeats import find_folds

RANKDIRS = ("LR", "RL", "TB", "BT")

#: The screen a picture should fit, in pixels (16:9).
SCREEN = (1920, 1080)
#: Smallest zoom at which a picture counts as readable: 11 pt text (14.7 px at 96 dpi)
#: shown at 10 px or more.
READABLE_ZOOM = 0.68
#: A picture that needs a smaller zoom than :data:`READABLE_ZOOM` but not below this
#: is preferred to drawing each top-level module as a single box.
ACCEPTABLE_ZOOM = 0.55
#: Pixels per point in rendered pictures (Graphviz renders PNG at 96 dpi; browsers
#: show SVG points at 96/72 px).
PX_PER_PT = 96 / 72

NODESEP, RANKSEP = 18.0, 28.8  # the DOT attributes (0.25 in, 0.4 in), in points
COMPACT_RANKSEP = 18.0  # compact pictures' ranksep (0.25 in)
MIN_W, MIN_H = 54.0, 36.0  # Graphviz's smallest box (0.75 × 0.5 in)
MARGIN_W, MARGIN_H = 11.5, 5.8  # the node margin (0.08, 0.04 in) on both sides
CLUSTER_PAD, CLUSTER_LABEL = 16.0, 20.0  # per nesting level
EDGE_FONT = 9.0
#: How much wider than its boxes side by side ``dot`` makes a rank (measured on the
#: project's models: room for edges, plus more per box inside clusters, kept apart).
SPREAD, SPREAD_CLUSTERS = 1.3, 0.5

_ROW = re.compile(r"<TR>(.*?)</TR>")
_POINT_SIZE = re.compile(r'POINT-SIZE="(\d+)"')
_TAG = re.compile(r"<[^>]+>")


def text_size(rows: str, base: float = 11.0) -> tuple[float, float]:
    """Width and height in points of the text in an HTML-like label's ``rows``."""
    width = height = 0.0
    for row in _ROW.findall(rows):
        match = _POINT_SIZE.search(row)
        size = float(match.group(1)) if match else base
        per_char = size * (0.6 if "monospace" in row else 0.55)
        lines = row.split("<BR/>")
        for line in lines:
            width = max(width, len(html.unescape(_TAG.sub("", line))) * per_char)
        height += len(lines) * size * 1.2 + 2
    return width, height


def box_size(item: Item, extra_lines: int = 0) -> tuple[float, float]:
    """The size in points of ``item``'s box (with ``extra_lines`` of gradient text)."""
    if item.size is None:
        width, height = text_size(item.rows, 9.0 if item.kind == "const" else 11.0)
        width, height = width + MARGIN_W, height + MARGIN_H
        if item.kind == "op":  # an ellipse around the label
            width, height = width * 1.3, height * 1.3
        item.size = (width, height)
    width, height = item.size
    return max(width, MIN_W), max(height + extra_lines * 9 * 1.2, MIN_H)


def ranks(picture: Picture) -> dict[str, int]:
    """Each box's rank, counted back from the end of the data flow (0: the root)."""
    sources: dict[str, list[str]] = {item.id: [] for item in picture.items}
    waiting = dict.fromkeys(sources, 0)  # consumers not yet ranked
    for source, target, _ in picture.edges:
        sources[target].append(source)
        waiting[source] += 1
    rank = dict.fromkeys(sources, 0)
    ready = [box for box, n in waiting.items() if n == 0]  # the root (and loose boxes)
    while ready:  # from the end of the flow back, each box after all its consumers
        box = ready.pop()
        for source in sources[box]:
            rank[source] = max(rank[source], rank[box] + 1)
            waiting[source] -= 1
            if not waiting[source]:
                ready.append(source)
    return rank


def estimate(
    picture: Picture, rankdir: str, extra: dict[str, list[str]] | None = None
) -> tuple[float, float]:
    """The ``(width, height)`` in points that ``dot`` will give ``picture`` laid out in
    direction ``rankdir``; ``extra`` maps box ids to gradient lines added to them."""
    extra = extra or {}
    across_tb = rankdir in ("TB", "BT")
    rank = ranks(picture)
    count = 1 + max(rank.values(), default=0)
    along = [0.0] * count  # each rank's thickness along the flow
    breadth = [0.0] * count  # the boxes of a rank side by side
    clusters: list[set[Any]] = [set() for _ in range(count)]
    for item in picture.items:
        w, h = box_size(item, len(extra.get(item.id, ())))
        r = rank[item.id]
        along[r] = max(along[r], h if across_tb else w)
        breadth[r] += (w if across_tb else h) + NODESEP
        clusters[r].update(item.cluster[:depth] for depth in range(1, len(item.cluster) + 1))
    labelled = any(label for _, _, label in picture.edges)
    label_along = [0.0] * count  # the edge labels between rank r + 1 and rank r
    label_breadth = [0.0] * count
    for source, target, label in picture.edges:
        low, high = rank[target], rank[source]
        for r in range(low + 1, high):  # a long edge passes the ranks between
            breadth[r] += NODESEP
        if label:
            text = len(label) * EDGE_FONT * 0.55 + 4, EDGE_FONT * 1.2 + 4
            label_along[low] = max(label_along[low], text[1] if across_tb else text[0])
            label_breadth[low] += (text[0] if across_tb else text[1]) + NODESEP
    for r in range(count):  # each cluster a rank crosses keeps its margins
        breadth[r] += CLUSTER_PAD * len(clusters[r])
    gap = COMPACT_RANKSEP if picture.compact else RANKSEP / 2 if labelled else RANKSEP
    length = sum(along) + sum(label_along) + gap * (count - 1) * (2 if labelled else 1)
    width = max(max(breadth, default=0.0), max(label_breadth, default=0.0))
    inside = sum(1 for item in picture.items if item.cluster) / max(len(picture.items), 1)
    width *= SPREAD + SPREAD_CLUSTERS * inside  # room dot leaves for edges and clusters
    length += CLUSTER_LABEL * picture.depth() + 16
    return (width + 16, length) if across_tb else (length, width + 16)


def zoom(size_pt: tuple[float, float]) -> float:
    """The zoom (at most 1) that fits a picture of ``size_pt`` points on :data:`SCREEN`."""
    w, h = size_pt[0] * PX_PER_PT, size_pt[1] * PX_PER_PT
    return min(1.0, SCREEN[0] / w, SCREEN[1] / h)


#: Safety factor on estimates when choosing (they are within ~5 % along the flow).
MARGIN = 1.06
#: More boxes than fit a screen readably however they are laid out (the smallest box
#: at the readable zoom is ~50 × 33 px): such pictures are not measured.
MOST_ON_SCREEN = 800
#: Most boxes :func:`~autograd.viz.render.draw` lays out (``dot`` takes about a
#: second per 1,000 boxes, and much longer with many clusters).
MAX_BOXES = 1200


class GraphTooLargeError(ValueError):
    """A picture has more boxes than ``dot`` lays out in a few seconds."""


def check_budget(picture: Picture, max_boxes: int | None, what: str = "draw") -> None:
    """Raise :class:`GraphTooLargeError` saying how to draw a part, if ``picture`` has
    more than ``max_boxes`` boxes (None: no limit)."""
    boxes = len(picture.items)
    if max_boxes is None or boxes <= max_boxes:
        return
    nodes = len(picture.nodes)
    raise GraphTooLargeError(
        f"{what}: this picture has {boxes:,} boxes ({nodes:,} ops), more than Graphviz "
        f"lays out in a few seconds (max_boxes={max_boxes:,}), even with repeats folded "
        f"and modules collapsed where the options allowed. Draw a part instead: "
        f"depth=50 draws the 50 ops nearest the output; to_dot(t) or draw(t, ...) of an "
        f"intermediate tensor t draws what produced it; modules='collapse' (or modules=0) "
        f"draws each module call as one box; ag.viz.explore(root, 'graph.html') gives a "
        f"zoomable page. Or pass max_boxes=None to lay it out anyway."
    )


def readable(
    root: Tensor,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "auto",
    modules: Any = "auto",
    fold: bool | None = None,
    compact: bool | None = None,
    depth: int | None = None,
    extra: Callable[[Picture], dict[str, list[str]]] | None = None,
) -> tuple[Picture, str]:
    """The picture of ``root``'s graph with the options :func:`choose` picks for the
    ones left ``"auto"``/None, and its direction (see ``to_dot`` for the options).
    ``extra(picture)`` gives the lines added to its boxes (default: leaf gradients)."""
    if rankdir != "auto" and rankdir not in RANKDIRS:
        raise ValueError(f"viz: rankdir must be 'auto' or one of {RANKDIRS}, got {rankdir!r}")
    folds: list[Any] = []  # found once, when a picture first needs them

    def build(**options: Any) -> Picture:
        if options["fold"] is True:
            if not folds and root._node is not None:
                folds.append(find_folds(graph_nodes(root._node, depth)[:-1]))
            options["fold"] = folds[0] if folds else False
        return Picture(root, show_data=show_data, depth=depth, **options)

    return choose(
        build,
        rankdir=rankdir,
        modules=modules,
        fold=fold,
        compact=compact,
        extra=extra or (Picture.leaf_grads if show_grad else None),
    )


def choose(
    build: Callable[..., Picture],
    *,
    rankdir: str = "auto",
    modules: Any = "auto",
    fold: bool | None = None,
    compact: bool | None = None,
    extra: Callable[[Picture], dict[str, list[str]]] | None = None,
) -> tuple[Picture, str]:
    """The most detailed picture that fits the screen readably, and its direction.

    ``build(modules=..., fold=..., compact=...)`` makes a picture; ``"auto"`` (or
    None) marks the options :func:`choose` may pick, the others are kept as given.
    ``extra(picture)`` gives the gradient lines its boxes will carry. The steps are
    the module docstring's; a step that changes nothing (no repeats) is skipped.
    """
    auto_modules = isinstance(modules, str) and modules == "auto"
    steps = [{"modules": "cluster" if auto_modules else modules, "fold": bool(fold),
              "compact": bool(compact)}]  # fmt: skip
    if fold is None:
        steps.append({**steps[-1], "fold": True})
    if compact is None:
        steps.append({**steps[-1], "compact": True})
    best: tuple[float, int, Picture, str] | None = None
    k = 0
    while k < len(steps):
        options = steps[k]
        picture = build(**options)
        if auto_modules and k == len(steps) - 1 and isinstance(options["modules"], str):
            depth = picture.depth()  # then collapse modules, the innermost level first
            steps += [{**options, "modules": d} for d in range(depth - 1, -1, -1)]
        k += 1
        if options["fold"] and not picture.folds and k > 1 and not steps[k - 2]["fold"]:
            continue  # nothing repeats: the same picture as the step before
        if len(picture.items) > MOST_ON_SCREEN:  # cannot fit: no need to measure
            zooms = {"LR" if rankdir == "auto" else rankdir: 0.0}
        else:
            zooms = _zooms(picture, rankdir, extra(picture) if extra else None)
        if k == 1 and zooms.get("LR", 0) >= READABLE_ZOOM:
            return picture, "LR"  # as the notes' pictures have always been drawn
        direction = max(zooms, key=lambda d: (zooms[d], d == "LR"))
        whole = options["modules"] == 0 and k > 1  # every module in one box: little to see
        if whole and best is not None and best[0] >= ACCEPTABLE_ZOOM:
            return best[2], best[3]
        if zooms[direction] >= READABLE_ZOOM:
            return picture, direction
        score = (zooms[direction], -len(picture.items))
        if best is None or score > best[:2]:
            best = (*score, picture, direction)
    assert best is not None
    return best[2], best[3]


def _zooms(picture: Picture, rankdir: str, extra: dict[str, list[str]] | None) -> dict[str, float]:
    directions = ("LR", "TB") if rankdir == "auto" else (rankdir,)
    sizes = {d: estimate(picture, d, extra) for d in directions}
    return {d: zoom((w * MARGIN, h * MARGIN)) for d, (w, h) in sizes.items()}
