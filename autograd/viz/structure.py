"""A module's structure as HTML, for notebooks (``nn.Module._repr_html_``).

A tree of nested ``<details>`` (open to the depth :data:`OPEN_DEPTH`): each module's
attribute name, class and settings (``extra_repr``), the number of values in its
parameters (its own and its sub-modules'), and a table of its own parameters and
buffers with their shapes and dtypes. Visualisation sits below ``nn``, so modules are
read by duck typing: ``named_children()``, ``_parameters``, ``_buffers``,
``extra_repr()``. Walked iteratively; every name is cleaned (:func:`labels.clean`)
and escaped.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .labels import clean, shape_text

#: Modules nested deeper than this start closed.
OPEN_DEPTH = 2

STYLE = (
    "<style>.tg-mod{font-family:system-ui,sans-serif;font-size:13px}"
    ".tg-mod details{margin-left:14px}.tg-mod summary{cursor:pointer}"
    ".tg-mod .n{color:#777}.tg-mod table{margin:2px 0 4px 18px;border-collapse:collapse}"
    ".tg-mod td{padding:0 10px 0 0;font-family:monospace}</style>"
)


def _values(module: Any) -> dict[int, int]:
    """Number of parameter values in each module (by ``id``) and its sub-modules, every
    module's parameters counted once."""
    order, stack = [], [module]
    while stack:
        current = stack.pop()
        order.append(current)
        stack.extend(child for _, child in current.named_children())
    totals: dict[int, int] = {}
    for current in reversed(order):  # sub-modules before the modules holding them
        own = getattr(current, "_parameters", {}).values()
        totals[id(current)] = sum(int(np.prod(p.shape)) for p in own) + sum(
            totals[id(child)] for _, child in current.named_children()
        )
    return totals


def _own_tensors(module: Any) -> str:
    rows = []
    for kind in ("_parameters", "_buffers"):
        for name, tensor in getattr(module, kind, {}).items():
            if tensor is None:
                continue
            what = "parameter" if kind == "_parameters" else "buffer"
            rows.append(
                f"<tr><td>{html.escape(clean(name))}</td><td>{shape_text(tuple(tensor.shape))}"
                f"</td><td>{tensor.dtype}</td><td class=n>{what}</td></tr>"
            )
    return f"<table>{''.join(rows)}</table>" if rows else ""


def module_html(module: Any) -> str:
    """The structure of ``module`` (an ``nn.Module``) as an HTML fragment."""
    parts = [STYLE, '<div class="tg-mod">']
    totals = _values(module)
    stack: list[tuple[str, Any, int] | None] = [("", module, 0)]
    while stack:
        entry = stack.pop()
        if entry is None:
            parts.append("</details>")
            continue
        name, current, depth = entry
        extra = clean(current.extra_repr()) if hasattr(current, "extra_repr") else ""
        title = f"<b>{html.escape(clean(name))}</b>: " if name else ""
        title += html.escape(type(current).__name__) + (f"({html.escape(extra)})" if extra else "")
        values = totals[id(current)]
        count = f" <span class=n>{values:,} parameter values</span>" if values else ""
        parts.append(
            f"<details{' open' if depth < OPEN_DEPTH else ''}><summary>{title}{count}</summary>"
            f"{_own_tensors(current)}"
        )
        stack.append(None)
        children = list(current.named_children())
        stack.extend((n, child, depth + 1) for n, child in reversed(children))
    parts.append("</div>")
    return "".join(parts)
