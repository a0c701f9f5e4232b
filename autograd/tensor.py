"""Tensor: an ndarray plus the flags and graph link that reverse-mode autodiff needs.

A Tensor is a thin handle: ``data`` (an ndarray, or a numpy scalar for 0-d values),
``requires_grad``, ``grad``, and for op results the graph :class:`~autograd.node.Node`
that produced it. This module holds what a tensor *is*; what it *does* is attached
from above: the operators, op methods, in-place updates, numpy's overrides
(``np.exp(t)``) and ``size`` from the op table (:mod:`autograd.ops`), ``backward()``
from :mod:`autograd.backward`. Their semantics
(broadcasting, dtype promotion, indexing) are numpy's, their autograd semantics
PyTorch's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .mode import state, tracing_threads
from .node import Node, version

Axis = int | tuple[int, ...] | None

#: Kinds of dtype a tensor may hold: bool, integers, floats, complex (numbers only).
NUMERIC_KINDS = "biufc"


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array-like, Python scalar or Tensor
        The values. ndarrays are used without copying (like ``np.asarray``); Python
        scalars become numpy scalars, like numpy's own 0-d results.
    requires_grad : bool
        Whether backward should compute ``dL/d(this tensor)`` into ``.grad``.
        Only floating-point tensors can require grad.
    dtype : numpy dtype, optional
        Convert ``data`` to this dtype. By default numpy's rules apply: Python
        floats become float64, float32 arrays stay float32.
    """

    __slots__ = ("data", "_node", "_requires_grad", "_grad", "_name", "__weakref__")
    __hash__ = object.__hash__  # hashed by identity, like torch.Tensor

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        source, data = data, tensor_data(data, dtype)
        if tracing_threads and data is not source and state.tracer is not None:
            state.tracer.converted(source, data, dtype)  # a compiled program converts it too
        if requires_grad:
            _check_differentiable_dtype(data.dtype)
        self.data = data
        self._node: Node | None = None
        self._requires_grad = bool(requires_grad)
        self._grad: Tensor | None = None
        self._name: str | None = None

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        """Tuple of dimensions, as ``ndarray.shape``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions (0 for a scalar tensor)."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data``."""
        return self.data.dtype

    @property
    def requires_grad(self) -> bool:
        """True if gradients flow to this tensor (always True for recorded op results)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor is the recorded result of an op (PyTorch's convention)."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The graph node that produced this tensor, or None for leaves."""
        return self._node

    @property
    def grad(self) -> Tensor | None:
        """Accumulated gradient ``dL/d(self)`` after ``backward``; assign None to clear."""
        if tracing_threads and state.tracer is not None:
            state.tracer.read_grad(self)  # a compiled program reads it at each call
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            value = as_tensor(value)
            if value.shape != self.shape:
                raise ValueError(
                    f"assigned grad has shape {value.shape}, but the tensor has shape "
                    f"{self.shape}; a gradient must have its tensor's shape"
                )
        self._grad = value
        if tracing_threads and state.tracer is not None:
            state.tracer.wrote_grad(self)  # a compiled program sets it at each call

    @property
    def name(self) -> str | None:
        """Optional label used in graph pictures (``ag.to_dot``) and error messages."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"Tensor.name must be a str or None, got {type(value).__name__}")
        self._name = value
        if self._node is not None:
            self._node.name = value

    @property
    def _version(self) -> int:
        """The clock value of the latest in-place change of this tensor's memory (0: none).

        Changes through any view of the same memory count (PyTorch's version counter).
        """
        return version(self.data)

    # ------------------------------------------------------------------ conversion
    # Each conversion to Python or numpy values tells a tracer (ag.compile), which refuses
    # it for a traced value: the trace would freeze the value read.
    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared with the tensor, not a copy)."""
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "numpy()")
        return np.asarray(self.data)

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "item()")
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to Python scalars, "
                f"this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists, as ``ndarray.tolist``."""
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "tolist()")
        return np.asarray(self.data).tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "np.asarray(t) (__array__)")
        array = np.asarray(self.data, dtype=dtype)
        return array.copy() if copy else array

    def __dlpack__(self, **kwargs: Any) -> Any:
        """A DLPack capsule of the values (zero copy), for ``torch.from_dlpack(t)``,
        ``jax.dlpack.from_dlpack(t)``, ``np.from_dlpack(t)``; keywords as numpy's
        (``stream``, ``max_version``, ``dl_device``, ``copy``). The graph is not exported."""
        return np.asarray(self.data).__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        """``(device type, device id)`` of the values: always the CPU, ``(1, 0)``."""
        return np.asarray(self.data).__dlpack_device__()

    def __float__(self) -> float:
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "float(t)")
        return float(self.item())

    def __int__(self) -> int:
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "int(t)")
        return int(self.item())

    def __bool__(self) -> bool:
        if tracing_threads and state.tracer is not None:
            state.tracer.read_value(self, "bool(t)")
        return bool(self.data)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __format__(self, spec: str) -> str:
        if spec and self.data.size == 1:
            return format(self.item(), spec)
        return repr(self) if not spec else format(np.asarray(self.data), spec)

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self.data), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self._name:
            extras.append(f"name={self._name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ------------------------------------------------------------------ autograd
    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return result_tensor(self.data, None)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf and return self."""
        if self._node is not None:
            if flag:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want "
                "to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."
            )
        if flag:
            _check_differentiable_dtype(self.dtype)
        self._requires_grad = bool(flag)
        return self


def tensor_data(data: Any, dtype: Any = None) -> Any:
    """``data`` as a tensor holds it: an ndarray (shared, as ``np.asarray``, unless ``dtype``
    converts it) or, for a 0-d value that is not an ndarray, a numpy scalar (as op results)."""
    shared = type(data) is np.ndarray
    data = np.asarray(data, dtype=dtype)
    if data.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"Tensor: data must be numbers (bool, int, float or complex), got "
            f"{type(data).__name__ if data.ndim == 0 else 'an array'} of dtype {data.dtype}"
        )
    if data.ndim == 0 and not shared:  # a scalar: a numpy scalar, as op results are
        data = data[()]
    return data


def _check_differentiable_dtype(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(
            f"only floating point tensors can require gradients, got dtype {dtype}; "
            f"create the tensor with dtype=np.float64 (or float32)"
        )


def unwrap(value: Any) -> Any:
    """A Tensor's ``data``; anything else unchanged."""
    return value.data if isinstance(value, Tensor) else value


def as_tensor(value: Any) -> Tensor:
    """``value`` itself if it is a Tensor, else a new (constant) Tensor of it."""
    return value if isinstance(value, Tensor) else Tensor(value)


def result_tensor(data: Any, node: Node | None = None) -> Tensor:
    """A tensor for an op's output ``data`` (an ndarray or numpy scalar), linked to ``node``
    (none: a tensor outside any graph, as a compiled program's results and gradients)."""
    tensor = _new_tensor(Tensor)
    tensor.data = data
    tensor._node = node
    tensor._requires_grad = node is not None
    tensor._grad = None
    tensor._name = None
    return tensor


_new_tensor = object.__new__


def from_dlpack(obj: Any) -> Tensor:
    """A leaf Tensor sharing the memory of any DLPack exporter on the CPU (a PyTorch or JAX
    array, a numpy array, ...), without copying, as ``np.from_dlpack``. A PyTorch tensor
    that requires grad must be ``.detach()``-ed first (PyTorch refuses to export it)."""
    return Tensor(np.from_dlpack(obj))
