"""Neural networks on topograd's engine: ``import nn``.

Modules and parameters (``nn.Module``, ``nn.Parameter``), layers, the notes'
networks (``nn.TwoLayerMLP``, ``nn.MLP``), losses, ``nn.functional`` (also
``nn.F``), ``nn.init``, ``nn.optim``, ``nn.data`` and ``nn.manual`` (the notes'
hand-derived gradients in plain numpy, for comparison with the engine).
"""

from . import data, functional, init, manual, optim, utils
from . import functional as F  # noqa: N812 - PyTorch's conventional alias
from .layers import Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .mlp import MLP, TwoLayerMLP
from .module import MixedDtypeWarning, Module, ModuleDict, ModuleList, Parameter, Sequential
from .serialization import load, save
from .stateless import functional_call

__all__ = [
    "MLP",
    "MixedDtypeWarning",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "F",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TwoLayerMLP",
    "data",
    "functional",
    "functional_call",
    "init",
    "load",
    "manual",
    "optim",
    "save",
    "utils",
]
