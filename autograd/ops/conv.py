"""Convolution, pooling and padding: numpy forwards on strided views, VJPs side by side.

Layouts are PyTorch's: inputs ``(N, C, *spatial)`` with one or two spatial axes, conv
weights ``(C_out, C_in/groups, *kernel)``, transposed-conv weights ``(C_in,
C_out/groups, *kernel)``. Every kernel below works on two spatial axes; a 1-d input
is viewed as ``(N, C, 1, L)`` (free) with the parameters ``(1, ...)`` on the new axis.

**Convolution as im2col.** For output pixel ``(i, j)`` the input window ``x[n, c,
i s + p d, j s + q d]`` over the kernel offsets ``(p, q)`` is one column of the
*im2col* matrix ``X̃[n]`` (``(C k_h k_w, OH OW)``, a strided view copied once into a
reused workspace); then ``out[n] = W̃ X̃[n]`` is one BLAS matmul per image and group,
already in ``(N, C_out, OH, OW)`` order. Three primitives close the family under
differentiation (each VJP is one of the three, so ``create_graph`` works to any order):

- ``conv``: ``y = W ⋆ x``;  ``dx = conv_transpose(g, W)``, ``dW = conv_weight(x, g)``,
  ``db = Σ g``;
- ``conv_transpose`` (the adjoint in ``x``): ``dx = col2im(W̃ᵀ g)``, scatter-adding each
  column back to its window;  its VJPs are ``conv`` and ``conv_weight``;
- ``conv_weight`` (the adjoint in ``W``): ``dW = Σ_n g[n] X̃[n]ᵀ``;  VJPs ``conv_transpose``
  and ``conv``.

**Pooling.** ``max_pool`` keeps, per window, the offset of its first maximum (PyTorch's
tie rule: the whole gradient goes to the first maximal element in row-major window
order; a NaN is a maximum) as a small-int residual; its VJP scatters ``g`` there
(``max_pool_scatter``, whose own VJP gathers with an index: ``getitem``). ``avg_pool``
is the window sum over a divisor; its VJP ``avg_pool_scatter`` spreads ``g / divisor``
over each window, and the two are each other's adjoints. Windows that tile the input
(stride = kernel, no dilation) take a reshape instead of a loop over kernel offsets.

**Padding.** ``pad`` is ``np.pad`` (modes constant, reflect, edge); its VJP crops
(constant) or folds the border back onto the edge (``pad_fold``, whose VJP is ``pad``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..mode import is_grad_enabled
from ..optable import op
from ..primitive import Primitive, apply, apply_binary, apply_unary
from ..tensor import Tensor, unwrap

ndarray = np.ndarray
Pairs = tuple[tuple[int, int], ...]


# ---------------------------------------------------------------- work buffers
class Workspace:
    """Scratch arrays reused between calls: a few free arrays per ``(shape, dtype)``.

    An im2col matrix is as large as the input times the kernel size; allocating a fresh
    one per call costs page faults that can exceed the copy itself. A forward takes one
    (:meth:`take`), the weight VJP hands it back (:meth:`give`) once it has read it, so
    a training loop cycles through the same memory. Only the most recent
    :data:`KEYS` shapes are kept. Thread-safe.
    """

    KEYS = 8
    PER_KEY = 2

    def __init__(self) -> None:
        self._free: dict[tuple[tuple[int, ...], np.dtype], list[ndarray]] = {}
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> ndarray:
        """An uninitialised array of ``shape`` and ``dtype``: a free one, or a new one."""
        with self._lock:
            free = self._free.get((shape, dtype))
            if free:
                return free.pop()
        return np.empty(shape, dtype)

    def give(self, array: ndarray) -> None:
        """Return ``array`` (from :meth:`take`, no longer read by anyone) for reuse."""
        key = (array.shape, array.dtype)
        with self._lock:
            free = self._free.pop(key, [])
            if len(free) < self.PER_KEY:
                free.append(array)
            self._free[key] = free  # most recently used last
            while len(self._free) > self.KEYS:
                del self._free[next(iter(self._free))]

    def clear(self) -> None:
        """Drop every free array."""
        with self._lock:
            self._free.clear()


#: The workspace of every im2col matrix.
WORKSPACE = Workspace()


# ---------------------------------------------------------------- geometry
def as_tuple(value: Any, nd: int, name: str, op_name: str) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``nd`` ints) as a tuple of ``nd`` ints."""
    items = (value,) * nd if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != nd or not all(isinstance(v, (int, np.integer)) for v in items):
        raise ValueError(f"{op_name}: {name} must be an int or {nd} ints, got {value!r}")
    return tuple(int(v) for v in items)


def positive(value: Any, nd: int, name: str, op_name: str) -> tuple[int, ...]:
    """:func:`as_tuple`, every entry at least 1."""
    items = as_tuple(value, nd, name, op_name)
    if min(items) < 1:
        raise ValueError(f"{op_name}: {name} must be positive, got {value!r}")
    return items


