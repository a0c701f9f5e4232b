"""Pictures of computation graphs: ``to_dot``, ``draw`` and the backward walkthrough.

The picture teaches what backprop walks: parameters, inputs, constants,
intermediates and the root styled apart, each op by name, the shape on every edge,
values and (after backward) gradients in the boxes, and ``nn.Module`` calls as
labelled clusters. Visualisation only reads the graph; the engine never knows about
it, and ``graphviz`` is imported only here.

- :func:`to_dot` -> ``graphviz.Digraph`` (inline in Jupyter, ``.source`` is DOT);
- :func:`draw` -> a ``.svg .png .pdf`` (through Graphviz's ``dot``) or ``.dot`` file;
- :func:`backward_steps` -> one picture per VJP the engine runs, plus ``index.html``.
"""

from .dot import to_dot
from .render import draw
from .walkthrough import backward_steps

__all__ = ["backward_steps", "draw", "to_dot"]
