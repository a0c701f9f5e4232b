"""What a graph picture contains: tensor boxes, op boxes, shape-labelled edges, clusters.

:class:`Picture` walks the nodes that backward walks (iteratively, never recursively)
and records, in forward (topological) order, one item per

- op: a :class:`~autograd.node.Node` (label: its primitive's name and parameters);
- op output: the tensor a node produced (kind ``"inter"``, or ``"root"`` for the
  tensor being drawn). Its values are shown while the node holds them: always for
  small outputs (the engine keeps arrays up to 64 KiB, so a loss keeps its value
  after ``backward()``), until backward for large ones;
- leaf tensor: ``"param"`` if it requires grad, ``"input"`` otherwise (one item per
  tensor, however many ops use it);
- raw constant (an ndarray or Python number passed to an op, parent ``None``):
  ``"const"``, one per use, with its value (after backward: the node's last constant
  if small, ``Node.constant``; other constants are drawn as a bare ``const`` box);
- with a ``depth`` limit, an op output beyond it: ``"cut"``, standing for everything
  that produced it.

Item ids are counters in that order (``t0``, ``op1``, ``c2``, ...), so the same graph
always gives the same DOT text. Each item belongs to a module cluster: an op and its
output to the modules active when the node was recorded (``node.scope``, outermost
first); a parameter to the innermost cluster shared by all ops that use it; an input
to none (data comes from outside the model); a constant to its op's. Clusters are keyed
by the modules themselves, so a module called several times (a recurrent cell, shared
weights) forms one cluster, labelled with the number of calls (``×8``).

Three ways to draw less, each optional:

- ``fold``: repeated structure (:mod:`autograd.viz.repeats`) is drawn once, in a
  cluster labelled ``×N``; what the other repeats produce for later ops comes from
  the drawn repeat's boxes;
- ``modules``: ``"collapse"`` replaces each innermost module by one box, an int ``k``
  each module nested deeper than ``k`` levels (``0``: every top-level call), listing
  its parameters and counting its ops;
- ``compact``: each op and its output share one box (the op's name above the output's
  shape and values), and edges carry no shape labels.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

import numpy as np

from ..node import FreedArray, Node, ancestors
from ..tensor import Tensor
from .labels import op_rows, shape_text, tensor_rows, text_row, value_lines
from .repeats import Fold, find_folds

MODULE_MODES = ("cluster", "collapse", "flat")

#: A cluster: the ``id`` of each enclosing module (a fold's cluster: a negative number).
ClusterKey = tuple[int, ...]

#: Parameters listed in a collapsed module's box before "… and N more".
LISTED_PARAMS = 4
#: Op names listed in a collapsed module's box.
LISTED_OPS = 6


class Item:
    """One box of the picture: ``kind`` selects its style, ``rows`` its label, and
    ``source`` is what it shows (a Node, a leaf Tensor, ``(node, input index)`` for a
    constant, a cluster key for a module box)."""

    __slots__ = ("id", "kind", "cluster", "rows", "title", "shape", "source", "size")

    def __init__(
        self,
        id: str,
        kind: str,
        cluster: ClusterKey,
        rows: str,
        title: str,
        shape: Any,
        source: Any = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.cluster = cluster
        self.rows = rows
        self.title = title
        self.shape = shape
        self.source = source
        self.size: tuple[float, float] | None = None  # estimated by layout, once

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.kind} {self.title!r}>"


def module_label(module: Any) -> str:
    """``"Linear layers.0"``: the module's class name, plus the name its parent gave it."""
    name = getattr(module, "_name", None)
    return f"{type(module).__name__} {name}" if name else type(module).__name__


def graph_nodes(root: Node, depth: int | None = None) -> list[Node]:
    """The nodes drawn for ``root``: all its ancestors, or those at most ``depth - 1``
    ops away from it (``depth=1``: only the op that made it), in topological order."""
    if depth is None:
        return ancestors(root)
    if depth < 1:
        raise ValueError(f"viz: depth must be a positive number of ops, got {depth}")
    seen = {root}
    frontier = [root]
    for _ in range(depth - 1):
        frontier = [p for n in frontier for p in n if type(p) is Node and p not in seen]
        seen.update(frontier)
    return sorted(seen, key=lambda n: n.epoch)


