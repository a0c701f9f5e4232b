"""Optimizers with ``torch.optim``'s update rules, and learning-rate schedulers.

Usage::

    opt = nn.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = nn.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    opt.zero_grad(); loss.backward(); opt.step(); scheduler.step()

:class:`Optimizer` (``optimizer.py``) holds what they share: parameter groups,
per-parameter state (ndarrays updated in place, the step count too), ``step`` and
state dicts that are checked before they are loaded; ``flat.py`` the flat buffers
that let an elementwise rule update a group of small parameters in one pass. Each
algorithm's module holds its update rule, with the formula in the docstring.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
