"""The differentiable primitives, one module per family, and the op table they fill.

Importing this package imports every family (each registers its public functions in
:data:`autograd.optable.OPS`), then attaches their methods and operators to
:class:`~autograd.Tensor`. Its public names are exactly the op table's.
"""

from ..optable import OPS, attach_methods
from ..tensor import Tensor
from . import (  # noqa: F401 - they fill OPS
    activation,
    attention,
    conv,
    cumulative,
    einstein,
    elementwise,
    inplace,
    linalg,
    lookup,
    neural,
    norm_layer,
    normalization,
    numpy_dispatch,
    recurrent,
    reduce,
    rounding,
    shape,
    special,
    spellings,
    trig,
)

attach_methods(Tensor)
globals().update(OPS)

__all__ = sorted(OPS)
