"""Neural networks on topograd's engine: ``import nn``.

Modules and parameters (``nn.Module``, ``nn.Parameter``), layers, the notes'
networks (``nn.TwoLayerMLP``, ``nn.MLP``), losses, ``nn.functional`` (also
``nn.F``), ``nn.init``, ``nn.optim``, ``nn.data`` and ``nn.manual`` (the notes'
hand-derived gradients in plain numpy, for comparison with the engine).
"""

from . import data, functional, init, manual, optim, utils
from . import functional as F  # noqa: N812 - PyTorch's conventional alias
from .activations import ELU, GELU, LogSigmoid, SiLU, Softplus
from .attention import MultiheadAttention
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
from .embedding import Embedding
from .interchange import load_torch_state_dict, to_torch_state_dict
from .layer_norm import LayerNorm
from .layers import Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .mlp import MLP, TwoLayerMLP
from .module import MixedDtypeWarning, Module, ModuleDict, ModuleList, Parameter, Sequential
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import load, save
from .stateless import functional_call
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "F",
    "Flatten",
    "GELU",
    "GRU",
    "GRUCell",
    "GroupNorm",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "MLP",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "MixedDtypeWarning",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "RNN",
    "RNNCell",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "TwoLayerMLP",
    "data",
    "functional",
    "functional_call",
    "init",
    "load",
    "load_torch_state_dict",
    "manual",
    "optim",
    "save",
    "to_torch_state_dict",
    "utils",
]
