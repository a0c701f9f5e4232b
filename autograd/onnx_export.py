"""``ag.export_onnx``: a function's forward computation as an ONNX model.

The function is traced with :func:`autograd.compile.trace` (the tracer of compiled mode:
one recording of the primitives it runs) and each primitive becomes the ONNX operators
that compute it in the engine's arithmetic (attention keeps the engine's rule that a
fully masked row gives zeros). Parameters, and every value computed from parameters
alone (a transposed weight, a summed pair of biases), become initializers; the
function's array arguments become the graph's inputs.

A dynamic batch axis is found, not assumed: the function is traced twice, at the
example's batch size ``B`` and at ``B + 1`` (each array argument's first row repeated),
and an axis whose size is ``B`` in one trace and ``B + 1`` in the other is the batch
axis. Anything else that changes with the batch size (a constant of the batch's size,
an index into the batch) could not follow another batch size, and raises instead of
being baked in. ``onnx`` is imported only here (the optional extra ``topograd[onnx]``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .compile.program import Program, Use
from .compile.tracer import trace
from .files import write_atomic
from .tensor import Tensor

#: The ONNX operator set the exported models use (ONNX Runtime 1.14 and later run it).
OPSET = 17

#: The name of the dynamic batch dimension in the exported graph.
BATCH = "batch"


class ExportError(ValueError):
    """The function cannot be written as ONNX (the message names the primitive and what
    to do)."""


class _Value:
    """One operand as the converters see it: its ONNX name, its shape and dtype at the
    example's batch size, and which of its axes is the batch axis (None: none)."""

    __slots__ = ("name", "shape", "dtype", "batch_axis", "scalar")

    def __init__(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: Any,
        batch_axis: int | None,
        scalar: Any = None,
    ) -> None:
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.batch_axis = batch_axis
        self.scalar = scalar  # a Python number operand: takes the other operands' dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


class _Graph:
    """The ONNX nodes and initializers being written."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self.count = 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def node(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """Append one ``op_type`` node; return the name of its output."""
        out = self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def const(self, value: Any, name: str | None = None) -> str:
        """An initializer holding ``value``; return its name."""
        name = name or self.fresh("const")
        self.initializers[name] = self.onnx.numpy_helper.from_array(np.asarray(value), name)
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.const(np.asarray(values, dtype=np.int64))

    def scalar(self, value: float, like: _Value) -> str:
        return self.const(np.asarray(value, dtype=like.dtype))

    def cast(self, value: _Value, dtype: np.dtype) -> str:
        """``value``'s name as ``dtype`` (a Python number becomes a constant of it)."""
        if value.scalar is not None:
            return self.const(np.asarray(value.scalar, dtype=dtype))
        if value.dtype == dtype:
            return value.name
        to = self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return self.node("Cast", [value.name], to=to)


# ------------------------------------------------------------------------- converters
#: A converter writes one primitive: ``(graph, inputs, params, out) -> output name``;
#: ``inputs`` holds a :class:`_Value` per operand (None for an absent one).
Converter = Callable[[_Graph, list, dict, _Value], str]
CONVERTERS: dict[str, Converter] = {}


def converts(*names: str) -> Callable[[Converter], Converter]:
    """Register ``fn`` as the converter of the primitives ``names``."""

    def register(fn: Converter) -> Converter:
        for name in names:
            CONVERTERS[name] = fn
        return fn

    return register


def _elementwise(op_type: str, arity: int) -> Converter:
    def convert(g: _Graph, ins: list, params: dict, out: _Value) -> str:
        return g.node(op_type, [g.cast(v, out.dtype) for v in ins[:arity]])

    return convert


for _prim, _op in {
    "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos", "tan": "Tan",
    "tanh": "Tanh", "sinh": "Sinh", "cosh": "Cosh", "arcsin": "Asin", "arccos": "Acos",
    "arctan": "Atan", "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh",
    "sigmoid": "Sigmoid", "relu": "Relu", "abs": "Abs", "negative": "Neg", "erf": "Erf",
    "floor": "Floor", "ceil": "Ceil",
}.items():  # fmt: skip
    CONVERTERS[_prim] = _elementwise(_op, 1)
for _prim, _op in {
    "add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div", "pow": "Pow",
    "maximum": "Max", "minimum": "Min",
}.items():  # fmt: skip
    CONVERTERS[_prim] = _elementwise(_op, 2)


def _comparison(op_type: str, negate: bool = False) -> Converter:
    def convert(g: _Graph, ins: list, params: dict, out: _Value) -> str:
        common = np.result_type(*[v.dtype for v in ins if v.scalar is None])
        result = g.node(op_type, [g.cast(v, common) for v in ins])
        return g.node("Not", [result]) if negate else result

    return convert


