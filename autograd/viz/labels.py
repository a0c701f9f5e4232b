"""Label text: shapes, dtypes, values and gradients, formatted compactly.

Graphviz HTML-like labels are used (``label=<...>``) so a box can mix a bold name, a
small shape line and a monospaced block of numbers. A tensor with at most
:data:`SMALL` elements shows its values, one line per row (``3×5`` prints 3 lines
of 5 numbers, ``%.3g``; complex numbers as ``1+2j``); a larger one shows ``mean, std,
min, max`` instead (of ``|z|`` for complex values).

Every text that reaches a label passes :func:`clean`: control characters (which make
``dot`` reject the label) become visible escapes such as ``\\x07``, unencodable lone
surrogates become ``\\ud800``, and a text longer than :data:`MAX_TEXT` characters is
cut (``dot`` refuses labels over 16 KiB), so any tensor or module name can be drawn.
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

#: Tensors with at most this many elements show their values; larger ones show stats.
SMALL = 20
#: Numbers per printed line (a longer row wraps).
COLUMNS = 10
#: Colour of gradient text.
GRAD_COLOR = "#b03a2e"
#: Longest text (a name, a parameter, one line of values) put in a label, in characters.
MAX_TEXT = 160

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` safe for any label: control characters and lone surrogates written as
    escapes (``"a\\x07"``), and at most ``limit`` characters (the cut marked ``…``)."""
    text = _UNPRINTABLE.sub(_visible, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shape_text(shape: tuple[int, ...]) -> str:
    """``(4, 3)`` -> ``"4×3"``; ``()`` -> ``"scalar"``."""
    return "×".join(str(n) for n in shape) if shape else "scalar"


def number_text(v: Any) -> str:
    """One number, compactly: ``%.3g`` for floats, exact for ints, ``T``/``F`` for bools,
    ``1+2j`` for complex numbers; anything else as its ``str``."""
    if isinstance(v, (bool, np.bool_)):
        return "T" if v else "F"
    if isinstance(v, (int, np.integer)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        return f"{float(v) + 0.0:.3g}"  # + 0.0 turns -0.0 into 0.0
    if isinstance(v, (complex, np.complexfloating)):
        sign = "-" if v.imag < 0 else "+"
        return f"{number_text(v.real)}{sign}{number_text(abs(v.imag))}j"
    return clean(str(v), 24)


def value_lines(value: Any, limit: int = SMALL) -> list[str]:
    """The values of an array of at most ``limit`` elements as aligned text rows, or
    summary stats of a larger one.

    Rows are the last axis longer than 1 (leading axes are flattened, long rows wrap); each column
    is right-aligned to its widest number, so the block reads like a matrix in a
    monospaced font.
    """
    a = np.asarray(value)
    if a.size == 0:
        return ["(empty)"]
    if a.size > limit:
        return stats_lines(a)
    if a.ndim == 0:
        return [number_text(a.item())]
    width = next((n for n in reversed(a.shape) if n != 1), 1)  # trailing 1-axes: no rows of 1
    rows = []
    for row in a.reshape(-1, width).tolist():
        cells = [number_text(v) for v in row]
        rows.extend(cells[i : i + COLUMNS] for i in range(0, len(cells), COLUMNS))
    widths = [max(len(row[j]) for row in rows if j < len(row)) for j in range(len(rows[0]))]
    return [" ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]


def stats_lines(a: np.ndarray) -> list[str]:
    """``mean std`` and ``min max`` of an array (of ``|z|`` if complex), or its size if it
    holds no numbers. NaN and inf print as such, without numpy's warnings."""
    kind = a.dtype.kind
    if kind not in "biufc":
        return [f"{a.size} values of {a.dtype}"]
    f = np.abs(a) if kind == "c" else a.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        mean, std, low, high = f.mean(), f.std(), f.min(), f.max()
    bars = "|z| " if kind == "c" else ""
    return [
        f"{bars}mean {number_text(mean)}  std {number_text(std)}",
        f"{bars}min {number_text(low)}  max {number_text(high)}",
    ]


def escape(text: str) -> str:
    """:func:`clean` ``text``, then escape ``& < >`` for a Graphviz HTML-like label."""
    return html.escape(clean(text), quote=False)


def table(rows: str) -> str:
    """An HTML-like label (without the outer ``<>``): a borderless table of ``rows``."""
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>'


def text_row(text: str, size: int | None = None, bold: bool = False) -> str:
    """A centred table row holding ``text`` (escaped), optionally small or bold."""
    body = f"<B>{escape(text)}</B>" if bold else escape(text)
    if size is not None:
        body = f'<FONT POINT-SIZE="{size}">{body}</FONT>'
    return f"<TR><TD>{body}</TD></TR>"


def mono_row(lines: list[str], color: str | None = None) -> str:
    """A table row of left-aligned monospaced lines, optionally coloured."""
    body = "<BR/>".join(escape(line) for line in lines)
    colour = f' COLOR="{color}"' if color else ""
    return (
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">'
        f'<FONT FACE="monospace" POINT-SIZE="9"{colour}>{body}</FONT></TD></TR>'
    )


def grad_row(lines: list[str], color: str = GRAD_COLOR) -> str:
    """Gradient lines prefixed with ``∇`` (continuation lines indented to match)."""
    return mono_row([("∇ " if i == 0 else "  ") + line for i, line in enumerate(lines)], color)


def tensor_rows(title: str | None, shape: tuple[int, ...] | None, dtype: Any, value: Any) -> str:
    """Rows of a tensor box: bold ``title``, ``shape dtype``, then the values.

    ``shape`` None means unknown (a constant whose saved value backward has freed);
    ``value`` None means no values are shown.
    """
    rows = text_row(title, bold=True) if title else ""
    if shape is not None:
        rows += text_row(f"{shape_text(shape)} {dtype}", size=9)
    if value is not None:
        rows += mono_row(value_lines(value))
    return rows


def params_text(params: dict[str, Any] | None) -> str:
    """``axis=1, reduction='mean'``: an op's parameters, each short.

    Skips None/False values and private entries (``_name``: residuals a forward leaves
    for its VJP, not parameters of the op).
    """
    if not params:
        return ""
    shown = []
    for key, v in params.items():
        if v is None or v is False or key.startswith("_"):
            continue
        text = f"array({shape_text(np.shape(v))})" if isinstance(v, np.ndarray) else repr(v)
        shown.append(f"{key}={text if len(text) <= 24 else text[:23] + '…'}")
    return ", ".join(shown)


def op_rows(name: str, params: dict[str, Any] | None) -> str:
    """Rows of an op box: bold primitive name, then its parameters in small type."""
    extra = params_text(params)
    return text_row(name, bold=True) + (text_row(extra, size=8) if extra else "")
