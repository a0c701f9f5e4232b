"""Writing pictures to files: ``.dot`` text directly, ``.svg .png .pdf`` through ``dot``.

Every file is written atomically: to a temporary file in the same folder, then
``os.replace``-d over the target, so a crash or a missing Graphviz never leaves a
half-written picture. Failures name the file being written: a missing folder, or
``dot`` rejecting the graph (with what it said).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from ..files import check_folder, write_atomic
from ..tensor import Tensor
from .dot import to_dot
from .layout import MAX_BOXES, check_budget

FORMATS = ("svg", "png", "pdf", "dot")

MISSING_DOT = (
    "Graphviz's `dot` program was not found on PATH; it is needed to render {fmt} files "
    "(.dot files are written without it). Install it: `apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`, "
    "then check that `dot -V` runs."
)


def file_format(path: Path) -> str:
    """The picture format named by ``path``'s extension, checked against :data:`FORMATS`."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"draw: cannot tell the picture format of {str(path)!r} from its extension "
            f"{path.suffix!r}; use one of {', '.join('.' + f for f in FORMATS)}"
        )
    return fmt


def render(graph: graphviz.Digraph, fmt: str, path: Path | None = None) -> bytes:
    """``graph`` in format ``fmt``: DOT text as is, anything else laid out by ``dot``.

    ``dot`` failing raises ``RuntimeError`` naming ``path`` and quoting ``dot``'s error.
    """
    if fmt == "dot":
        return graph.source.encode("utf-8")
    target = f" {str(path)!r}" if path is not None else ""
    try:
        return graph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise RuntimeError(MISSING_DOT.format(fmt="." + fmt)) from exc
    except graphviz.CalledProcessError as exc:
        said = (exc.stderr or b"").decode(
            "utf-8", "replace"
        ).strip() or f"exit status {exc.returncode}"
        raise RuntimeError(f"draw: Graphviz's dot could not render{target}: {said}") from exc
    except OSError as exc:  # e.g. dot died while reading the graph (a broken pipe)
        raise RuntimeError(f"draw: Graphviz's dot could not render{target}: {exc}") from exc


def draw(
    root: Tensor,
    path: str | os.PathLike[str],
    *,
    max_boxes: int | None = MAX_BOXES,
    **kwargs: Any,
) -> Path:
    """Draw the graph that produced ``root`` into the file ``path``.

    The format comes from the extension: ``.dot`` (DOT text, needs no Graphviz),
    ``.svg``, ``.png`` or ``.pdf`` (rendered by Graphviz's ``dot`` program; a
    ``RuntimeError`` says how to install it when it is missing). ``kwargs`` are
    :func:`to_dot`'s options (``show_data``, ``show_grad``, ``rankdir``, ``legend``,
    ``modules``, ``fold``, ``compact``, ``depth``); those left to choose are chosen so
    the picture fits a screen readably. A picture that still has more than
    ``max_boxes`` boxes raises :class:`~autograd.viz.layout.GraphTooLargeError` (a
    ``ValueError``) saying how to draw a part, rather than keeping ``dot`` busy for
    minutes (``max_boxes=None``: no limit). The file is written atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    fmt = file_format(path)
    check_folder(path)
    graph = to_dot(root, **kwargs)
    if fmt != "dot":
        check_budget(graph.picture, max_boxes)
    write_atomic(path, render(graph, fmt, path))
    return path