class Picture:
    """The boxes, edges and clusters of the graph that produced ``root``.

    Parameters
    ----------
    root : Tensor
        The tensor to draw (usually a loss); a leaf gives a one-box picture.
    show_data : bool
        Put values (small tensors) or summary stats (large ones) in tensor boxes.
    modules : {"cluster", "collapse", "flat"}, int, or a collection of cluster keys
        Group each module call's boxes in a labelled cluster; or collapse modules into
        boxes (the innermost, those deeper than ``k`` levels, or exactly the clusters
        given); or ignore modules.
    fold : bool or list of Fold
        Draw repeated structure once (found by :func:`~autograd.viz.repeats.find_folds`
        when True).
    compact : bool
        Draw each op and its output as one box, without edge labels.
    depth : int, optional
        Draw only the ops at most ``depth - 1`` steps from ``root``'s.
    """

    def __init__(
        self,
        root: Tensor,
        *,
        show_data: bool = True,
        modules: str | int | Collection[ClusterKey] = "cluster",
        fold: bool | list[Fold] = False,
        compact: bool = False,
        depth: int | None = None,
    ) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"viz: expected an autograd Tensor to draw, got {type(root).__name__}")
        if isinstance(modules, str) and modules not in MODULE_MODES:
            raise ValueError(
                f"viz: modules must be one of {MODULE_MODES} or an int, got {modules!r}"
            )
        if isinstance(modules, int) and (isinstance(modules, bool) or modules < 0):
            raise ValueError(f"viz: modules as a depth must be an int >= 0, got {modules!r}")
        self.show_data = show_data
        self.compact = compact
        self.items: list[Item] = []
        self.edges: list[tuple[str, str, str]] = []  # (source id, target id, shape label)
        self.tensor_item: dict[Any, Item] = {}  # a Node (its output) or a leaf Tensor -> box
        self.op_item: dict[Node, Item] = {}
        self.leaves: list[tuple[Item, Tensor]] = []
        self.cluster_labels: dict[ClusterKey, str] = {}
        self.cluster_number: dict[ClusterKey, int] = {}  # in creation order, never reused
        self.alias: dict[str, str] = {}  # box id -> id of the box that now shows it
        self.folds: list[Fold] = []
        self.representative: dict[Node, Node] = {}  # node of a hidden repeat -> drawn one
        self.nodes: list[Node] = []
        self._calls: dict[ClusterKey, set[int]] = {}
        self._fold_of: dict[Node, tuple[int, int, str]] = {}  # (cluster part, depth, label)
        self._module_results: dict[str, list[Item]] = {}  # module box id -> visible results
        self._ids = itertools.count()
        node = root._node
        if node is None:
            self._leaf(root, ())
        else:
            self.nodes = graph_nodes(node, depth)
            if fold:  # (the root, the newest node, is never in a hidden repeat)
                self.folds = find_folds(self.nodes[:-1]) if fold is True else list(fold)
            self._mark_folds()
            drawn = set(self.nodes)
            for n in self.nodes:
                if n not in self.representative:
                    self._add_node(n, n is node, drawn)
            self._label_calls()
        if modules == "flat":  # modules go; folds stay, at the top level
            for item in self.items:
                item.cluster = tuple(k for k in item.cluster if k < 0)
            folds = {key[-1]: key for key in self.cluster_labels if key[-1] < 0}
            self.cluster_labels = {(k,): self.cluster_labels[key] for k, key in folds.items()}
            self.cluster_number = {(k,): self.cluster_number[key] for k, key in folds.items()}
        elif modules == "collapse":
            self._collapse(self.innermost())
        elif isinstance(modules, int):
            self._collapse([key for key in self.cluster_labels if len(key) == modules + 1])
        elif not isinstance(modules, str):
            self._collapse([key for key in modules if key in self.cluster_labels])
        if compact:
            self._fuse_outputs()

    # ------------------------------------------------------------------ queries
    def innermost(self) -> list[ClusterKey]:
        """The clusters with no cluster inside them."""
        parents = {key[:-1] for key in self.cluster_labels}
        return [key for key in self.cluster_labels if key not in parents]

    def children(self) -> dict[ClusterKey, list[ClusterKey]]:
        """The clusters directly inside each cluster, by its key (``()``: the top level)."""
        children: dict[ClusterKey, list[ClusterKey]] = {}
        for key in self.cluster_labels:
            children.setdefault(key[:-1], []).append(key)
        return children

    def depth(self) -> int:
        """How deeply clusters nest (0: none)."""
        return max(map(len, self.cluster_labels), default=0)

    def item_of(self, obj: Any) -> Item | None:
        """The box of a Node's output or a leaf (a hidden repeat's: its drawn repeat's)."""
        if type(obj) is Node:
            obj = self.representative.get(obj, obj)
        return self.tensor_item.get(obj)

    def leaf_grads(self) -> dict[str, list[str]]:
        """Gradient lines of every drawn leaf whose ``.grad`` is set."""
        return {
            item.id: value_lines(tensor._grad.data)
            for item, tensor in self.leaves
            if tensor._grad is not None and item.id not in self.alias
        }

    def box_id(self, item_id: str) -> str:
        """The id of the box that shows ``item_id`` (its own, a module's or a fused op's)."""
        return self.alias.get(item_id, item_id)

    def text_box(self, item_id: str) -> str | None:
        """The id of the box that prints ``item_id``'s text (its own or its fused op's),
        or None when it is hidden inside a collapsed module."""
        box = self.alias.get(item_id, item_id)
        return None if box.startswith("m") else box

    # ------------------------------------------------------------------ building
    def _new(
        self,
        prefix: str,
        kind: str,
        cluster: ClusterKey,
        rows: str,
        title: str,
        shape: Any = None,
        source: Any = None,
    ) -> Item:
        item = Item(f"{prefix}{next(self._ids)}", kind, cluster, rows, title, shape, source)
        self.items.append(item)
        return item

    def _register(self, key: ClusterKey, label: str) -> None:
        if key not in self.cluster_labels:
            self.cluster_labels[key] = label
            self.cluster_number[key] = len(self.cluster_number)

    def _mark_folds(self) -> None:
        """Map each hidden repeat's nodes to the drawn (first) repeat's, and place each
        fold's cluster: inside the modules both repeats share, around the module the
        repeats call anew (an RNN's cell)."""
        for number, fold in enumerate(self.folds):
            first = self.nodes[fold.start : fold.start + fold.period]
            second = self.nodes[fold.start + fold.period : fold.start + 2 * fold.period]
            for k in range(1, fold.count):
                start = fold.start + k * fold.period
                for j, n in enumerate(self.nodes[start : start + fold.period]):
                    self.representative[n] = first[j]
            keys = [_scope_key(n.scope) for n in first + second]
            at = len(_shared_prefix(keys))
            calls = {id(n.scope) for n in first}
            if (
                at
                and all(len(k) == at for k in keys)
                and calls.isdisjoint(id(n.scope) for n in second)
            ):
                at -= 1  # every repeat is a new call of one module: the fold holds it
            below = [type(n.scope[at]).__name__ for n in first if len(n.scope or ()) > at]
            names = list(dict.fromkeys(below or [n.prim.name for n in first]))
            label = f"×{fold.count} " + " → ".join(names[:3]) + (" → …" if len(names) > 3 else "")
            for n in first:
                self._fold_of[n] = (-(number + 1), at, label)

    def _cluster(self, node: Node) -> ClusterKey:
        """The node's cluster key (its modules, with its fold's cluster if it has one),
        registering every enclosing cluster's label."""
        parts = [(id(m), module_label(m)) for m in node.scope or ()]
        if node in self._fold_of:
            number, at, label = self._fold_of[node]
            parts.insert(at, (number, label))
        key = tuple(part for part, _ in parts)
        for depth in range(1, len(parts) + 1):
            self._register(key[:depth], parts[depth - 1][1])
        if node.scope:
            self._calls.setdefault(key, set()).add(id(node.scope))
        return key

    def _label_calls(self) -> None:
        """``×N`` after a module called N times (its nodes recorded in N scopes)."""
        for key, calls in self._calls.items():
            if len(calls) > 1:
                self.cluster_labels[key] += f" ×{len(calls)}"

    def _leaf(self, tensor: Tensor, cluster: ClusterKey) -> Item:
        item = self.tensor_item.get(tensor)
        if item is not None:  # used again: move it to the clusters both uses share
            item.cluster = _shared_prefix([item.cluster, cluster])
            return item
        kind = "param" if tensor._requires_grad else "input"
        title = tensor._name or ("parameter" if kind == "param" else "input")
        value = tensor.data if self.show_data else None
        rows = tensor_rows(tensor._name, tensor.shape, tensor.dtype, value)
        # a parameter belongs to the modules using it; data comes from outside them all
        cluster = cluster if kind == "param" else ()
        item = self._new("t", kind, cluster, rows, title, tensor.shape, tensor)
        self.tensor_item[tensor] = item
        self.leaves.append((item, tensor))
        return item

    def _const(self, node: Node, i: int, cluster: ClusterKey) -> Item:
        value = constant_value(node, i)
        if value is None:  # freed by backward: value and shape are gone
            rows = text_row("const", size=9)
            return self._new("c", "const", cluster, rows, "constant", None, (node, i))
        shown = None if type(value) is FreedArray or not self.show_data else np.asarray(value)
        rows = text_row("const", size=9) + tensor_rows(None, np.shape(value), _dtype(value), shown)
        return self._new("c", "const", cluster, rows, "constant", np.shape(value), (node, i))

    def _cut(self, node: Node) -> Item:
        """A box standing for an op output beyond the depth limit (and what made it)."""
        item = self.tensor_item.get(node)
        if item is None:
            title = node.name or f"output of {node.prim.name}"
            rows = text_row(f"⋯ {title}", bold=True) + text_row(
                f"{shape_text(node.shape)} {node.dtype} (earlier ops not drawn)", size=9
            )
            item = self._new("t", "cut", (), rows, title, node.shape, node)
            self.tensor_item[node] = item
        return item

    def _add_node(self, node: Node, is_root: bool, drawn: set[Node]) -> None:
        cluster = self._cluster(node)
        prim = node.prim
        op = self._new("op", "op", cluster, op_rows(prim.name, node.params), prim.name, None, node)
        for i, parent in enumerate(node):
            if type(parent) is Node:
                parent = self.representative.get(parent, parent)
                source = self.tensor_item[parent] if parent in drawn else self._cut(parent)
            elif parent is None:
                source = self._const(node, i, cluster)
            else:
                source = self._leaf(parent, cluster)
            label = "" if source.shape is None else shape_text(source.shape)
            self.edges.append((source.id, op.id, label))
        out = node.out
        value = None if type(out) is FreedArray or not self.show_data else out
        kind = "root" if is_root else "inter"
        title = node.name or ("output" if is_root else f"output of {prim.name}")
        rows = tensor_rows(node.name, node.shape, node.dtype, value)
        result = self._new("t", kind, cluster, rows, title, node.shape, node)
        self.op_item[node] = op
        self.tensor_item[node] = result
        self.edges.append((op.id, result.id, shape_text(node.shape)))

    # ------------------------------------------------------------------ collapsing
    def _collapse(self, keys: list[ClusterKey]) -> None:
        """Replace each cluster in ``keys`` (and everything nested in it) by one
        ``"module"`` box.

        Tensors made inside and used outside (or drawn as the root) stay visible, in
        the enclosing cluster; everything else inside is hidden in the box, whose
        label lists the module's parameters and ops. Edges are rerouted to the box.
        """
        keys = [k for k in keys if not any(k[: len(o)] == o for o in keys if o != k)]
        owner: dict[str, ClusterKey] = {}  # item id -> the collapsed cluster holding it
        for item in self.items:
            for key in keys:
                if item.cluster[: len(key)] == key:
                    owner[item.id] = key
                    break
        used_in: dict[str, set[Any]] = {}  # box id -> where the ops using it are
        for source, target, _ in self.edges:
            used_in.setdefault(source, set()).add(owner.get(target))
        hidden: dict[ClusterKey, list[Item]] = {key: [] for key in keys}
        results: dict[ClusterKey, list[Item]] = {}
        for item in self.items:
            key = owner.get(item.id)
            if key is None:
                continue
            if item.kind == "root" or used_in.get(item.id, set()) - {key}:
                item.cluster = key[:-1]  # a result of the module: keep it visible
                del owner[item.id]
                results.setdefault(key, []).append(item)
            else:
                hidden[key].append(item)
        boxes: dict[str, Item] = {}  # id of a module's first hidden box -> the module box
        for key, inside in hidden.items():
            if not inside:
                continue
            box = self._module_box(key, inside)
            boxes[inside[0].id] = box
            self._module_results[box.id] = results.get(key, [])
            for item in inside:
                self.alias[item.id] = box.id
        self.items = [
            boxes.get(item.id, item)
            for item in self.items
            if item.id not in self.alias or item.id in boxes
        ]
        self._reroute()
        for key in list(self.cluster_labels):
            if any(key[: len(k)] == k for k in keys):
                del self.cluster_labels[key]

    def _reroute(self) -> None:
        edges: dict[tuple[str, str], str] = {}
        for source, target, label in self.edges:
            pair = (self.alias.get(source, source), self.alias.get(target, target))
            if pair[0] != pair[1]:
                edges.setdefault(pair, label)
        self.edges = [(source, target, label) for (source, target), label in edges.items()]

    def _module_box(self, key: ClusterKey, hidden: list[Item]) -> Item:
        title = self.cluster_labels[key]
        params = [item for item in hidden if item.kind == "param"]
        ops = [item for item in hidden if item.kind == "op"]
        values = sum(int(np.prod(item.shape)) for item in params)
        count = f"{len(ops)} op{'s' * (len(ops) != 1)}"
        if params:
            count += f", {len(params)} parameter{'s' * (len(params) != 1)} ({values:,} values)"
        rows = text_row(title, bold=True) + text_row(count, size=8)
        listed = [f"{item.title} {shape_text(item.shape)}" for item in params[:LISTED_PARAMS]]
        if len(params) > LISTED_PARAMS:
            listed.append(f"… and {len(params) - LISTED_PARAMS} more")
        rows += "".join(text_row(p, size=9) for p in listed)
        names = list(dict.fromkeys(item.title for item in ops))
        shown = " → ".join(names[:LISTED_OPS]) + (" → …" if len(names) > LISTED_OPS else "")
        rows += text_row(shown, size=8)
        box_id = f"m{self.cluster_number[key]}"
        return Item(box_id, "module", key[:-1], rows, title, None, key)

    # ------------------------------------------------------------------ compact
    def _fuse_outputs(self) -> None:
        """Draw each visible op, and each module box with one result, with its visible
        intermediate output as one box."""
        items = {item.id: item for item in self.items}
        pairs = [(op, self.tensor_item[node]) for node, op in self.op_item.items()]
        pairs += [
            (items[box], out[0]) for box, out in self._module_results.items() if len(out) == 1
        ]
        for box, out in pairs:
            if box.id not in items or out.id not in items or out.kind != "inter":
                continue
            if box.kind == "op":
                box.kind = "fused"
                box.shape = out.shape
            box.rows += out.rows
            box.size = None
            self.alias[out.id] = box.id
        self.items = [item for item in self.items if item.id not in self.alias]
        self._reroute()
        self.edges = [(source, target, "") for source, target, _ in self.edges]


def constant_value(node: Node, i: int) -> Any:
    """The value (or :class:`FreedArray`) of constant input ``i`` of ``node``, or None
    once backward has released it (unless it is the node's kept ``constant``)."""
    if node.saved is not None:
        return node.saved[i]
    last = max(j for j, parent in enumerate(node) if parent is None)
    return getattr(node, "constant", None) if i == last else None


def _dtype(value: Any) -> Any:
    return value.dtype if hasattr(value, "dtype") else np.result_type(value)


def _scope_key(scope: tuple[Any, ...] | None) -> ClusterKey:
    return tuple(id(m) for m in scope) if scope else ()


def _shared_prefix(keys: list[ClusterKey]) -> ClusterKey:
    """The longest key every one of ``keys`` starts with."""
    first = keys[0]
    length = len(first)
    for key in keys[1:]:
        length = min(length, len(key))
        for depth in range(length):
            if key[depth] != first[depth]:
                length = depth
                break
    return first[:length]
