"""Weights in PyTorch's names and layouts: ``to_torch_state_dict`` and ``load_torch_state_dict``.

Every layer follows PyTorch's names and layouts except where the notes' conventions differ,
and only those differences are translated:

- ``nn.Linear``: topograd stores ``weight`` as ``(in_features, out_features)`` (the notes'
  ``Z W``); ``torch.nn.Linear`` as ``(out_features, in_features)``: transposed both ways.
- ``nn.TwoLayerMLP(n, d, k)`` is ``torch.nn.Sequential(Linear(n, d), act, Linear(d, k))``:
  ``W1, b1, W2, b2`` are ``0.weight`` (transposed), ``0.bias``, ``2.weight``, ``2.bias``.
- ``nn.MLP`` is the ``torch.nn.Sequential`` of its ``layers``: the ``layers.`` level goes.

Any other module maps by its own attribute path, so a model built of these layers loads into
the ``torch.nn`` model with the same attribute names. Nothing here imports torch: torch tensors
given to :func:`load_torch_state_dict` are read through their ``detach``/``numpy`` methods.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from .layers import Linear
from .mlp import MLP, TwoLayerMLP
from .module import Module

#: Per module class: own state name -> (PyTorch's name under that module, transposed?).
RENAMED: dict[type, dict[str, tuple[str, bool]]] = {
    Linear: {"weight": ("weight", True)},
    TwoLayerMLP: {
        "W1": ("0.weight", True),
        "b1": ("0.bias", False),
        "W2": ("2.weight", True),
        "b2": ("2.bias", False),
    },
}

#: Per module class: child attribute names that are not a level in PyTorch's names.
FLATTENED: dict[type, set[str]] = {MLP: {"layers"}}


def _torch_key(module: Module, key: str) -> tuple[str, bool]:
    """PyTorch's name for the state entry ``key`` of ``module``, and whether it is transposed."""
    *path, name = key.split(".")
    owner, parts = module, []
    for part in path:
        if part not in _rule(FLATTENED, owner, set()):
            parts.append(part)
        owner = owner._modules[part]
    torch_name, transposed = _rule(RENAMED, owner, {}).get(name, (name, False))
    return ".".join([*parts, torch_name]), transposed


def _rule(table: dict[type, Any], module: Module, default: Any) -> Any:
    """The entry of ``table`` for ``module``'s class or its nearest base class listed."""
    for cls in type(module).__mro__:
        if cls in table:
            return table[cls]
    return default


def to_torch_state_dict(module: Module) -> OrderedDict[str, np.ndarray]:
    """``module``'s parameters and buffers in the names and layouts of the equivalent
    ``torch.nn`` module: ``torch_model.load_state_dict({k: torch.from_numpy(v) ...})`` then
    gives the same outputs. The arrays are copies (C-contiguous)."""
    if not isinstance(module, Module):
        raise TypeError(f"to_torch_state_dict: expected an nn.Module, got {type(module).__name__}")
    result: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, value in module.state_dict().items():
        torch_key, transposed = _torch_key(module, key)
        result[torch_key] = np.ascontiguousarray(value.T if transposed else value)
    return result


def load_torch_state_dict(module: Module, state: Mapping[str, Any]) -> Module:
    """Load a PyTorch ``state_dict`` (torch tensors or ndarrays) of the equivalent ``torch.nn``
    module into ``module``, translating names and layouts; returns ``module``.

    Every entry is checked before anything changes: a missing or unexpected key, a shape
    that does not match (naming the layout rule when the shape looks transposed) or a dtype
    other than the parameter's raises ``ValueError`` naming the key.
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"load_torch_state_dict: expected an nn.Module, got {type(module).__name__}"
        )
    if not isinstance(state, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a mapping, got {type(state).__name__}")
    own = module.state_dict()
    converted: OrderedDict[str, np.ndarray] = OrderedDict()
    expected = {}
    for key, value in own.items():
        torch_key, transposed = _torch_key(module, key)
        expected[torch_key] = key
        if torch_key not in state:
            raise ValueError(
                f"load_torch_state_dict: missing key {torch_key!r} (topograd's {key!r} of "
                f"shape {value.shape}) in the PyTorch state"
            )
        array = _as_array(state[torch_key])
        want = value.T.shape if transposed else value.shape
        if array.shape != want:
            hint = ""
            if transposed and array.shape == value.shape:
                hint = (
                    f"; it looks transposed: PyTorch's Linear.weight is (out_features, "
                    f"in_features) = {want}, topograd's is (in, out) = {value.shape} (load "
                    f"topograd layouts with module.load_state_dict)"
                )
            raise ValueError(
                f"load_torch_state_dict: {torch_key!r} has shape {array.shape}, expected "
                f"{want}{hint}"
            )
        if array.dtype != value.dtype:
            raise ValueError(
                f"load_torch_state_dict: {torch_key!r} is {array.dtype}, the module's "
                f"{key!r} is {value.dtype}; cast one side first (module.to(dtype), or "
                f"torch_model.to(torch.{value.dtype}))"
            )
        converted[key] = array.T if transposed else array
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise ValueError(
            f"load_torch_state_dict: unexpected keys {unexpected} for {type(module).__name__} "
            f"(expected {list(expected)})"
        )
    module.load_state_dict(converted)
    return module


def _as_array(value: Any) -> np.ndarray:
    """``value`` as an ndarray: a torch tensor via ``detach().cpu().numpy()``, or array-like."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
