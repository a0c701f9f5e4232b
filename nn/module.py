"""``Parameter``, ``Module`` and ``Sequential``: the containers every layer is built on.

A :class:`Module` registers the :class:`Parameter` objects and sub-modules assigned
to its attributes, in assignment order, exactly as ``torch.nn.Module`` does, so
``named_parameters()`` yields paths such as ``layers.0.weight``. Calling a module
runs ``forward`` with the module pushed onto the engine's per-thread scope
(``autograd.mode.enter_scope``): every graph node recorded inside remembers which
modules it was created in, which is how graph pictures group nodes by layer.
"""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, NamedTuple

import numpy as np

import autograd as ag
from autograd.mode import enter_scope, exit_scope, state
from autograd.viz.structure import module_html

# Bumped whenever any module registers a parameter or sub-module; a root module
# re-labels its parameters (``p.name = path``) only when this changed since it last did.
_structure_generation = 0


class Parameter(ag.Tensor):
    """A leaf :class:`~autograd.Tensor` with ``requires_grad=True`` that modules register.

    Assigning a Parameter to an attribute of a :class:`Module` adds it to the
    module's ``parameters()``. ``data`` is used without copying, like ``np.asarray``;
    it must be floating point.
    """

    __slots__ = ("_auto_name",)

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)
        self._auto_name: str | None = None  # the last name a module gave it

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: assign parts in ``__init__``, define ``forward``.

    ``self.w = Parameter(...)`` and ``self.fc = Linear(...)`` register the parameter
    and the sub-module under their attribute names. Call ``super().__init__()``
    first. ``module(x)`` runs ``forward(x)``.
    """

    training: bool
    _name: str | None

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent", set())
        setattr_(self, "training", True)
        setattr_(self, "_name", None)  # attribute name under the parent (None for a root)
        setattr_(self, "_named_generation", -1)
        setattr_(self, "_warned_dtype", False)  # a MixedDtypeWarning was shown for this layer

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._registry("parameter", name)[name] = value
            self.__dict__.get("_modules", {}).pop(name, None)
            _bump_generation()
        elif isinstance(value, Module):
            self._registry("sub-module", name)[name] = value
            params.pop(name, None)
            object.__setattr__(value, "_name", name)
            _bump_generation()
        elif name in self.__dict__.get("_buffers", ()):
            value = _buffer_value(name, value)
            self._buffers[name] = value
        elif params is not None and (name in params or name in self._modules):
            kind, registry = (
                ("parameter", params) if name in params else ("sub-module", self._modules)
            )
            if value is not None:
                expected = "nn.Parameter" if kind == "parameter" else "nn.Module"
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as {kind} {name!r} of "
                    f"{type(self).__name__} ({expected} or None expected)"
                )
            del registry[name]
            _bump_generation()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self.__dict__.get("_parameters", {}), self.__dict__.get("_modules", {})):
            if registry.pop(name, None) is not None:
                _bump_generation()
        if self.__dict__.get("_buffers", {}).pop(name, None) is not None:
            self._non_persistent.discard(name)
        object.__delattr__(self, name)

    def _registry(self, kind: str, name: str) -> OrderedDict:
        key = "_parameters" if kind == "parameter" else "_modules"
        registry = self.__dict__.get(key)
        if registry is None:
            raise AttributeError(
                f"cannot assign {kind} {name!r} before Module.__init__() call: call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )
        if "." in name or not name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        return registry

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (same as ``setattr(self, name, param)``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be an nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register a state array that is not a parameter (BatchNorm's running statistics).

        ``tensor`` (array-like, a Tensor, or None) is kept as a Tensor that does not
        require grad, readable as ``self.<name>``; assigning to that attribute later
        replaces it. Buffers are in ``buffers()``/``named_buffers()``, cast by ``to``,
        and, when ``persistent``, in ``state_dict()``; never in ``parameters()``.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError(
                f"cannot assign buffer {name!r} before Module.__init__() call: call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: {name!r} is already a parameter or sub-module")
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer: {name!r} is a Parameter; assign it as one instead")
        value = _buffer_value(name, tensor)
        self._buffers[name] = value
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (same as ``setattr``).

        As PyTorch, ``name`` may not be an attribute the module already has (such as
        ``parameters`` or ``training``): the child would hide it.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}"
            )
        name = str(name)
        if name not in self.__dict__.get("_modules", {}) and hasattr(self, name):
            raise KeyError(f"add_module: attribute '{name}' already exists")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module (override in subclasses)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` inside this module's scope (recorded on every graph node)."""
        if self._name is None and self._named_generation != _structure_generation:
            if state.scope is None:
                self._assign_parameter_names()
        prev = enter_scope(self)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            exit_scope(prev)
        if self._parameters and not self._warned_dtype:
            _warn_if_promoted(self, args[0] if args else None, out)
        return out

    def _assign_parameter_names(self) -> None:
        """Label parameters with their path (``p.name``) unless the user named them.

        Inside ``functional_call`` some slots hold the caller's tensors: those are not
        labelled, and the labelling runs again at the next call.
        """
        complete = True
        for path, param in self.named_parameters():
            if not isinstance(param, Parameter):
                complete = False
            elif param._name is None or param._name == param._auto_name:
                param.name = path
                param._auto_name = path
        if complete:
            object.__setattr__(self, "_named_generation", _structure_generation)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(path, module)`` for this module and every descendant, pre-order, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = list(module._modules.items())
            for name, child in reversed(children):
                stack.append((f"{path}.{name}" if path else name, child))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant (pre-order, each once)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct sub-modules, in registration order."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(path, parameter)`` for every parameter, e.g. ``("layers.0.weight", W)``.

        A parameter shared by several modules is yielded once, under its first path.
        """
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{path}.{name}" if path else name), param

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter of this module and its descendants, each once."""
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, ag.Tensor]]:
        """``(path, buffer)`` for every buffer, e.g. ``("bn.running_mean", t)``."""
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None and id(buffer) not in seen:
                    seen.add(id(buffer))
                    yield (f"{path}.{name}" if path else name), buffer

    def buffers(self) -> Iterator[ag.Tensor]:
        """Every buffer of this module and its descendants, each once."""
        for _, buffer in self.named_buffers():
            yield buffer

    def num_parameters(self) -> int:
        """Total number of scalar parameters (shared parameters counted once)."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------------ modes
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``.grad = None``, or zeros if not ``set_to_none``)."""
        for param in self.parameters():
            param.grad = None if set_to_none else np.zeros_like(param.data)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (affects e.g. Dropout) here and in all descendants; return self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode, ``train(False)``; return self."""
        return self.train(False)

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every descendant, children first, then on self; return self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def to(self, dtype: Any) -> Module:
        """Cast every floating-point parameter (and its grad) and buffer to ``dtype``, in place.

        The Parameter objects stay the same (an optimizer holding them keeps working);
        integer buffers keep their dtype. Returns self. ``double()``/``float()`` are
        ``to(np.float64)``/``to(np.float32)``.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: dtype must be a floating-point type, got {dtype}")
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            if param.grad is not None:
                param.grad = param.grad.astype(dtype)
        for module in self.modules():
            for name, buffer in module._buffers.items():
                if buffer is not None and buffer.dtype.kind == "f":
                    module._buffers[name] = cast = ag.Tensor(buffer.data.astype(dtype))
                    object.__setattr__(module, name, cast)
        return self

    def double(self) -> Module:
        """``to(np.float64)``: e.g. to gradcheck a float32 model."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``to(np.float32)``."""
        return self.to(np.float32)

    # ------------------------------------------------------------------ state
    def _named_state(self) -> Iterator[tuple[str, ag.Tensor]]:
        """What ``state_dict`` holds, in PyTorch's order: module by module (pre-order),
        its parameters, then its persistent buffers; shared tensors once."""
        seen: set[int] = set()
        for path, module in self.named_modules():
            buffers = module._buffers.items()
            persistent = [(n, b) for n, b in buffers if n not in module._non_persistent]
            for name, tensor in [*module._parameters.items(), *persistent]:
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield (f"{path}.{name}" if path else name), tensor

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """An ordered dict ``path -> copy of the values`` of every parameter and persistent
        buffer (ndarrays)."""
        return OrderedDict(
            (name, np.array(tensor.data, copy=True)) for name, tensor in self._named_state()
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Everything is validated before anything changes, so a failed load leaves the
        module as it was. Raises ``KeyError`` naming missing or unexpected keys (when
        ``strict``), ``ValueError`` naming the key and both shapes on a shape mismatch,
        or both dtypes when a value cannot be cast to the tensor's kind (float values
        of another precision are cast). Returns the skipped keys, as PyTorch.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping name -> array, "
                f"got {type(state_dict).__name__}"
            )
        arrays = {key: np.asarray(value) for key, value in state_dict.items()}
        own, skipped = self._check_state_layout(arrays, strict)
        with ag.no_grad():
            for key, tensor in own.items():
                if key in arrays:
                    tensor.copy_(arrays[key].astype(tensor.dtype, copy=False))
        return skipped

    def _check_state_layout(
        self, layouts: Mapping[str, Any], strict: bool = True
    ) -> tuple[OrderedDict[str, ag.Tensor], IncompatibleKeys]:
        """Check names, shapes and dtypes of a state (values with ``.shape`` and
        ``.dtype``: arrays, or ``.npy`` headers) against this module, reading no data.

        Raises what ``load_state_dict`` raises; returns this module's tensors by name
        and the keys a non-strict load skips.
        """
        own = OrderedDict(self._named_state())
        missing = [k for k in own if k not in layouts]
        unexpected = [k for k in layouts if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for key, tensor in own.items():
            if key in layouts:
                _check_layout(key, layouts[key].shape, layouts[key].dtype, tensor)
        return own, IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override to describe it)."""
        return ""

    def __repr__(self) -> str:
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"

    def _repr_html_(self) -> str:
        """In a notebook: the module tree with each module's parameters and counts."""
        return module_html(self)