for _prim, _op in {
    "greater": "Greater", "greater_equal": "GreaterOrEqual", "less": "Less",
    "less_equal": "LessOrEqual", "equal": "Equal", "logical_and": "And", "logical_or": "Or",
}.items():  # fmt: skip
    CONVERTERS[_prim] = _comparison(_op)
CONVERTERS["not_equal"] = _comparison("Equal", negate=True)
CONVERTERS["logical_not"] = _elementwise("Not", 1)


@converts("log1p")
def _log1p(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Log", [g.node("Add", [ins[0].name, g.scalar(1.0, out)])])


@converts("exp2")
def _exp2(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Pow", [g.scalar(2.0, out), ins[0].name])


@converts("log2", "log10")
def _log_base(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    base = 2.0 if params["_prim"] == "log2" else 10.0
    return g.node("Div", [g.node("Log", [ins[0].name]), g.scalar(np.log(base), out)])


@converts("round")
def _round(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    if params.get("decimals", 0) != 0:
        raise ExportError("round: only decimals=0 has an ONNX form (Round)")
    return g.node("Round", [ins[0].name])  # half to even, as numpy


@converts("leaky_relu")
def _leaky_relu(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("LeakyRelu", [ins[0].name], alpha=float(params["negative_slope"]))


@converts("elu")
def _elu(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Elu", [ins[0].name], alpha=float(params["alpha"]))


@converts("softplus")
def _softplus(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    # log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's)
    x, beta = ins[0].name, float(params["beta"])
    bx = x if beta == 1.0 else g.node("Mul", [x, g.scalar(beta, out)])
    smooth = g.node("Softplus", [bx])
    if beta != 1.0:
        smooth = g.node("Div", [smooth, g.scalar(beta, out)])
    linear = g.node("Greater", [bx, g.scalar(float(params["threshold"]), out)])
    return g.node("Where", [linear, x, smooth])


@converts("silu")
def _silu(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Mul", [ins[0].name, g.node("Sigmoid", [ins[0].name])])


@converts("logsigmoid")
def _logsigmoid(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [ins[0].name])])])


@converts("gelu")
def _gelu(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    x = ins[0].name
    if params["approximate"] == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, out)])])
        phi2 = g.node("Tanh", [g.node("Mul", [inner, g.scalar(np.sqrt(2 / np.pi), out)])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        phi2 = g.node("Erf", [g.node("Div", [x, g.scalar(np.sqrt(2.0), out)])])
    half = g.node("Mul", [x, g.scalar(0.5, out)])
    return g.node("Mul", [half, g.node("Add", [phi2, g.scalar(1.0, out)])])


@converts("where")
def _where(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    cond = ins[0].name if ins[0].dtype.kind == "b" else g.cast(ins[0], np.dtype(bool))
    return g.node("Where", [cond, g.cast(ins[1], out.dtype), g.cast(ins[2], out.dtype)])


@converts("clip")
def _clip(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    bounds = [v.name if v is not None else "" for v in ins[1:3]]
    if any(v is not None and v.ndim for v in ins[1:3]):
        lo = ins[0].name if ins[1] is None else g.node("Max", [ins[0].name, ins[1].name])
        return lo if ins[2] is None else g.node("Min", [lo, ins[2].name])
    return g.node("Clip", [ins[0].name, *bounds])


@converts("astype")
def _astype(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.cast(ins[0], out.dtype)


@converts("linear")
def _linear(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    product = g.node("MatMul", [ins[0].name, ins[1].name])  # weight (in, out)
    return product if ins[2] is None else g.node("Add", [product, ins[2].name])


@converts("matmul")
def _matmul(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("MatMul", [ins[0].name, ins[1].name])


@converts("transpose")
def _transpose(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    axes = params.get("axes")
    perm = list(range(ins[0].ndim))[::-1] if axes is None else [int(a) % ins[0].ndim for a in axes]
    return g.node("Transpose", [ins[0].name], perm=perm)


@converts("reshape", "squeeze", "expand_dims")
def _reshape(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    return g.node("Reshape", [ins[0].name, g.ints(_target_shape(ins[0], out, params))])


def _target_shape(x: _Value, out: _Value, params: dict) -> list[int]:
    """``out``'s shape for ONNX's Reshape: the batch axis is 0 ("as the input's") when it
    stays where it was, else -1 (inferred); every other axis is static."""
    shape = list(out.shape)
    if out.batch_axis is not None:
        if x.batch_axis == out.batch_axis and x.shape[x.batch_axis] == out.shape[out.batch_axis]:
            shape[out.batch_axis] = 0
        else:
            shape[out.batch_axis] = -1
    return shape


@converts("broadcast_to")
def _broadcast_to(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    shape = list(out.shape)
    if out.batch_axis is not None:
        offset = out.ndim - ins[0].ndim
        if ins[0].batch_axis is None or ins[0].batch_axis + offset != out.batch_axis:
            raise ExportError(
                f"broadcast_to: the result's batch axis {out.batch_axis} comes from no batch "
                f"axis of the input of shape {ins[0].shape}; pass dynamic_batch=False"
            )
        shape[out.batch_axis] = 1  # Expand keeps the input's size there
    return g.node("Expand", [ins[0].name, g.ints(shape)])


def _axes(params: dict, ndim: int) -> list[int] | None:
    axis = params.get("axis")
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    return [int(a) % ndim for a in axes]


def _reduce(op_type: str) -> Converter:
    def convert(g: _Graph, ins: list, params: dict, out: _Value) -> str:
        axes = _axes(params, ins[0].ndim)
        keep = int(bool(params.get("keepdims", False)))
        if axes is None:
            axes = list(range(ins[0].ndim))
        if op_type == "ReduceSum":  # axes an input from opset 13
            return g.node(op_type, [ins[0].name, g.ints(axes)], keepdims=keep)
        return g.node(op_type, [ins[0].name], axes=axes, keepdims=keep)

    return convert


CONVERTERS["sum"] = _reduce("ReduceSum")
CONVERTERS["mean"] = _reduce("ReduceMean")
CONVERTERS["max"] = _reduce("ReduceMax")
CONVERTERS["min"] = _reduce("ReduceMin")
CONVERTERS["logsumexp"] = _reduce("ReduceLogSumExp")


@converts("softmax", "log_softmax")
def _softmax(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    op_type = "Softmax" if params["_prim"] == "softmax" else "LogSoftmax"
    return g.node(op_type, [ins[0].name], axis=int(params["axis"]) % ins[0].ndim)


@converts("concatenate")
def _concatenate(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    axis = int(params.get("axis", 0)) % out.ndim
    return g.node("Concat", [g.cast(v, out.dtype) for v in ins], axis=axis)


@converts("stack")
def _stack(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    axis = int(params.get("axis", 0)) % out.ndim
    parts = [g.node("Unsqueeze", [g.cast(v, out.dtype), g.ints([axis])]) for v in ins]
    return g.node("Concat", parts, axis=axis)


@converts("getitem")
def _getitem(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    x, index = ins[0], params["index"]
    index = index if isinstance(index, tuple) else (index,)
    if sum(i is Ellipsis for i in index) > 1 or any(
        not isinstance(i, int | np.integer | slice) and i is not Ellipsis for i in index
    ):
        raise ExportError(
            f"getitem: only ints, slices and one Ellipsis have an ONNX form here, got "
            f"{params['index']!r}"
        )
    explicit = len(index) - (Ellipsis in index)
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (x.ndim - explicit) + index[at + 1 :]
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, item in enumerate(index):
        if isinstance(item, slice):
            if item == slice(None):
                continue
            start, stop, step = item.indices(x.shape[axis])
            if step < 0 and stop < 0:
                stop = -(2**62)  # numpy's "through the first element" going backwards
        else:
            start = int(item) % x.shape[axis]
            stop, step = start + 1, 1
            squeeze.append(axis)
        if axis == x.batch_axis:
            raise ExportError(
                f"getitem: {params['index']!r} indexes the batch axis {axis}; an exported "
                f"model cannot follow another batch size there; pass dynamic_batch=False"
            )
        starts.append(start)
        ends.append(stop)
        axes.append(axis)
        steps.append(step)
    result = x.name
    if axes:
        result = g.node(
            "Slice", [result, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)]
        )
    if squeeze:
        result = g.node("Squeeze", [result, g.ints(squeeze)])
    return result


def _pairs(padding: Sequence[Sequence[int]]) -> list[int]:
    """numpy-style ``((before, after), ...)`` as ONNX's pads: all befores, then afters."""
    return [int(p[0]) for p in padding] + [int(p[1]) for p in padding]


def _window(params: dict) -> dict[str, list[int]]:
    """The attributes ONNX's Conv and pooling operators share: the sliding window."""
    return {
        "kernel_shape": list(params["kernel_size"]),
        "strides": list(params["stride"]),
        "pads": _pairs(params["padding"]),
    }


@converts("conv1d", "conv2d")
def _conv(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    inputs = [ins[0].name, ins[1].name] + ([ins[2].name] if ins[2] is not None else [])
    dilations, group = list(params["dilation"]), int(params["groups"])
    return g.node("Conv", inputs, **_window(params), dilations=dilations, group=group)


@converts("max_pool1d", "max_pool2d")
def _max_pool(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    dilations = list(params["dilation"])
    return g.node("MaxPool", [ins[0].name], **_window(params), dilations=dilations)


@converts("avg_pool1d", "avg_pool2d")
def _avg_pool(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    include = int(bool(params["count_include_pad"]))
    return g.node("AveragePool", [ins[0].name], **_window(params), count_include_pad=include)


@converts("adaptive_avg_pool2d")
def _adaptive_avg_pool(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    size, spatial = tuple(params["output_size"]), ins[0].shape[2:]
    if size == (1, 1):
        return g.node("GlobalAveragePool", [ins[0].name])
    if any(n % s for n, s in zip(spatial, size, strict=True)):
        raise ExportError(
            f"adaptive_avg_pool2d: output size {size} does not divide the input's {spatial}: "
            f"its uneven windows have no ONNX operator"
        )
    kernel = [n // s for n, s in zip(spatial, size, strict=True)]
    return g.node("AveragePool", [ins[0].name], kernel_shape=kernel, strides=kernel)


@converts("pad")
def _pad(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    mode = {"constant": "constant", "reflect": "reflect", "edge": "edge"}.get(params["mode"])
    if mode is None:
        raise ExportError(f"pad: mode {params['mode']!r} has no ONNX form")
    inputs = [ins[0].name, g.ints(_pairs(params["pad_width"]))]
    if mode == "constant":
        inputs.append(g.scalar(params.get("constant_values", 0), ins[0]))
    return g.node("Pad", inputs, mode=mode)


@converts("batch_norm")
def _batch_norm(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    if params.get("training"):
        raise ExportError("batch_norm: a model in training mode; call model.eval() first")
    x, mean, var, weight, bias = ins[:5]
    channels = x.shape[1]
    scale = weight.name if weight is not None else g.const(np.ones(channels, x.dtype))
    shift = bias.name if bias is not None else g.const(np.zeros(channels, x.dtype))
    return g.node(
        "BatchNormalization",
        [x.name, scale, shift, mean.name, var.name],
        epsilon=float(params["eps"]),
    )


@converts("layer_norm")
def _layer_norm(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    x, weight, bias = ins[:3]
    axes = [int(a) % x.ndim for a in params["axes"]]
    if axes != list(range(axes[0], x.ndim)):
        raise ExportError(f"layer_norm: axes {axes} are not the trailing axes of {x.shape}")
    shape = x.shape[axes[0] :]
    scale = weight.name if weight is not None else g.const(np.ones(shape, x.dtype))
    inputs = [x.name, scale] + ([bias.name] if bias is not None else [])
    return g.node("LayerNormalization", inputs, axis=axes[0], epsilon=float(params["eps"]))


@converts("group_norm")
def _group_norm(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    x, weight, bias = ins[:3]
    groups, eps = int(params["num_groups"]), float(params["eps"])
    grouped = g.node("Reshape", [x.name, g.ints([0, groups, -1])])
    mean = g.node("ReduceMean", [grouped], axes=[2], keepdims=1)
    centred = g.node("Sub", [grouped, mean])
    var = g.node("ReduceMean", [g.node("Mul", [centred, centred])], axes=[2], keepdims=1)
    normed = g.node("Div", [centred, g.node("Sqrt", [g.node("Add", [var, g.scalar(eps, x)])])])
    result = g.node("Reshape", [normed, g.node("Shape", [x.name])])
    per_channel = [x.shape[1]] + [1] * (x.ndim - 2)
    if weight is not None:
        result = g.node("Mul", [result, g.node("Reshape", [weight.name, g.ints(per_channel)])])
    if bias is not None:
        result = g.node("Add", [result, g.node("Reshape", [bias.name, g.ints(per_channel)])])
    return result


@converts("embedding")
def _embedding(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    weight, indices = ins[0], ins[1]
    return g.node("Gather", [weight.name, g.cast(indices, np.dtype(np.int64))], axis=0)


@converts("scaled_dot_product_attention")
def _attention(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    q, k, v, mask, keep = ins[:5]
    if keep is not None:
        raise ExportError(
            "scaled_dot_product_attention: attention dropout is on; call model.eval() "
            "(or pass dropout_p=0) before exporting"
        )
    perm = list(range(k.ndim - 2)) + [k.ndim - 1, k.ndim - 2]
    scores = g.node(
        "MatMul",
        [
            g.node("Mul", [q.name, g.scalar(params["scale"], q)]),
            g.node("Transpose", [k.name], perm=perm),
        ],
    )
    if mask is not None:
        scores = g.node("Add", [scores, mask.name])
    # the engine's softmax: a row whose maximum is -inf (fully masked) gives zeros
    shift = g.node("ReduceMax", [scores], axes=[-1], keepdims=1)
    shift = g.node("Max", [shift, g.scalar(np.finfo(out.dtype).min, out)])
    probs = g.node("Exp", [g.node("Sub", [scores, shift])])
    total = g.node("ReduceSum", [probs, g.ints([-1])], keepdims=1)
    probs = g.node("Div", [probs, g.node("Max", [total, g.scalar(1.0, out)])])
    return g.node("MatMul", [probs, v.name])


def _scan(
    g: _Graph, ins: list, params: dict, out: _Value, states: int, step: Callable[..., list[str]]
) -> list[str]:
    """An ONNX ``Scan`` over the time-major projections ``ins[0]`` (``T, B, k``): the body
    ``step(body, x_t, *states)`` returns the new states, which are also the per-step
    outputs; the result is the list of stacked outputs ``(T, B, H)``."""
    helper, elem = g.onnx.helper, g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype)
    body = _Graph(g.onnx)
    body.fresh = g.fresh  # one namespace for the graph and its body
    state_names = [body.fresh("state") for _ in range(states)]
    x_t = body.fresh("x_t")
    new_states = step(body, x_t, *state_names)
    outputs = [body.node("Identity", [name]) for name in new_states]
    info = lambda name: helper.make_tensor_value_info(name, elem, None)  # noqa: E731
    graph = helper.make_graph(
        body.nodes,
        "step",
        [info(n) for n in (*state_names, x_t)],
        [info(n) for n in (*new_states, *outputs)],
    )
    g.initializers.update(body.initializers)
    initial = [v.name for v in ins[-states:]] if states else []
    direction = int(bool(params["reverse"]))  # reversed in, reversed out: position t is t
    results = [g.fresh("scan_out") for _ in range(2 * states)]
    g.nodes.append(
        helper.make_node(
            "Scan",
            [*initial, ins[0].name],
            results,
            body=graph,
            num_scan_inputs=1,
            scan_input_directions=[direction],
            scan_output_directions=[direction] * states,
        )
    )
    return results[states:]


def _recurrent_weight(g: _Graph, w_hh: _Value) -> str:
    return g.node("Transpose", [w_hh.name], perm=[1, 0])  # h @ w_hh^T


def _block(body: _Graph, x: str, k: int, n: int) -> str:
    """Columns ``k n .. (k + 1) n`` of ``x`` (one gate's block)."""
    return body.node("Slice", [x, body.ints([k * n]), body.ints([(k + 1) * n]), body.ints([1])])


@converts("rnn_scan")
def _rnn_scan(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    w_t = _recurrent_weight(g, ins[1])
    act = "Tanh" if params["nonlinearity"] == "tanh" else "Relu"

    def step(body: _Graph, x: str, h: str) -> list[str]:
        return [body.node(act, [body.node("Add", [x, body.node("MatMul", [h, w_t])])])]

    (hs,) = _scan(g, [ins[0], ins[2]], params, out, 1, step)
    return hs


@converts("lstm_scan")
def _lstm_scan(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    n = ins[2].shape[-1]
    w_t = _recurrent_weight(g, ins[1])

    def step(body: _Graph, x: str, h: str, c: str) -> list[str]:
        z = body.node("Add", [x, body.node("MatMul", [h, w_t])])  # gates i f g o
        sig = body.node("Sigmoid", [z])
        i, f, o = (_block(body, sig, k, n) for k in (0, 1, 3))
        c_new = body.node(
            "Add",
            [
                body.node("Mul", [f, c]),
                body.node("Mul", [i, body.node("Tanh", [_block(body, z, 2, n)])]),
            ],
        )
        return [body.node("Mul", [o, body.node("Tanh", [c_new])]), c_new]

    hs, cs = _scan(g, [ins[0], ins[2], ins[3]], params, out, 2, step)
    axis = g.ints([0])
    return g.node(
        "Concat", [g.node("Unsqueeze", [hs, axis]), g.node("Unsqueeze", [cs, axis])], axis=0
    )


@converts("gru_scan")
def _gru_scan(g: _Graph, ins: list, params: dict, out: _Value) -> str:
    n = ins[3].shape[-1]
    w_t, b_hh = _recurrent_weight(g, ins[1]), ins[2].name

    def step(body: _Graph, x: str, h: str) -> list[str]:
        a = body.node("Add", [body.node("MatMul", [h, w_t]), b_hh])  # gates r z n
        two = lambda v: body.node("Slice", [v, body.ints([0]), body.ints([2 * n]), body.ints([1])])  # noqa: E731
        gates = body.node("Sigmoid", [body.node("Add", [two(x), two(a)])])
        r, u = _block(body, gates, 0, n), _block(body, gates, 1, n)
        new = body.node(
            "Tanh",
            [
                body.node(
                    "Add", [_block(body, x, 2, n), body.node("Mul", [r, _block(body, a, 2, n)])]
                )
            ],
        )
        return [body.node("Add", [new, body.node("Mul", [u, body.node("Sub", [h, new])])])]

    (hs,) = _scan(g, [ins[0], ins[3]], params, out, 1, step)
    return hs


# ------------------------------------------------------------------------- the export
def export_onnx(
    fn_or_module: Callable[..., Any],
    example_args: Any,
    path: str | os.PathLike,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
) -> Path:
    """Write the forward computation of ``fn_or_module(*example_args)`` to ``path`` as
    an ONNX model (opset :data:`OPSET`); return the path.

    ``example_args``: the array arguments (one array, or a tuple of them), given as
    graph inputs named ``input_names`` (default: the function's parameter names);
    outputs (a Tensor or a tuple of them) are named ``output_names`` (default
    ``output``, ``output_1``, ...). Parameters become initializers named by their module
    paths. With ``dynamic_batch`` axis 0 of every input is the batch axis ``"batch"``
    (checked by tracing at two batch sizes). A module is exported in the mode it is in:
    call ``model.eval()`` first (dropout and batch statistics in training mode raise).
    Needs the ``onnx`` package (``pip install topograd[onnx]``).
    """
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - the optional extra
        raise ImportError(
            "export_onnx needs the onnx package: pip install 'topograd[onnx]' (or onnx)"
        ) from exc
    args = example_args if isinstance(example_args, tuple) else (example_args,)
    args = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in args)
    names = (
        list(input_names) if input_names is not None else _parameter_names(fn_or_module, len(args))
    )
    if len(names) != len(args):
        raise ValueError(f"export_onnx: {len(names)} input_names for {len(args)} example_args")
    program, _ = trace(fn_or_module, args, arg_names=names)
    model = _to_onnx(onnx, program, names, output_names, {})  # what has no ONNX form raises
    if dynamic_batch:
        batch_axes = _batch_axes(fn_or_module, args, names, program)
        model = _to_onnx(onnx, program, names, output_names, batch_axes)
    onnx.checker.check_model(model)
    path = Path(path)
    write_atomic(path, model.SerializeToString())
    return path


def _parameter_names(fn: Any, count: int) -> list[str]:
    """The names of the first ``count`` positional parameters of ``fn`` (of a module's
    ``forward``), then ``input_<i>`` for any it does not name."""
    target = fn.forward if hasattr(fn, "forward") and not inspect.isfunction(fn) else fn
    try:
        params = [
            p.name
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    params = params[:count]
    return params + [f"input_{i}" for i in range(len(params), count)]


def _batch_axes(fn: Any, args: tuple, names: list[str], program: Program) -> dict[int, int]:
    """Slot -> its batch axis, from a second trace at batch size ``B + 1``.

    Every argument must have a batch axis 0 of the same size ``B``. A slot whose axis is
    ``B`` in the first trace and ``B + 1`` in the second has it there; a slot whose shape
    or constant value changes otherwise, or an instruction whose parameters change,
    depends on the batch size in a way ONNX could not follow, and raises.
    """
    sizes = {np.shape(a)[0] if np.ndim(a) else None for a in args}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"export_onnx: dynamic_batch needs every example argument to have the same "
            f"batch size on axis 0, got shapes {[np.shape(a) for a in args]}; pass "
            f"dynamic_batch=False for a fixed-size model"
        )
    (batch,) = sizes
    if batch == 0:
        raise ValueError("export_onnx: the example batch is empty; give at least one row")
    bigger = tuple(np.concatenate([a, a[:1]]) for a in args)
    try:
        other, _ = trace(fn, bigger, arg_names=names)
    except Exception as exc:
        raise ExportError(
            f"export_onnx: the function does not run at batch size {batch + 1} ({exc}), so "
            f"its batch axis cannot be dynamic; pass dynamic_batch=False to export it for "
            f"batch size {batch} only"
        ) from exc
    if [(i.kind, i.prim) for i in other.instructions] != [
        (i.kind, i.prim) for i in program.instructions
    ] or len(other.slots) != len(program.slots):
        raise ExportError(
            f"export_onnx: the function runs different operations at batch size {batch} and "
            f"{batch + 1}; pass dynamic_batch=False to export it for batch size {batch} only"
        )
    found: dict[int, int] = {}
    for slot, twin in zip(program.slots, other.slots, strict=True):
        shape, shape2 = slot.shape, twin.shape
        if shape is None or shape == shape2 and not _differs(slot, twin):
            continue
        axes = [
            a
            for a, (n, m) in enumerate(zip(shape, shape2 or (), strict=False))
            if (n, m) == (batch, batch + 1)
        ]
        if slot.kind == "value" and len(axes) == 1 and len(shape) == len(shape2):
            if all(n == m for a, (n, m) in enumerate(zip(shape, shape2)) if a != axes[0]):
                found[slot.index] = axes[0]
                continue
        if slot.kind == "arg" and shape2 == (batch + 1, *shape[1:]):
            found[slot.index] = 0
            continue
        if slot.kind in ("const", "object") and len(axes) == 1 and _filled(slot.value, twin.value):
            found[slot.index] = axes[0]  # e.g. a zero initial state: rebuilt at run time
            continue
        raise ExportError(
            f"export_onnx: {_describe(program, slot)} changes with the batch size "
            f"({shape} at batch {batch}, {shape2} at {batch + 1}) in a way an ONNX graph "
            f"cannot follow; pass dynamic_batch=False to export for batch size {batch} only"
        )
    for one, two in zip(program.instructions, other.instructions, strict=True):
        if one.kind == "prim" and not _same_params(one.kwargs, two.kwargs, one.prim.name):
            raise ExportError(
                f"export_onnx: {one.prim.name}'s parameters change with the batch size "
                f"({_shown(one.kwargs)} at batch {batch}, {_shown(two.kwargs)} at "
                f"{batch + 1}); pass dynamic_batch=False to export for batch size {batch} only"
            )
    return found


def _filled(one: Any, two: Any) -> bool:
    """True when both arrays hold one and the same value everywhere (shapes aside)."""
    one, two = np.asarray(one), np.asarray(two)
    if one.size == 0 or one.ndim != two.ndim:
        return False
    first = one.flat[0]
    return bool(np.all(one == first) and np.all(two == first))


def _differs(slot: Any, twin: Any) -> bool:
    """True for a constant whose value differs between the two traces."""
    if slot.kind not in ("const", "object"):
        return False
    return not np.array_equal(np.asarray(slot.value), np.asarray(twin.value), equal_nan=True)


def _same_params(one: dict, two: dict, prim: str) -> bool:
    """Parameters equal between the traces (reshape targets are rebuilt from the output's
    shape, so only their batch entry may differ)."""
    visible = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}  # noqa: E731
    one, two = visible(one), visible(two)
    if prim in ("reshape", "broadcast_to"):
        one, two = dict(one), dict(two)
        one.pop("shape", None)
        two.pop("shape", None)
    try:
        return bool(one == two)
    except ValueError:  # arrays inside: compare them one by one
        return one.keys() == two.keys() and all(np.array_equal(one[k], two[k]) for k in one)


def _shown(params: dict) -> dict:
    return {k: v for k, v in params.items() if not k.startswith("_")}


def _describe(program: Program, slot: Any) -> str:
    if slot.producer is not None:
        return f"the result of {program.instructions[slot.producer].prim.name}"
    if slot.kind == "const":
        return f"a constant of shape {slot.shape} made inside the function"
    return f"input {slot.hint}"


def _to_onnx(
    onnx: Any,
    program: Program,
    input_names: list[str],
    output_names: Sequence[str] | None,
    batch_axes: dict[int, int],
) -> Any:
    g = _Graph(onnx)
    values: dict[int, _Value] = {}
    graph_inputs = []
    folded: set[int] = set()  # slots known without the inputs (initializers)
    for slot in program.slots:
        if slot.kind == "arg":
            name = input_names[slot.source[0]] if len(slot.source) == 1 else slot.hint
            axis = batch_axes.get(slot.index)
            values[slot.index] = _Value(name, slot.shape, slot.dtype, axis)
            graph_inputs.append(_tensor_info(onnx, name, slot.value, axis))
        elif slot.kind in ("const", "object") and slot.index in batch_axes:
            axis = batch_axes[slot.index]
            values[slot.index] = _Value(
                _batch_filled(g, slot.value, axis, values, batch_axes), slot.shape, slot.dtype, axis
            )
        elif slot.kind in ("data", "const", "object"):
            folded.add(slot.index)
    for instruction in program.instructions:
        if instruction.kind == "dict":  # a primitive's residual: nothing to export
            folded.update(instruction.outs)
            continue
        if instruction.kind == "call":
            raise ExportError(
                f"export_onnx: the function calls {_callee(instruction)} (a random draw or "
                f"an update), which has no ONNX form; export a model in eval mode "
                f"(model.eval(), dropout off)"
            )
        (out,) = instruction.outs if len(instruction.outs) == 1 else (None,)
        if out is not None and all(u in folded for u in instruction.uses()):
            folded.add(out)  # computed from parameters alone: an initializer
            continue
        if instruction.kind != "prim" or out is None:
            raise ExportError(
                f"export_onnx: the function calls {_callee(instruction)} on a traced value, "
                f"which has no ONNX form; only the engine's primitives are exported"
            )
        prim = instruction.prim.name
        convert = CONVERTERS.get(prim)
        if convert is None:
            raise ExportError(
                f"export_onnx: primitive {prim!r} has no ONNX form yet (the supported ones "
                f"are autograd.onnx_export.CONVERTERS: {len(CONVERTERS)} primitives)"
            )
        operands = [_operand(g, program, values, folded, a) for a in instruction.args]
        slot = program.slots[out]
        result = _Value("", slot.shape, slot.dtype, batch_axes.get(out))
        params = {**instruction.kwargs, "_prim": prim}
        result.name = convert(g, operands, params, result)
        values[out] = result
    outputs = _returned_slots(program)
    names = (
        list(output_names)
        if output_names is not None
        else ["output" if i == 0 else f"output_{i}" for i in range(len(outputs))]
    )
    if len(names) != len(outputs):
        raise ValueError(f"export_onnx: {len(names)} output_names for {len(outputs)} outputs")
    graph_outputs = []
    for name, slot_index in zip(names, outputs, strict=True):
        slot = program.slots[slot_index]
        if slot_index not in values:
            raise ExportError(f"export_onnx: output {name!r} does not depend on the inputs")
        g.nodes.append(onnx.helper.make_node("Identity", [values[slot_index].name], [name]))
        graph_outputs.append(_tensor_info(onnx, name, slot.value, batch_axes.get(slot_index)))
    graph = onnx.helper.make_graph(
        g.nodes, program.name, graph_inputs, graph_outputs, list(g.initializers.values())
    )
    model = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="topograd",
    )
    model.ir_version = min(model.ir_version, 8)  # readable by ONNX Runtime 1.14 and later
    return model


def _batch_filled(g: _Graph, value: np.ndarray, axis: int, values: dict, batch_axes: dict) -> str:
    """A constant filled with one value whose ``axis`` is the batch's: ``ConstantOfShape``
    with the batch size read from the first graph input that has it."""
    source = next(v for i, v in values.items() if batch_axes.get(i) == 0 and v.batch_axis == 0)
    size = g.node("Gather", [g.node("Shape", [source.name]), g.ints([0])], axis=0)
    dims = [size if a == axis else g.ints([n]) for a, n in enumerate(value.shape)]
    shape = g.node("Concat", dims, axis=0)
    fill = g.onnx.numpy_helper.from_array(np.asarray(value).reshape(-1)[:1].copy())
    return g.node("ConstantOfShape", [shape], value=fill)


def _returned_slots(program: Program) -> list[int]:
    """The slots the traced function returned (one Tensor, or a tuple/list of them)."""
    outputs = program.outputs
    items = outputs if isinstance(outputs, tuple | list) else (outputs,)
    if not items or not all(isinstance(item, Use) for item in items):
        raise ExportError(
            "export_onnx: the function must return a Tensor or a tuple of Tensors, got "
            f"{type(outputs).__name__}"
        )
    return [item.slot for item in items]


def _operand(g: _Graph, program: Program, values: dict, folded: set, arg: Any) -> _Value | None:
    """The :class:`_Value` of one operand (an initializer for a folded slot or number)."""
    if arg is None:
        return None
    if isinstance(arg, Use):
        if arg.slot in values:
            return values[arg.slot]
        slot = program.slots[arg.slot]
        name = _initializer_name(slot)
        name = g.const(np.asarray(slot.value), name if name not in g.initializers else None)
        value = values[arg.slot] = _Value(
            name, np.shape(slot.value), np.asarray(slot.value).dtype, None
        )
        return value
    if isinstance(arg, tuple | list):
        raise ExportError(f"export_onnx: a list operand {arg!r} has no ONNX form")
    if isinstance(arg, bool | int | float):
        return _Value("", (), np.asarray(arg).dtype, None, scalar=arg)
    array = np.asarray(arg)
    return _Value(g.const(array), array.shape, array.dtype, None)


def _initializer_name(slot: Any) -> str:
    source = slot.source
    name = getattr(source, "name", None) if slot.kind == "data" else None
    return name or slot.name or slot.hint


def _callee(instruction: Any) -> str:
    fn = instruction.fn
    return getattr(fn, "__name__", None) or str(fn)


def _tensor_info(onnx: Any, name: str, value: Any, batch_axis: int | None) -> Any:
    shape: list[Any] = list(np.shape(value))
    if batch_axis is not None:
        shape[batch_axis] = BATCH
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)
    return onnx.helper.make_tensor_value_info(name, elem, shape)


__all__ = ["BATCH", "CONVERTERS", "OPSET", "ExportError", "export_onnx"]