def symmetric(padding: Any, nd: int, op_name: str) -> Pairs:
    """An int or ``nd`` ints of padding (both sides of each axis) as ``(lo, hi)`` pairs."""
    items = as_tuple(padding, nd, "padding", op_name)
    if min(items) < 0:
        raise ValueError(f"{op_name}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in items)


def conv_padding(
    padding: Any,
    nd: int,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    op_name: str,
) -> Pairs:
    """PyTorch's conv ``padding`` (int, ints, ``"valid"`` or ``"same"``) as ``(lo, hi)`` pairs.

    ``"same"`` pads ``d (k - 1)`` in total per axis, the odd one at the end (as PyTorch),
    so the output has the input's size; it needs stride 1.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(
                f"{op_name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
            )
        if max(stride) != 1:
            raise ValueError(
                f"{op_name}: padding='same' is not supported for strided convolutions "
                f"(stride={stride}); give the padding as numbers"
            )
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in total)
    return symmetric(padding, nd, op_name)


def out_size(size: int, pad: tuple[int, int], kernel: int, stride: int, dilation: int) -> int:
    """Output length of a window sliding over ``size`` (padded by ``pad``)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def output_shape(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    op_name: str,
) -> tuple[int, ...]:
    """The output's spatial shape; ``ValueError`` naming ``kernel_size`` if a window
    does not fit in the padded input."""
    shape = []
    for axis, (n, k, s, p, d) in enumerate(zip(spatial, kernel, stride, padding, dilation)):
        span = d * (k - 1) + 1
        if n + p[0] + p[1] < span:
            raise ValueError(
                f"{op_name}: kernel_size {kernel} (dilation {dilation}) spans {span} along "
                f"spatial axis {axis}, larger than the padded input ({n} + padding "
                f"{p[0] + p[1]} = {n + p[0] + p[1]}); use a smaller kernel or more padding"
            )
        shape.append(out_size(n, p, k, s, d))
    return tuple(shape)


def _lift(x: Any) -> Any:
    """A 1-d-spatial array ``(N, C, L)`` as ``(N, C, 1, L)``; 2-d unchanged (a view)."""
    return x[:, :, None] if x.ndim == 3 else x


def _lift_params(*params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """1-d geometry tuples with the unit axis's entry in front (stride 1, padding (0, 0))."""
    lifted = []
    for value in params:
        if len(value) == 1:
            unit = (0, 0) if isinstance(value[0], tuple) else 1
            value = (unit, *value)
        lifted.append(value)
    return lifted


def _lower(out: ndarray, nd: int) -> ndarray:
    return out[:, :, 0] if nd == 1 else out


def _padded(x: ndarray, padding: Pairs, fill: float = 0.0) -> ndarray:
    """``x`` with ``padding`` (``(lo, hi)`` per spatial axis) of ``fill`` around it."""
    if not any(lo or hi for lo, hi in padding):
        return x
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    out = np.empty((n, c, h + top + bottom, w + left + right), x.dtype)
    out.fill(fill)
    out[:, :, top : top + h, left : left + w] = x
    return out


def _windows(
    xpad: ndarray,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out_hw: Sequence[int],
    writeable: bool = False,
) -> ndarray:
    """The view ``v[n, c, p, q, i, j] = xpad[n, c, i s_h + p d_h, j s_w + q d_w]``
    (read-only unless ``writeable``: then its elements alias when windows overlap)."""
    n, c = xpad.shape[:2]
    s_n, s_c, s_h, s_w = xpad.strides
    shape = (n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    strides = (s_n, s_c, dilation[0] * s_h, dilation[1] * s_w, stride[0] * s_h, stride[1] * s_w)
    return as_strided(xpad, shape, strides, writeable=writeable)


def _tiles(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> bool:
    """True if the windows tile the input: stride = kernel and no dilation."""
    return tuple(stride) == tuple(kernel) and max(dilation) == 1


def _im2col(
    x: ndarray,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Pairs,
    dilation: Sequence[int],
    out_hw: Sequence[int],
) -> ndarray:
    """``(N, C, kh, kw, OH, OW)`` windows of ``x`` copied into a workspace array."""
    view = _windows(_padded(x, padding), kernel, stride, dilation, out_hw)
    cols = WORKSPACE.take(view.shape, x.dtype)
    np.copyto(cols, view)
    return cols


def _col2im(
    cols: ndarray,
    spatial: Sequence[int],
    stride: Sequence[int],
    padding: Pairs,
    dilation: Sequence[int],
) -> ndarray:
    """The adjoint of :func:`_im2col`: ``(N, C, kh, kw, OH, OW)`` columns (any strides)
    added back into a zero ``(N, C, *spatial)`` array at their windows' positions."""
    n, c, kh, kw, oh, ow = cols.shape
    (top, bottom), (left, right) = padding
    height, width = spatial[0] + top + bottom, spatial[1] + left + right
    out = np.zeros((n, c, height, width), cols.dtype)
    if _tiles((kh, kw), stride, dilation):  # each input pixel is in at most one window
        tiled = out[:, :, : oh * kh, : ow * kw].reshape(n, c, oh, kh, ow, kw)
        tiled[...] = cols.transpose(0, 1, 4, 2, 5, 3)
    else:
        (sh, sw), (dh, dw) = stride, dilation
        for p in range(kh):  # a loop over kernel offsets, each adding a strided slice
            rows = slice(p * dh, p * dh + sh * (oh - 1) + 1, sh)
            for q in range(kw):
                out[:, :, rows, q * dw : q * dw + sw * (ow - 1) + 1 : sw] += cols[:, :, p, q]
    if top or bottom or left or right:
        out = out[:, :, top : top + spatial[0], left : left + spatial[1]]
    return out


def _channel_axes(ndim: int) -> tuple[int, ...]:
    """Every axis but the channel axis 1: what a per-channel bias gradient sums over."""
    return (0, *range(2, ndim))


# ---------------------------------------------------------------- convolution kernels
def conv_forward(
    x: ndarray,
    w: ndarray,
    b: Any = None,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    groups: int,
    _residual: dict[str, Any] | None = None,
) -> ndarray:
    """``out[n, o] = Σ_{c, p} W[o, c, p] x[n, c, i s + p d] + b[o]`` by im2col and matmul.

    With ``_residual`` (the weight's gradient will be wanted) the im2col matrix is left
    there for :func:`_conv_weight_vjp`; otherwise it goes back to the workspace at once.
    """
    nd = x.ndim - 2
    kernel, stride, padding, dilation = _lift_params(kernel_size, stride, padding, dilation)
    x4, w4 = _lift(x), _lift(w)
    n, o = x4.shape[0], w4.shape[0]
    out_hw = output_shape(x4.shape[2:], kernel, stride, padding, dilation, "conv")
    cols = _im2col(x4, kernel, stride, padding, dilation, out_hw)
    rows = cols.reshape(n, groups, -1, out_hw[0] * out_hw[1])
    out = np.matmul(w4.reshape(groups, o // groups, -1), rows).reshape(n, o, *out_hw)
    if _residual is not None:
        _residual["cols"] = cols
    else:
        WORKSPACE.give(cols)
    if b is not None:
        out += b.reshape(o, 1, 1)
    return _lower(out, nd)


def conv_transpose_forward(
    g: ndarray,
    w: ndarray,
    b: Any = None,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    groups: int,
    shape: tuple[int, ...],
) -> ndarray:
    """The adjoint of :func:`conv_forward` in ``x``, for an input of spatial ``shape``:
    ``col2im(W̃ᵀ g)`` (plus a bias per output channel)."""
    nd = g.ndim - 2
    kernel, stride, padding, dilation, shape = _lift_params(
        kernel_size, stride, padding, dilation, shape
    )
    g4, w4 = _lift(g), _lift(w)
    n, o, oh, ow = g4.shape
    c_group, (kh, kw) = w4.shape[1], kernel
    w3 = w4.reshape(groups, o // groups, -1).swapaxes(1, 2)  # (G, C/G kh kw, O/G)
    cols = np.matmul(w3, g4.reshape(n, groups, o // groups, oh * ow))
    cols = cols.reshape(n, groups * c_group, kh, kw, oh, ow)
    out = _col2im(cols, shape, stride, padding, dilation)
    if b is not None:
        out = out + b.reshape(-1, 1, 1)
    return _lower(out, nd)


def conv_weight_forward(
    x: ndarray,
    g: ndarray,
    cols: ndarray | None = None,
    *,
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    groups: int,
    kernel_size: tuple[int, ...],
) -> ndarray:
    """The adjoint of :func:`conv_forward` in ``W``: ``dW = Σ_n g[n] X̃[n]ᵀ`` (per group).

    ``cols``: ``x``'s im2col matrix if the forward kept it (it is given back to the
    workspace here); else it is built in a workspace array and given back.
    """
    nd = x.ndim - 2
    stride, padding, dilation, kernel = _lift_params(stride, padding, dilation, kernel_size)
    x4, g4 = _lift(x), _lift(g)
    n, o, oh, ow = g4.shape
    if cols is None:
        cols = _im2col(x4, kernel, stride, padding, dilation, (oh, ow))
    rows = cols.reshape(n, groups, -1, oh * ow)
    grads = np.matmul(g4.reshape(n, groups, o // groups, oh * ow), rows.swapaxes(2, 3))
    WORKSPACE.give(cols)
    return _lower(grads.sum(axis=0).reshape(o, -1, *kernel), nd)


# ---------------------------------------------------------------- convolution rules
def _geometry(params: dict[str, Any]) -> dict[str, Any]:
    """The geometry entries of a conv node's params (what every rule passes on)."""
    return {k: params[k] for k in ("kernel_size", "stride", "padding", "dilation", "groups")}


def _conv_x_vjp(xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None, **params: Any) -> Any:
    return xp.conv_transpose(g, w, None, shape=x.shape[2:], **_geometry(params))


def _conv_weight_vjp(
    xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None, **params: Any
) -> Any:
    residual = params["_residual"]
    if type(g) is ndarray and residual is not None and "cols" in residual:
        cols = residual.pop("cols")  # first order: the forward's im2col matrix, once
        return conv_weight_forward(x, g, cols, **_geometry(params))
    return xp.conv_weight(x, g, **_geometry(params))


def _bias_vjp(xp: Any, g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    return g.sum(axis=_channel_axes(g.ndim))


def _windows_of(y: Any, like: Any) -> Any:
    """``y`` (a convolution's output) cut to ``like``'s spatial shape: a transposed conv
    with ``output_padding`` below the dilation has rows that more windows would read."""
    if y.shape[2:] == like.shape[2:]:
        return y
    return y[(slice(None), slice(None), *(slice(0, n) for n in like.shape[2:]))]


def _conv_transpose_g_vjp(
    xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None, **params: Any
) -> Any:
    return _windows_of(xp.conv(g, w, None, **_geometry(params)), x)


def _conv_transpose_w_vjp(
    xp: Any, g: Any, out: Any, x: Any, w: Any, b: Any = None, **params: Any
) -> Any:
    return xp.conv_weight(g, x, **_geometry(params))


def _conv_primitives(nd: int) -> tuple[Primitive, Primitive]:
    conv = Primitive(
        f"conv{nd}d",
        conv_forward,
        vjps=(_conv_x_vjp, _conv_weight_vjp, _bias_vjp),
        saves=(0, 1),
        doc="W ⋆ x + b (im2col, matmul);  dx = conv_transpose(g, W), dW = Σ_n g X̃ᵀ, db = Σ g",
    )
    transpose = Primitive(
        f"conv_transpose{nd}d",
        conv_transpose_forward,
        vjps=(_conv_transpose_g_vjp, _conv_transpose_w_vjp, _bias_vjp),
        saves=(0, 1),
        doc="col2im(W̃ᵀ x) + b, the adjoint of conv;  dx = conv(g, W), dW = conv_weight(g, x)",
    )
    return conv, transpose


CONV1D, CONV_TRANSPOSE1D = _conv_primitives(1)
CONV2D, CONV_TRANSPOSE2D = _conv_primitives(2)
CONV_WEIGHT = Primitive(
    "conv_weight",
    lambda x, g, **params: conv_weight_forward(x, g, **params),
    vjps=(
        lambda xp, g, out, x, grad_out, **params: xp.conv_transpose(
            grad_out, g, None, shape=x.shape[2:], **params
        ),
        lambda xp, g, out, x, grad_out, **params: _windows_of(
            xp.conv(x, g, None, **params), grad_out
        ),
    ),
    saves=(0, 1),
    doc="Σ_n g[n] X̃[n]ᵀ (conv's adjoint in W);  dx = conv_transpose(grad_out, g), "
    "dgrad_out = conv(x, g)",
)
_CONVS = {1: CONV1D, 2: CONV2D}
_CONV_TRANSPOSES = {1: CONV_TRANSPOSE1D, 2: CONV_TRANSPOSE2D}


def _conv_inputs(x: Any, weight: Any, bias: Any) -> tuple[Any, ...]:
    return (x, weight) if bias is None else (x, weight, bias)


def conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    groups: int,
) -> Tensor:
    """The differentiable convolution with checked geometry (``xp.conv`` of the rules)."""
    nd = np.ndim(unwrap(x)) - 2
    params = {"kernel_size": tuple(kernel_size), "stride": stride, "padding": padding,
              "dilation": dilation, "groups": groups}  # fmt: skip
    wants_weight_grad = isinstance(weight, Tensor) and weight.requires_grad and is_grad_enabled()
    params["_residual"] = {} if wants_weight_grad else None
    return apply(_CONVS[nd], _conv_inputs(x, weight, bias), params)


def conv_transpose(
    g: Any, weight: Any, bias: Any = None, *, shape: tuple[int, ...], **geometry: Any
) -> Tensor:
    """The differentiable transposed convolution onto spatial ``shape`` (``xp.conv_transpose``)."""
    nd = np.ndim(unwrap(g)) - 2
    params = {**geometry, "shape": tuple(shape)}
    return apply(_CONV_TRANSPOSES[nd], _conv_inputs(g, weight, bias), params)


def conv_weight(x: Any, g: Any, *, kernel_size: tuple[int, ...], **geometry: Any) -> Tensor:
    """The differentiable gradient of a convolution in its weight (``xp.conv_weight``)."""
    return apply_binary(CONV_WEIGHT, x, g, {**geometry, "kernel_size": tuple(kernel_size)})


def _input_shape(op_name: str, nd: int, x: Any) -> tuple[int, ...]:
    """``x``'s shape, checked to be ``(N, C, L)`` or ``(N, C, H, W)`` (``nd`` 1 or 2)."""
    shape = np.shape(unwrap(x))
    if len(shape) != nd + 2:
        layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
        raise ValueError(f"{op_name}: input must have shape {layout}, got {shape}")
    return shape


def _check_conv(
    op_name: str, nd: int, x: Any, weight: Any, bias: Any, groups: Any, transposed: bool
) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """Shapes of ``x`` and ``weight`` and ``groups``, checked; clear errors otherwise."""
    x_shape, w_shape = _input_shape(op_name, nd, x), np.shape(unwrap(weight))
    if len(w_shape) != nd + 2:
        want = "(C_in, C_out/groups, *kernel)" if transposed else "(C_out, C_in/groups, *kernel)"
        raise ValueError(f"{op_name}: weight must have shape {want}, got {w_shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op_name}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    channels = x_shape[1]
    if transposed:
        if w_shape[0] != channels:
            raise ValueError(
                f"{op_name}: weight {w_shape} expects {w_shape[0]} input channels, but the "
                f"input of shape {x_shape} has {channels}"
            )
        out_channels = w_shape[1] * groups
        if channels % groups:
            raise ValueError(
                f"{op_name}: groups={groups} must divide the input channels ({channels})"
            )
    else:
        out_channels = w_shape[0]
        if channels % groups or out_channels % groups:
            raise ValueError(
                f"{op_name}: groups={groups} must divide both the input channels "
                f"({channels}) and the output channels ({out_channels})"
            )
        if w_shape[1] * groups != channels:
            raise ValueError(
                f"{op_name}: weight {w_shape} with groups={groups} expects "
                f"{w_shape[1] * groups} input channels, but the input of shape {x_shape} has "
                f"{channels}"
            )
    if bias is not None and np.shape(unwrap(bias)) != (out_channels,):
        raise ValueError(
            f"{op_name}: bias must have shape ({out_channels},), got {np.shape(unwrap(bias))}"
        )
    return x_shape, w_shape, groups


def _strides(op_name: str, nd: int, stride: Any, dilation: Any) -> tuple[tuple[int, ...], ...]:
    """``stride`` and ``dilation`` as ``nd`` positive ints each."""
    return positive(stride, nd, "stride", op_name), positive(dilation, nd, "dilation", op_name)


def _convolve(
    op_name: str,
    nd: int,
    x: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> Tensor:
    x_shape, w_shape, groups = _check_conv(op_name, nd, x, weight, bias, groups, False)
    stride, dilation = _strides(op_name, nd, stride, dilation)
    pairs = conv_padding(padding, nd, w_shape[2:], stride, dilation, op_name)
    output_shape(x_shape[2:], w_shape[2:], stride, pairs, dilation, op_name)
    geometry = {"stride": stride, "padding": pairs, "dilation": dilation, "groups": groups}
    return conv(x, weight, bias, kernel_size=w_shape[2:], **geometry)


@op(CONV1D, CONV_WEIGHT, method=False)
def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation of ``(N, C_in, L)`` with ``weight`` ``(C_out, C_in/groups, k)``.

    ``padding``: an int, a 1-tuple, ``"valid"`` (none) or ``"same"`` (output length =
    input length; stride 1). Output ``(N, C_out, L_out)``,
    ``L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1``.
    """
    return _convolve("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


@op(CONV2D, CONV_WEIGHT, method=False)
def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation of ``(N, C_in, H, W)`` with ``(C_out, C_in/groups, kh, kw)``.

    As ``torch.nn.functional.conv2d``: ``stride``, ``padding`` (an int, a pair,
    ``"valid"`` or ``"same"``), ``dilation`` and ``groups``; output ``(N, C_out, OH, OW)``.
    """
    return _convolve("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _transposed(
    op_name: str,
    nd: int,
    x: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: Any,
    dilation: Any,
) -> Tensor:
    x_shape, w_shape, groups = _check_conv(op_name, nd, x, weight, bias, groups, True)
    stride, dilation = _strides(op_name, nd, stride, dilation)
    pairs = symmetric(padding, nd, op_name)
    extra = as_tuple(output_padding, nd, "output_padding", op_name)
    shape = []
    for n, k, s, p, d, e in zip(x_shape[2:], w_shape[2:], stride, pairs, dilation, extra):
        if not 0 <= e < max(s, d):
            raise ValueError(
                f"{op_name}: output_padding must be non-negative and smaller than stride or "
                f"dilation, got output_padding={output_padding} (stride={stride}, "
                f"dilation={dilation})"
            )
        shape.append((n - 1) * s - 2 * p[0] + d * (k - 1) + e + 1)
    if min(shape) < 1:
        raise ValueError(
            f"{op_name}: the output would have spatial shape {tuple(shape)} for input "
            f"{x_shape}, kernel_size {w_shape[2:]} and padding {padding}; reduce the padding"
        )
    geometry = {"stride": stride, "padding": pairs, "dilation": dilation, "groups": groups}
    return conv_transpose(x, weight, bias, kernel_size=w_shape[2:], shape=tuple(shape), **geometry)


@op(CONV_TRANSPOSE1D, method=False)
def conv_transpose1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-d transposed convolution (the gradient of ``conv1d`` in its input), weight
    ``(C_in, C_out/groups, k)``; ``L_out = (L - 1) stride - 2 padding + dilation (k - 1)
    + output_padding + 1``."""
    return _transposed(
        "conv_transpose1d", 1, x, weight, bias, stride, padding, output_padding, groups, dilation
    )


@op(CONV_TRANSPOSE2D, method=False)
def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-d transposed convolution, as ``torch.nn.functional.conv_transpose2d``: the
    gradient of ``conv2d`` in its input, weight ``(C_in, C_out/groups, kh, kw)``;
    ``output_padding`` adds rows/columns at the end (less than stride or dilation)."""
    return _transposed(
        "conv_transpose2d", 2, x, weight, bias, stride, padding, output_padding, groups, dilation
    )


# ---------------------------------------------------------------- pooling kernels
def _window_sum(
    xpad: ndarray, kernel: Sequence[int], stride: Sequence[int], out_hw: Sequence[int]
) -> ndarray:
    """``Σ_{p, q} xpad[n, c, i s_h + p, j s_w + q]``: the sum of every window (the adjoint
    of :func:`_col2im` without dilation)."""
    (kh, kw), (oh, ow) = kernel, out_hw
    n, c = xpad.shape[:2]
    if _tiles(kernel, stride, (1, 1)):
        return xpad[:, :, : oh * kh, : ow * kw].reshape(n, c, oh, kh, ow, kw).sum(axis=(3, 5))
    view = _windows(xpad, kernel, stride, (1, 1), out_hw)
    total = view[:, :, 0, 0].copy()
    for p in range(kh):
        for q in range(kw):
            if p or q:
                total += view[:, :, p, q]
    return total


def _divisor(
    spatial: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Pairs,
    out_hw: Sequence[int],
    count_include_pad: bool,
    dtype: np.dtype,
) -> Any:
    """What each window's sum is divided by: its size, or (``count_include_pad=False``)
    the number of its elements inside the unpadded input, ``(OH, OW)``."""
    if count_include_pad or not any(lo or hi for lo, hi in padding):
        return kernel[0] * kernel[1]
    ones = _padded(np.ones((1, 1, *spatial), dtype), padding)
    return _window_sum(ones, kernel, stride, out_hw)[0, 0]


def avg_pool_forward(
    x: ndarray,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    count_include_pad: bool,
) -> ndarray:
    """The mean of every window (zero padding counted unless ``count_include_pad=False``)."""
    nd = x.ndim - 2
    kernel, stride, padding = _lift_params(kernel_size, stride, padding)
    x4 = _lift(x)
    out_hw = output_shape(x4.shape[2:], kernel, stride, padding, (1, 1), "avg_pool")
    total = _window_sum(_padded(x4, padding), kernel, stride, out_hw)
    total /= _divisor(x4.shape[2:], kernel, stride, padding, out_hw, count_include_pad, x.dtype)
    return _lower(total, nd)


def avg_pool_scatter_forward(
    g: ndarray,
    *,
    shape: tuple[int, ...],
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    count_include_pad: bool,
) -> ndarray:
    """The adjoint of :func:`avg_pool_forward`: ``g / divisor`` spread over each window."""
    nd = g.ndim - 2
    kernel, stride, padding, shape = _lift_params(kernel_size, stride, padding, shape)
    g4 = _lift(g)
    n, c, oh, ow = g4.shape
    share = g4 / _divisor(shape, kernel, stride, padding, (oh, ow), count_include_pad, g.dtype)
    cols = np.broadcast_to(share[:, :, None, None], (n, c, *kernel, oh, ow))
    return _lower(_col2im(cols, shape, stride, padding, (1, 1)), nd)


def _lowest(dtype: np.dtype) -> Any:
    """The padding value of max pooling: ``-inf`` (or the smallest integer)."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool_forward(
    x: ndarray,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    _residual: dict[str, Any],
) -> ndarray:
    """The maximum of every window; leaves each window's first argmax offset (row-major,
    a small int) in ``_residual["index"]`` for the VJP. One pass per kernel offset over a
    strided view (no copy of the windows)."""
    nd = x.ndim - 2
    kernel, stride, padding, dilation = _lift_params(kernel_size, stride, padding, dilation)
    x4 = _lift(x)
    out_hw = output_shape(x4.shape[2:], kernel, stride, padding, dilation, "max_pool")
    view = _windows(_padded(x4, padding, _lowest(x.dtype)), kernel, stride, dilation, out_hw)
    offsets = [view[:, :, p, q] for p in range(kernel[0]) for q in range(kernel[1])]
    out = offsets[0].copy()
    for values in offsets[1:]:
        np.maximum(out, values, out=out)  # NaN wins, as in PyTorch
    last = len(offsets) - 1
    index = np.full(out.shape, last, np.min_scalar_type(last))
    with_nan = x.dtype.kind == "f" and np.isnan(out).any()
    for t in range(last - 1, -1, -1):  # backwards, so the first maximum (or NaN) stays
        hit = offsets[t] == out
        if with_nan:
            hit |= np.isnan(offsets[t])
        np.copyto(index, t, where=hit)
    _residual["index"] = index
    return _lower(out, nd)


def max_pool_scatter_forward(
    g: ndarray,
    *,
    index: ndarray,
    shape: tuple[int, ...],
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
) -> ndarray:
    """The adjoint of taking each window's element at ``index``: ``g`` put there (summed
    where windows overlap), one pass per kernel offset."""
    nd = g.ndim - 2
    kernel, stride, padding, dilation, shape = _lift_params(
        kernel_size, stride, padding, dilation, shape
    )
    g4 = _lift(g)
    (top, bottom), (left, right) = padding
    padded = (shape[0] + top + bottom, shape[1] + left + right)
    disjoint = all(s >= d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dilation))
    tiled = _tiles(kernel, stride, dilation) and padded == (
        g4.shape[2] * kernel[0],
        g4.shape[3] * kernel[1],
    )
    out = (np.empty if tiled else np.zeros)((*g4.shape[:2], *padded), g.dtype)  # tiled: all written
    view = _windows(out, kernel, stride, dilation, g4.shape[2:], writeable=True)
    for p in range(kernel[0]):
        for q in range(kernel[1]):
            hit = index == p * kernel[1] + q
            if disjoint:  # each input element is in one window at most: write, not add
                np.multiply(g4, hit, out=view[:, :, p, q])
            else:
                view[:, :, p, q] += g4 * hit
    if top or bottom or left or right:
        out = out[:, :, top : top + shape[0], left : left + shape[1]]
    return _lower(out, nd)


def _gather_index(
    index: ndarray,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    dilation: tuple[int, ...],
    **unused: Any,
) -> tuple[ndarray, ...]:
    """Integer indices picking, for every window, the input element at offset ``index``."""
    nd = len(kernel_size)
    kernel, stride, padding, dilation = _lift_params(kernel_size, stride, padding, dilation)
    n, c, oh, ow = index.shape
    offset_row, offset_col = np.divmod(index.astype(np.intp), kernel[1])
    rows = np.arange(oh)[:, None] * stride[0] - padding[0][0] + offset_row * dilation[0]
    cols = np.arange(ow) * stride[1] - padding[1][0] + offset_col * dilation[1]
    batch, channel = np.arange(n)[:, None, None, None], np.arange(c)[:, None, None]
    if nd == 1:
        return batch[..., 0], channel[..., 0], cols[:, :, 0]
    return batch, channel, rows, cols


# ---------------------------------------------------------------- pooling primitives
def _pool_geometry(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: params[k] for k in ("kernel_size", "stride", "padding", *names)}


def _avg_pool_vjp(xp: Any, g: Any, out: Any, x: Any, **params: Any) -> Any:
    return xp.avg_pool_scatter(g, shape=x.shape[2:], **params)


def _max_pool_vjp(xp: Any, g: Any, out: Any, x: Any, **params: Any) -> Any:
    index = params["_residual"]["index"]
    return xp.max_pool_scatter(
        g, index=index, shape=x.shape[2:], **_pool_geometry(params, "dilation")
    )


def _pool_primitives(nd: int) -> tuple[Primitive, Primitive]:
    average = Primitive(
        f"avg_pool{nd}d",
        avg_pool_forward,
        vjps=(_avg_pool_vjp,),
        saves=(),
        doc="window means;  dx = g / window size, spread over each window",
    )
    maximum = Primitive(
        f"max_pool{nd}d",
        max_pool_forward,
        vjps=(_max_pool_vjp,),
        saves=(),
        doc="window maxima;  dx = g at each window's first maximum, 0 elsewhere",
    )
    return average, maximum


AVG_POOL1D, MAX_POOL1D = _pool_primitives(1)
AVG_POOL2D, MAX_POOL2D = _pool_primitives(2)
AVG_POOL_SCATTER = Primitive(
    "avg_pool_scatter",
    avg_pool_scatter_forward,
    vjps=(lambda xp, g, out, grad_out, shape, **params: xp.avg_pool(g, **params),),
    saves=(),
    doc="g / window size spread over each window (avg_pool's adjoint);  dgrad_out = avg_pool(g)",
)
MAX_POOL_SCATTER = Primitive(
    "max_pool_scatter",
    max_pool_scatter_forward,
    vjps=(lambda xp, g, out, grad_out, **params: g[_gather_index(**params)],),
    saves=(),
    doc="g put at each window's argmax (max_pool's VJP);  dgrad_out = g at those positions",
)
_AVG_POOLS = {1: AVG_POOL1D, 2: AVG_POOL2D}
_MAX_POOLS = {1: MAX_POOL1D, 2: MAX_POOL2D}


def avg_pool(
    x: Any,
    *,
    kernel_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pairs,
    count_include_pad: bool,
) -> Tensor:
    """The differentiable average pooling with checked geometry (``xp.avg_pool``)."""
    params = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "count_include_pad": count_include_pad,
    }
    return apply_unary(_AVG_POOLS[len(kernel_size)], x, params)


def avg_pool_scatter(g: Any, **params: Any) -> Tensor:
    """The differentiable adjoint of average pooling (``xp.avg_pool_scatter``)."""
    return apply_unary(AVG_POOL_SCATTER, g, params)


def max_pool_scatter(g: Any, **params: Any) -> Tensor:
    """The differentiable VJP of max pooling (``xp.max_pool_scatter``)."""
    return apply_unary(MAX_POOL_SCATTER, g, params)


def _pool_args(
    op_name: str, nd: int, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> dict[str, Any]:
    """Checked pooling geometry (``stride=None``: the kernel size, as PyTorch)."""
    shape = _input_shape(op_name, nd, x)
    kernel = positive(kernel_size, nd, "kernel_size", op_name)
    stride, dilation = _strides(op_name, nd, kernel if stride is None else stride, dilation)
    pairs = symmetric(padding, nd, op_name)
    for (p, _), k, d in zip(pairs, kernel, dilation):
        if 2 * p > d * (k - 1) + 1:
            raise ValueError(
                f"{op_name}: padding {padding} must be at most half the kernel size "
                f"{kernel} (dilation {dilation})"
            )
    output_shape(shape[2:], kernel, stride, pairs, dilation, op_name)
    return {"kernel_size": kernel, "stride": stride, "padding": pairs, "dilation": dilation}


def _max_pool(
    op_name: str, nd: int, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> Tensor:
    params = _pool_args(op_name, nd, x, kernel_size, stride, padding, dilation)
    return apply_unary(_MAX_POOLS[nd], x, {**params, "_residual": {}})


def _avg_pool(
    op_name: str,
    nd: int,
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    count_include_pad: bool,
) -> Tensor:
    params = _pool_args(op_name, nd, x, kernel_size, stride, padding, 1)
    del params["dilation"]
    return avg_pool(x, **params, count_include_pad=bool(count_include_pad))


@op(MAX_POOL1D, method=False)
def max_pool1d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """Maximum over windows of ``(N, C, L)`` (``-inf`` padding; ``stride`` defaults to
    ``kernel_size``); ties send the gradient to the first maximum, as PyTorch."""
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation)


@op(MAX_POOL2D, method=False)
def max_pool2d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """Maximum over ``kernel_size`` windows of ``(N, C, H, W)``, as
    ``torch.nn.functional.max_pool2d``; ties send the gradient to the first maximum in
    row-major window order."""
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation)


@op(AVG_POOL1D, method=False)
def avg_pool1d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
) -> Tensor:
    """Mean over windows of ``(N, C, L)``; zero padding counts in the mean unless
    ``count_include_pad=False``."""
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, count_include_pad)


@op(AVG_POOL2D, method=False)
def avg_pool2d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
) -> Tensor:
    """Mean over ``kernel_size`` windows of ``(N, C, H, W)``, as
    ``torch.nn.functional.avg_pool2d``."""
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding, count_include_pad)


def adaptive_matrix(size: int, out: int, dtype: np.dtype) -> ndarray:
    """``(out, size)``: row ``i`` averages ``[floor(i size/out), ceil((i+1) size/out))``,
    PyTorch's adaptive bins."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1) * size)) // out)
    columns = np.arange(size)
    inside = (columns >= starts[:, None]) & (columns < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def _adaptive(x: Any, output_size: tuple[int, int]) -> tuple[ndarray, ndarray]:
    (h, w), dtype = x.shape[-2:], x.dtype
    return adaptive_matrix(h, output_size[0], dtype), adaptive_matrix(w, output_size[1], dtype)


def _adaptive_forward(x: ndarray, output_size: tuple[int, int]) -> ndarray:
    rows, cols = _adaptive(x, output_size)
    return rows @ x @ cols.T


def _adaptive_vjp(xp: Any, g: Any, out: Any, x: Any, output_size: tuple[int, int]) -> Any:
    rows, cols = _adaptive(x, output_size)
    return xp.matmul(xp.matmul(rows.T, g), cols)


ADAPTIVE_AVG_POOL2D = Primitive(
    "adaptive_avg_pool2d",
    _adaptive_forward,
    vjps=(_adaptive_vjp,),
    saves=(),
    doc="R x Cᵀ (R, C average each output's bin);  dx = Rᵀ g C",
)


@op(ADAPTIVE_AVG_POOL2D, method=False)
def adaptive_avg_pool2d(x: Any, output_size: Any) -> Tensor:
    """Average ``(..., H, W)`` over ``output_size`` bins, as PyTorch: bin ``i`` covers
    ``[floor(i H / OH), ceil((i + 1) H / OH))``; ``None`` in ``output_size`` keeps that size."""
    shape = np.shape(unwrap(x))
    if len(shape) not in (3, 4):
        raise ValueError(
            f"adaptive_avg_pool2d: input must have shape (N, C, H, W) or (C, H, W), got {shape}"
        )
    sizes = (
        (output_size,) * 2 if output_size is None or isinstance(output_size, int) else output_size
    )
    if len(tuple(sizes)) != 2:
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int or 2 ints, got {output_size!r}"
        )
    resolved = tuple(n if s is None else int(s) for s, n in zip(sizes, shape[-2:]))
    if min(resolved) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    return apply_unary(ADAPTIVE_AVG_POOL2D, x, {"output_size": resolved})


# ---------------------------------------------------------------- padding
PAD_MODES = ("constant", "reflect", "edge")


def _pad_forward(x: ndarray, pad_width: Pairs, mode: str, constant_values: float) -> ndarray:
    if not pad_width:  # a 0-d array: nothing to pad (np.pad wants an int array of pairs)
        return x.copy()
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


def _pad_vjp(
    xp: Any, g: Any, out: Any, x: Any, pad_width: Pairs, mode: str, constant_values: float
) -> Any:
    if mode == "constant":
        return g[tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(pad_width))]
    return xp.pad_fold(g, pad_width=pad_width, mode=mode)


def pad_fold_forward(g: ndarray, pad_width: Pairs, mode: str) -> ndarray:
    """The adjoint of ``np.pad(x, pad_width, mode)``: each padded entry of ``g`` is added
    to the entry of ``x`` it copies; axis by axis."""
    for axis, (lo, hi) in enumerate(pad_width):
        if lo == hi == 0:
            continue
        size = g.shape[axis] - lo - hi
        source = np.pad(np.arange(size), (lo, hi), mode=mode)  # which x entry each copies
        moved = np.moveaxis(g, axis, 0)
        folded = np.zeros((size, *moved.shape[1:]), g.dtype)
        np.add.at(folded, source, moved)
        g = np.moveaxis(folded, 0, axis)
    return g


PAD = Primitive(
    "pad",
    _pad_forward,
    vjps=(_pad_vjp,),
    saves=(),
    doc="np.pad (constant, reflect, edge);  dx = g cropped, plus the border folded back",
)
PAD_FOLD = Primitive(
    "pad_fold",
    pad_fold_forward,
    vjps=(lambda xp, g, out, padded, pad_width, mode: xp.pad(g, pad_width, mode),),
    saves=(),
    doc="border entries added back onto what they copy (pad's adjoint);  dpadded = pad(g)",
)


def pad_width_pairs(pad_width: Any, ndim: int, op_name: str = "pad") -> Pairs:
    """numpy's ``pad_width`` (an int, ``(before, after)``, or one pair per axis) as pairs."""
    try:
        pairs = np.broadcast_to(np.asarray(pad_width), (ndim, 2))
    except ValueError:
        raise ValueError(
            f"{op_name}: pad_width {pad_width!r} is not an int, a (before, after) pair or "
            f"{ndim} pairs (one per axis of the input)"
        ) from None
    if pairs.dtype.kind not in "iu" or (pairs < 0).any():
        raise ValueError(f"{op_name}: pad_width must be non-negative ints, got {pad_width!r}")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


@op(PAD, PAD_FOLD)
def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """Pad as ``np.pad``: ``pad_width`` per axis (numpy's forms); ``mode`` ``"constant"``
    (``constant_values``), ``"reflect"`` (mirror without the edge) or ``"edge"``."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    shape = np.shape(unwrap(x))
    pairs = pad_width_pairs(pad_width, len(shape))
    if mode != "constant":
        for axis, ((lo, hi), n) in enumerate(zip(pairs, shape)):
            if (lo or hi) and n == 0:
                raise ValueError(f"pad: cannot pad the empty axis {axis} in mode {mode!r}")
    params = {"pad_width": pairs, "mode": mode, "constant_values": constant_values}
    return apply_unary(PAD, x, params)


def pad_fold(g: Any, pad_width: Pairs, mode: str) -> Tensor:
    """The differentiable adjoint of ``pad`` in reflect/edge mode (``xp.pad_fold``)."""
    return apply_unary(PAD_FOLD, g, {"pad_width": pad_width, "mode": mode})


def pad_numpy(x: ndarray, pad_width: Pairs, mode: str) -> ndarray:
    """``np.pad`` with zeros for the constant mode (``NUMPY_NS.pad``, as the rules call it)."""
    return _pad_forward(x, pad_width, mode, 0)
