"""Pictures of computation graphs: ``to_dot``, ``draw`` and the backward walkthrough.

The picture teaches what backprop walks: parameters, inputs, constants,
intermediates and the root styled apart, each op by name, the shape on every edge,
values and (after backward) gradients in the boxes, and ``nn.Module`` calls as
labelled clusters. Visualisation only reads the graph; the engine never knows about
it, and ``graphviz`` is imported only here.

- :func:`to_dot` -> ``graphviz.Digraph`` (inline in Jupyter, ``.source`` is DOT);
- :func:`draw` -> a ``.svg .png .pdf`` (through Graphviz's ``dot``) or ``.dot`` file;
- :func:`backward_steps` -> one picture per VJP the engine runs, plus ``index.html``;
- :func:`explore` -> one self-contained HTML page: pan, zoom, click for values,
  gradients and VJP formulas, modules that open and close, the backward walkthrough.

Options left to choose are chosen so a picture fits a 16:9 screen readably
(:mod:`autograd.viz.layout`); :func:`draw` refuses pictures too big for ``dot``
(:class:`GraphTooLargeError`) saying how to draw a part.
"""

from .dot import Graph, to_dot
from .explore import explore
from .layout import GraphTooLargeError
from .render import draw
from .structure import module_html
from .walkthrough import backward_steps

__all__ = [
    "Graph",
    "GraphTooLargeError",
    "backward_steps",
    "draw",
    "explore",
    "module_html",
    "to_dot",
]