class MixedDtypeWarning(UserWarning):
    """A layer got floating-point input wider than its parameters (e.g. float64 data in a
    float32 model): the result has the wider dtype, as numpy promotes (PyTorch raises)."""


def _warn_if_promoted(module: Module, x: Any, out: Any) -> None:
    """Warn (once per layer) if the layer's result ``out`` (or its first element) has a
    float dtype wider than the layer's parameters: its input ``x`` promoted it."""
    first = out[0] if isinstance(out, tuple) and out else out
    if type(first) is not ag.Tensor:
        return
    result = first.data.dtype
    for param in module._parameters.values():
        own = param.data.dtype
        break
    if result is own or result.kind != "f" or np.promote_types(result, own) == own:
        return
    given = x.data.dtype if type(x) is ag.Tensor else getattr(x, "dtype", "wider")
    object.__setattr__(module, "_warned_dtype", True)
    warnings.warn(
        f"{type(module).__name__} has {own} parameters but got a {given} input: the "
        f"result is {result}, as numpy promotes (PyTorch raises here). Cast the input "
        f"(x.astype(np.{own})) or the model (model.to(np.{result})). Shown once per "
        f"layer.",
        MixedDtypeWarning,
        stacklevel=3,
    )


def _bump_generation() -> None:
    global _structure_generation
    _structure_generation += 1


