"""``functional_call``: run a module with other tensors in place of its parameters and buffers.

This turns a module into a function of its parameters, which is what the functional
transforms need: ``ag.hessian(lambda w: loss(functional_call(model, {"fc.weight": w},
x)))(w0)`` is the Hessian of the loss with respect to that weight. (A closure over
``model`` would not do: the transform differentiates its arguments only.) The model
of this function is PyTorch's ``torch.func.functional_call``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import autograd as ag

from .module import Module


def functional_call(
    module: Module, parameters: Mapping[str, Any], *args: Any, **kwargs: Any
) -> Any:
    """``module(*args, **kwargs)`` computed with ``parameters[name]`` in place of the
    parameter or buffer ``name`` (a path such as ``"layers.0.weight"``).

    Tensors not named keep the module's own values. The given tensors are used as
    they are (not copied), so gradients flow to them, and they may have another
    floating dtype (float64 values in a float32 model, e.g. to gradcheck it); their
    shapes must match. A tensor shared by several paths (tied weights) is replaced
    everywhere it is used; naming two of its paths with different tensors is an
    error. The module's own tensors are restored afterwards, also when the call
    raises. In-place updates that ``forward`` makes to a given buffer go to the given
    tensor. The module is changed during the call, so calls on one module must not
    run in several threads at once. Arguments are passed as ``*args`` (not as one
    tuple, as ``torch.func.functional_call`` takes them).

    Raises ``KeyError`` for a name that is no parameter or buffer of ``module`` and
    ``ValueError`` for a shape mismatch.
    """
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"functional_call: parameters must be a dict name -> Tensor, "
            f"got {type(parameters).__name__}"
        )
    replacements = _replacements(module, parameters)
    swapped = []
    try:
        for owner, registry, name, tensor in _slots(module):
            new = replacements.get(id(tensor))
            if new is not None:
                swapped.append((owner, registry, name, tensor))
                registry[name] = new
                owner.__dict__[name] = new
        return module(*args, **kwargs)
    finally:
        for owner, registry, name, tensor in reversed(swapped):
            registry[name] = tensor
            owner.__dict__[name] = tensor


def _replacements(module: Module, parameters: Mapping[str, Any]) -> dict[int, ag.Tensor]:
    """``id(own tensor) -> given tensor`` for every name in ``parameters``, checked."""
    own = dict(_named_tensors(module))
    replacements: dict[int, ag.Tensor] = {}
    given_as: dict[int, str] = {}
    for name, value in parameters.items():
        if name not in own:
            close = difflib.get_close_matches(str(name), own, n=3)
            hint = f"; did you mean {close}?" if close else f"; its names are {list(own)[:8]}"
            raise KeyError(
                f"functional_call: {name!r} is not a parameter or buffer of "
                f"{type(module).__name__}{hint}"
            )
        tensor, new = own[name], ag.as_tensor(value)
        if new.shape != tensor.shape:
            raise ValueError(
                f"functional_call: {name!r} was given a tensor of shape {new.shape}, the "
                f"module's has shape {tensor.shape}"
            )
        previous = replacements.setdefault(id(tensor), new)
        if previous is not new:
            raise ValueError(
                f"functional_call: {given_as[id(tensor)]!r} and {name!r} are the same (tied) "
                f"tensor of the module but were given different tensors"
            )
        given_as.setdefault(id(tensor), name)
    return replacements


def _slots(module: Module) -> Iterator[tuple[Module, dict[str, Any], str, ag.Tensor]]:
    """``(owner, registry, name, tensor)`` for every parameter and buffer slot, each once."""
    for owner in module.modules():
        for registry in (owner._parameters, owner._buffers):
            for name, tensor in registry.items():
                if tensor is not None:
                    yield owner, registry, name, tensor


def _named_tensors(module: Module) -> Iterator[tuple[str, ag.Tensor]]:
    """``(path, tensor)`` for every parameter and buffer under every path that reaches it
    (a tied tensor under each of its names)."""
    stack: list[tuple[str, Module, frozenset[int]]] = [("", module, frozenset())]
    while stack:
        path, owner, ancestors = stack.pop()
        prefix = f"{path}." if path else ""
        for registry in (owner._parameters, owner._buffers):
            for name, tensor in registry.items():
                if tensor is not None:
                    yield prefix + name, tensor
        inner = ancestors | {id(owner)}
        for name, child in reversed(owner._modules.items()):
            if id(child) not in inner:  # a module inside itself would never end
                stack.append((prefix + name, child, inner))
