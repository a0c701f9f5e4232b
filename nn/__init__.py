"""Neural networks on topograd's engine: ``import nn``.

Modules and parameters (``nn.Module``, ``nn.Parameter``), layers, the notes'
networks (``nn.TwoLayerMLP``, ``nn.MLP``), losses, ``nn.functional`` (also
``nn.F``), ``nn.init``, ``nn.optim``, ``nn.data`` and ``nn.manual`` (the notes'
hand-derived gradients in plain numpy, for comparison with the engine).
"""

from . import data, functional, init, manual, optim
from . import functional as F  # noqa: N812 - PyTorch's conventional alias
from .conv import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
)
from .interchange import load_torch_state_dict, to_torch_state_dict
from .layers import Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .mlp import MLP, TwoLayerMLP
from .module import Module, Parameter, Sequential
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm
from .serialization import load, save

__all__ = [
    "MLP",
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
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TwoLayerMLP",
    "data",
    "functional",
    "init",
    "load",
    "load_torch_state_dict",
    "manual",
    "optim",
    "save",
    "to_torch_state_dict",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "GroupNorm",
    "MaxPool1d",
    "MaxPool2d",
]