_KINDS = {"f": "float", "i": "int", "u": "int", "b": "bool"}  # what load_state_dict casts


def _buffer_value(name: str, value: Any) -> ag.Tensor | None:
    """A buffer as stored: None, or a Tensor that does not require grad."""
    if value is None:
        return None
    if isinstance(value, ag.Tensor):
        return value if not value.requires_grad else value.detach()
    try:
        return ag.Tensor(value)
    except TypeError as exc:
        raise TypeError(f"buffer {name!r}: {exc}") from None


def _check_layout(key: str, shape: tuple[int, ...], dtype: np.dtype, tensor: ag.Tensor) -> None:
    """A value of ``shape`` and ``dtype`` can be loaded into ``tensor``, or a clear error."""
    if tuple(shape) != tensor.shape:
        raise ValueError(
            f"load_state_dict: size mismatch for {key!r}: copying a value of shape "
            f"{tuple(shape)}, the parameter in the current model has shape {tensor.shape}"
        )
    if _KINDS.get(np.dtype(dtype).kind) != _KINDS.get(tensor.dtype.kind):
        raise ValueError(
            f"load_state_dict: dtype mismatch for {key!r}: got {dtype}, the tensor is "
            f"{tensor.dtype}; only values of its kind can be loaded"
        )


class Sequential(Module):
    """Modules applied one after another: ``Sequential(m0, m1, ...)(x) = ... m1(m0(x))``.

    Children are named ``"0"``, ``"1"``, ...; a single ``OrderedDict`` argument names
    them instead. Indexable (an int gives a module, a slice a new Sequential),
    iterable, and has ``len``.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items: Iterable[tuple[str, Any]] = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {name!r} is a {type(module).__name__}, not an nn.Module"
                )
            self.add_module(name, module)

    def forward(self, x: Any) -> Any:
        """Apply every child in order."""
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position); return self."""
        self.add_module(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        modules = list(self._modules.values())
        return modules[_position("Sequential", index, len(modules))]


def _position(owner: str, index: Any, length: int) -> int:
    """``index`` of a container of ``length`` modules as a position in ``[0, length)``."""
    try:
        position = operator.index(index)
    except TypeError:
        raise TypeError(
            f"{owner} indices must be integers or slices, not {type(index).__name__}"
        ) from None
    if not -length <= position < length:
        raise IndexError(f"{owner} index {position} is out of range for {length} modules")
    return position % length


def _require_module(owner: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: items must be an nn.Module, got {type(module).__name__}")
    return module


class ModuleList(Module):
    """A list of sub-modules registered as children ``"0"``, ``"1"``, ... (PyTorch's ModuleList).

    Holds layers a parent iterates over in its own ``forward`` (``for block in
    self.blocks: x = block(x)``); it has no ``forward`` itself. Indexing (an int gives
    the module, a slice a new ModuleList), ``len``, iteration, ``append``, ``extend``,
    ``insert``, ``pop``, ``del``, ``+`` and ``+=`` behave as on a list; inserting or
    deleting renumbers the children, so parameter paths stay ``blocks.0.weight``, ...
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Not callable: a container has no computation of its own."""
        raise NotImplementedError(
            "ModuleList is a container and has no forward(): iterate over it in the "
            "parent's forward (for layer in self.layers: x = layer(x))"
        )

    def _renumber(self, modules: list[Module]) -> None:
        """Make ``modules`` the children, named by their new positions."""
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_position("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        position = _position("ModuleList", index, len(self))
        self.add_module(str(position), _require_module("ModuleList", module))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if not isinstance(index, slice):
            index = _position("ModuleList", index, len(modules))
        del modules[index]
        self._renumber(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; return self."""
        self.add_module(str(len(self)), _require_module("ModuleList", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules`` (checked first: on error nothing is added)."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"ModuleList: expected an iterable of modules, got {type(modules).__name__}"
            )
        for module in [_require_module("ModuleList", m) for m in modules]:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        modules = list(self._modules.values())
        modules.insert(operator.index(index), _require_module("ModuleList", module))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove the module at ``index`` and return it."""
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


class ModuleDict(Module):
    """An ordered dict of named sub-modules (PyTorch's ``ModuleDict``).

    ``blocks["enc"] = layer`` registers ``layer`` as the child ``enc`` (parameters
    ``enc.weight``, ...); ``[]``, ``del``, ``in``, ``len``, iteration over the keys,
    ``keys values items update pop clear`` behave as on a dict. Keys are strings
    without ``"."`` that are not already attributes of a Module (``"parameters"``
    would hide the method). It has no ``forward`` of its own.
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Not callable: a container has no computation of its own."""
        raise NotImplementedError(
            "ModuleDict is a container and has no forward(): call its modules in the "
            "parent's forward (self.blocks['enc'](x))"
        )

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no key {key!r}; its keys are {list(self)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        self.add_module(key, _require_module("ModuleDict", module))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the clear KeyError for a missing key
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> KeysView[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> ItemsView[str, Module]:
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or an iterable of ``(key, module)`` pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable):
            pairs = list(modules)
            for j, pair in enumerate(pairs):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    size = f"has length {len(pair)}" if hasattr(pair, "__len__") else "is no pair"
                    raise ValueError(
                        f"ModuleDict update sequence element #{j} {size}; 2 is required"
                    )
        else:
            raise TypeError(
                f"ModuleDict.update expects a mapping or (key, module) pairs, "
                f"got {type(modules).__name__}"
            )
        for key, module in pairs:
            self[key] = module
