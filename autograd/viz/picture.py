"""What a graph picture contains: tensor boxes, op boxes, shape-labelled edges, clusters.

:class:`Picture` walks the nodes that backward walks (iteratively, never recursively)
and records, in forward (topological) order, one item per

- op: a :class:`~autograd.node.Node` (label: its primitive's name and parameters);
- op output: the tensor a node produced (kind ``"inter"``, or ``"root"`` for the
  tensor being drawn);
- leaf tensor: ``"param"`` if it requires grad, ``"input"`` otherwise (one item per
  tensor, however many ops use it);
- raw constant (an ndarray or Python number passed to an op, parent ``None``):
  ``"const"``, one per use. Before backward its value is known (from the node's saved
  inputs) and shown; after backward has freed the node it is drawn as a bare
  ``const`` box with no shape, so the picture keeps the same boxes either way.

Item ids are counters in that order (``t0``, ``op1``, ``c2``, ...), so the same graph
always gives the same DOT text. Each item belongs to a module cluster: an op and its
output to the modules active when the node was recorded (``node.scope``, outermost
first); a parameter to the innermost cluster shared by all ops that use it; an input
to none (data comes from outside the model); a constant to its op's. Clusters are keyed
by the modules themselves, so a module called twice in the same place (shared
weights) forms one cluster. ``modules="collapse"`` replaces each innermost module by one box.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..node import Node, ancestors
from ..tensor import Tensor
from .labels import op_rows, shape_text, tensor_rows, text_row

MODULE_MODES = ("cluster", "collapse", "flat")

ClusterKey = tuple[int, ...]


class Item:
    """One box of the picture: ``kind`` selects its style, ``rows`` its label."""

    __slots__ = ("id", "kind", "cluster", "rows", "title", "shape")

    def __init__(
        self, id: str, kind: str, cluster: ClusterKey, rows: str, title: str, shape: Any
    ) -> None:
        self.id = id
        self.kind = kind
        self.cluster = cluster
        self.rows = rows
        self.title = title
        self.shape = shape

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.kind} {self.title!r}>"


def module_label(module: Any) -> str:
    """``"Linear layers.0"``: the module's class name, plus the name its parent gave it."""
    name = getattr(module, "_name", None)
    return f"{type(module).__name__} {name}" if name else type(module).__name__


