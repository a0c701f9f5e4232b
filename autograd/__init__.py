"""topograd's autodiff engine: ``import autograd as ag``.

A :class:`Tensor` records the primitives applied to it; ``backward()`` walks that
graph in reverse topological order, running each primitive's vector-Jacobian
product. See README.md for a tour and ``autograd/ops/`` for every derivative.

Layers, each importing only from those before it: ``node`` and ``mode`` (the graph's
data types, per-thread state) -> ``tensor`` -> ``primitive`` -> ``optable`` and
``ops`` (every op, attached to Tensor as methods) -> ``backward`` -> ``transforms``,
``function``, ``gradcheck``, ``creation``, ``anomaly`` -> ``compile`` (compiled mode) ->
``viz``.
"""

from . import (
    compile,  # noqa: A004 - ag.compile(fn), like torch.compile: the package is callable
    ops,
    viz,  # noqa: I001 - pictures come last: they read everything above
)
from .anomaly import detect_anomaly
from .backward import run_backward  # noqa: F401 - attaches Tensor.backward
from .compile import CacheInfo, CompiledFunction, CompileError
from .creation import arange, eye, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .onnx_export import ExportError, export_onnx
from .ops import *  # noqa: F403 - the op table's public functions (ops.__all__)
from .ops.reduce import ValuesIndices
from .primitive import REGISTRY, Primitive
from .random import default_rng, manual_seed
from .tensor import Tensor, as_tensor, from_dlpack
from .transforms import (
    ClosureWarning,
    grad,
    gradients,
    hessian,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from .viz import draw, to_dot

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "CacheInfo",
    "ClosureWarning",
    "CompileError",
    "CompiledFunction",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Primitive",
    "Tensor",
    "ValuesIndices",
    "arange",
    "as_tensor",
    "compile",
    "export_onnx",
    "ExportError",
    "default_rng",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "eye",
    "from_dlpack",
    "full",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "manual_seed",
    "no_grad",
    "numerical_grad",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "set_grad_enabled",
    "tensor",
    "to_dot",
    "value_and_grad",
    "vjp",
    "viz",
    "zeros",
    "zeros_like",
    *ops.__all__,
]