class Picture:
    """The boxes, edges and clusters of the graph that produced ``root``.

    Parameters
    ----------
    root : Tensor
        The tensor to draw (usually a loss); a leaf gives a one-box picture.
    show_data : bool
        Put values (small tensors) or summary stats (large ones) in tensor boxes.
    modules : {"cluster", "collapse", "flat"}
        Group each module call's boxes in a labelled cluster; or draw each innermost
        module as a single box (its parameters listed inside); or ignore modules.
    """

    def __init__(self, root: Tensor, *, show_data: bool = True, modules: str = "cluster") -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"viz: expected an autograd Tensor to draw, got {type(root).__name__}")
        if modules not in MODULE_MODES:
            raise ValueError(f"viz: modules must be one of {MODULE_MODES}, got {modules!r}")
        self.show_data = show_data
        self.items: list[Item] = []
        self.edges: list[tuple[str, str, str]] = []  # (source id, target id, shape label)
        self.tensor_item: dict[Any, Item] = {}  # a Node (its output) or a leaf Tensor -> box
        self.op_item: dict[Node, Item] = {}
        self.leaves: list[tuple[Item, Tensor]] = []
        self.cluster_labels: dict[ClusterKey, str] = {}
        self.alias: dict[str, str] = {}  # box id -> id of the collapsed module box holding it
        self._ids = itertools.count()
        node = root._node
        if node is None:
            self._leaf(root, ())
        else:
            for n in ancestors(node):
                self._add_node(n, n is node)
        if modules == "collapse":
            self._collapse()
        elif modules == "flat":
            for item in self.items:
                item.cluster = ()
            self.cluster_labels.clear()

    # ------------------------------------------------------------------ building
    def _new(
        self, prefix: str, kind: str, cluster: ClusterKey, rows: str, title: str, shape: Any = None
    ) -> Item:
        item = Item(f"{prefix}{next(self._ids)}", kind, cluster, rows, title, shape)
        self.items.append(item)
        return item

    def _cluster(self, scope: Any) -> ClusterKey:
        if not scope:
            return ()
        key = tuple(id(m) for m in scope)
        if key not in self.cluster_labels:
            for depth, module in enumerate(scope, 1):
                self.cluster_labels.setdefault(key[:depth], module_label(module))
        return key

    def _leaf(self, tensor: Tensor, cluster: ClusterKey) -> Item:
        item = self.tensor_item.get(tensor)
        if item is not None:  # used again: move it to the clusters both uses share
            shared = 0
            for a, b in zip(item.cluster, cluster):
                if a != b:
                    break
                shared += 1
            item.cluster = item.cluster[:shared]
            return item
        kind = "param" if tensor._requires_grad else "input"
        title = tensor._name or ("parameter" if kind == "param" else "input")
        value = tensor.data if self.show_data else None
        rows = tensor_rows(tensor._name, tensor.shape, tensor.dtype, value)
        # a parameter belongs to the modules using it; data comes from outside them all
        item = self._new("t", kind, cluster if kind == "param" else (), rows, title, tensor.shape)
        self.tensor_item[tensor] = item
        self.leaves.append((item, tensor))
        return item

    def _const(self, saved: tuple[Any, ...] | None, i: int, cluster: ClusterKey) -> Item:
        if saved is None:  # freed by backward: value and shape are gone
            return self._new("c", "const", cluster, text_row("const", size=9), "constant")
        value = np.asarray(saved[i])
        rows = text_row("const", size=9) + tensor_rows(
            None, value.shape, value.dtype, value if self.show_data else None
        )
        return self._new("c", "const", cluster, rows, "constant", value.shape)

    def _add_node(self, node: Node, is_root: bool) -> None:
        cluster = self._cluster(node.scope)
        prim = node.prim
        op = self._new("op", "op", cluster, op_rows(prim.name, node.params), prim.name)
        saved = node.saved
        for i, parent in enumerate(node.parents):
            if type(parent) is Node:
                source = self.tensor_item[parent]
            elif parent is None:
                source = self._const(saved, i, cluster)
            else:
                source = self._leaf(parent, cluster)
            label = "" if source.shape is None else shape_text(source.shape)
            self.edges.append((source.id, op.id, label))
        value = None if node.freed or not self.show_data else node.out
        kind = "root" if is_root else "inter"
        title = node.name or ("output" if is_root else f"output of {prim.name}")
        rows = tensor_rows(node.name, node.shape, node.dtype, value)
        out = self._new("t", kind, cluster, rows, title, node.shape)
        self.op_item[node] = op
        self.tensor_item[node] = out
        self.edges.append((op.id, out.id, shape_text(node.shape)))

    # ------------------------------------------------------------------ collapsing
    def _collapse(self) -> None:
        """Replace each innermost module cluster by one ``"module"`` box.

        Tensors made inside and used outside (or drawn as the root) stay visible, in
        the enclosing cluster; everything else inside is hidden in the box, whose
        label lists the module's parameters and ops. Edges are rerouted to the box.
        """
        parents = {key[:-1] for key in self.cluster_labels}
        innermost = [key for key in self.cluster_labels if key not in parents]
        members: dict[ClusterKey, list[Item]] = {key: [] for key in innermost}
        for item in self.items:
            if item.cluster in members:
                members[item.cluster].append(item)
        cluster_of = {item.id: item.cluster for item in self.items}
        used_in: dict[str, set[ClusterKey]] = {}  # box id -> clusters of the ops using it
        for source, target, _ in self.edges:
            used_in.setdefault(source, set()).add(cluster_of[target])
        boxes: dict[str, Item] = {}  # id of a module's first hidden box -> the module box
        for key in innermost:
            hidden = []
            for item in members[key]:
                if item.kind == "root" or used_in.get(item.id, set()) - {key}:
                    item.cluster = key[:-1]  # a result of the module: keep it visible
                else:
                    hidden.append(item)
            box = self._module_box(key, hidden)
            boxes[hidden[0].id] = box
            for item in hidden:
                self.alias[item.id] = box.id
        self.items = [
            boxes.get(item.id, item)
            for item in self.items
            if item.id not in self.alias or item.id in boxes
        ]
        edges: dict[tuple[str, str], str] = {}
        for source, target, label in self.edges:
            pair = (self.alias.get(source, source), self.alias.get(target, target))
            if pair[0] != pair[1]:
                edges.setdefault(pair, label)
        self.edges = [(source, target, label) for (source, target), label in edges.items()]
        for key in innermost:
            del self.cluster_labels[key]

    def _module_box(self, key: ClusterKey, hidden: list[Item]) -> Item:
        title = self.cluster_labels[key]
        params = [
            f"{item.title} {shape_text(item.shape)}" for item in hidden if item.kind == "param"
        ]
        ops = list(dict.fromkeys(item.title for item in hidden if item.kind == "op"))
        rows = text_row(title, bold=True) + "".join(text_row(p, size=9) for p in params)
        rows += text_row(" → ".join(ops), size=8)
        return Item(f"m{next(self._ids)}", "module", key[:-1], rows, title, None)
