"""Convolution, pooling, padding and normalisation ops: values and gradients three ways.

- closed forms and a direct definition (a Python sum over kernel offsets, written from
  the formula, independent of im2col), with hypothesis over the geometry;
- PyTorch (skipped when it is not installed) on grids of stride, padding, dilation and
  groups (marked ``heavy``): a deterministic sample by default, the whole grid with
  ``TOPOGRAD_HEAVY=1``;
- the engine's machinery: the im2col workspace is reused and never shared, every array
  a rule does not list in ``saves=`` may be released, nodes carry their geometry for
  pictures, and bad arguments raise errors naming the op and the argument.

(gradcheck, second-order gradcheck and float32 for every op: ``opinfo_conv.py``.)
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import node, primitive
from autograd.ops import conv

HEAVY = bool(os.environ.get("TOPOGRAD_HEAVY"))


def grid_sample(cases: list, size: int) -> list:
    """All of ``cases`` with ``TOPOGRAD_HEAVY=1``, else ``size`` of them spread evenly."""
    if HEAVY or len(cases) <= size:
        return cases
    return [cases[i] for i in np.linspace(0, len(cases) - 1, size).astype(int)]


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, ``out[n, o, i, j] = Σ_{c, p, q} w[o, c, p, q] x[n, c', i s + p d,
    j s + q d]`` (``c'`` the channel ``c`` of ``o``'s group), one kernel offset at a time."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for p, q in itertools.product(range(kh), range(kw)):
        patch = xp[
            :, :, p * dh : p * dh + sh * (oh - 1) + 1 : sh, q * dw : q * dw + sw * (ow - 1) + 1 : sw
        ]
        for g in range(groups):
            part = patch[:, g * cg : (g + 1) * cg]
            out[:, g * og : (g + 1) * og] += np.einsum(
                "nchw,oc->nohw", part, w[g * og : (g + 1) * og, :, p, q]
            )
    return out if b is None else out + b[:, None, None]


# ---------------------------------------------------------------- closed forms
def test_identity_kernel_returns_the_input_and_its_gradient():
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), requires_grad=True)
    identity = np.zeros((3, 3, 3, 3))
    identity[range(3), range(3), 1, 1] = 1.0
    out = ag.conv2d(x, identity, padding=1)
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(x.shape))


def test_one_by_one_convolution_is_a_matmul_over_channels():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((5, 4, 1, 1))
    expected = np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0])
    np.testing.assert_allclose(ag.conv2d(x, w).numpy(), expected, rtol=1e-12)


def test_weight_gradient_of_a_sum_is_the_window_sums_of_the_input():
    # d/dW sum(conv(x, W)) [o, c, p, q] = sum over n, i, j of x[n, c, i + p, j + q]
    x = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4)
    w = ag.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    ag.conv2d(x, w).sum().backward()
    expected = [[x[:, 0, p : p + 3, q : q + 3].sum() for q in range(2)] for p in range(2)]
    np.testing.assert_array_equal(w.grad.numpy()[0, 0], expected)


def test_avg_pool_of_a_constant_is_the_constant_and_padding_counts_by_default():
    x = np.full((1, 1, 4, 4), 2.0)
    np.testing.assert_array_equal(ag.avg_pool2d(x, 2).numpy(), np.full((1, 1, 2, 2), 2.0))
    corner = ag.avg_pool2d(x, 3, stride=1, padding=1).numpy()[0, 0, 0, 0]
    assert corner == pytest.approx(2.0 * 4 / 9)  # 4 of the 9 window entries are real
    assert ag.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy()[0, 0, 0, 0] == 2.0


def test_max_pool_sends_a_tied_window_gradient_to_its_first_maximum():
    x = ag.tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]), requires_grad=True)
    ag.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1], [0, 0]]]])


def test_max_pool_propagates_nan_and_gives_it_the_gradient():
    x = ag.tensor(np.array([[[1.0, np.nan, 5.0, 2.0]]]), requires_grad=True)
    out = ag.max_pool1d(x, 2)
    assert np.isnan(out.numpy()[0, 0, 0]) and out.numpy()[0, 0, 1] == 5.0
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 1, 1, 0]]])


def test_adaptive_avg_pool_to_one_is_the_mean_and_bins_overlap_like_pytorch():
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 7))
    np.testing.assert_allclose(
        ag.adaptive_avg_pool2d(x, 1).numpy()[..., 0, 0], x.mean(axis=(2, 3)), rtol=1e-12
    )
    # 5 rows in 3 bins: [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(
        conv.adaptive_matrix(5, 3, np.float64),
        [[0.5, 0.5, 0, 0, 0], [0, 1 / 3, 1 / 3, 1 / 3, 0], [0, 0, 0, 0.5, 0.5]],
    )


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_equals_numpy_and_its_gradient_counts_the_copies(mode):
    x = ag.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    width = ((1, 2), (3, 0))
    out = ag.pad(x, width, mode=mode)
    np.testing.assert_array_equal(out.numpy(), np.pad(x.numpy(), width, mode=mode))
    out.sum().backward()
    # each x entry's gradient is the number of times it appears in the output
    counts = np.pad(np.arange(12).reshape(3, 4), width, mode=mode)
    expected = np.bincount(counts.ravel(), minlength=12).reshape(3, 4)
    if mode == "constant":
        counts = np.pad(np.arange(12).reshape(3, 4) + 1, width)
        expected = np.bincount(counts.ravel(), minlength=13)[1:].reshape(3, 4)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert x.pad(width, mode).shape == out.shape  # also a method


def test_pad_constant_values_and_numpy_pad_width_forms():
    x = np.ones((2, 2))
    np.testing.assert_array_equal(
        ag.pad(x, 1, constant_values=7).numpy(), np.pad(x, 1, constant_values=7)
    )
    np.testing.assert_array_equal(ag.pad(x, (0, 2)).numpy(), np.pad(x, (0, 2)))


def test_batch_norm_output_has_zero_mean_and_unit_variance_per_channel():
    x = np.random.default_rng(3).standard_normal((8, 3, 4, 4)) * 5 + 2
    y = ag.batch_norm(x, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-10)


def test_batch_norm_gradient_is_orthogonal_to_shifts_and_scalings():
    # y does not change when x is shifted or scaled per channel: dx sums to 0 and is
    # orthogonal to x̂, for any upstream gradient
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((6, 2, 3)), requires_grad=True)
    y = ag.batch_norm(x, training=True, eps=0.0)
    y.backward(rng.standard_normal(y.shape))
    np.testing.assert_allclose(x.grad.numpy().sum(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose((x.grad.numpy() * y.numpy()).sum(axis=(0, 2)), 0, atol=1e-12)


def test_batch_norm_updates_running_statistics_with_the_unbiased_variance():
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    mean, var = ag.zeros(2), ag.ones(2)
    ag.batch_norm(x, mean, var, training=True, momentum=0.25)
    np.testing.assert_allclose(mean.numpy(), 0.25 * x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1), rtol=1e-12)
    y = ag.batch_norm(x, mean, var, training=False)  # eval: the running statistics
    expected = (x - mean.numpy()[:, None]) / np.sqrt(var.numpy()[:, None] + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_group_norm_with_one_channel_per_group_standardises_each_channel():
    x = np.random.default_rng(6).standard_normal((2, 3, 5))
    expected = (x - x.mean(axis=2, keepdims=True)) / np.sqrt(x.var(axis=2, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ag.group_norm(x, 3).numpy(), expected, rtol=1e-12)


def test_hessian_of_a_convolution_matches_finite_differences():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 1, 4, 4))

    def f(w):
        return ag.tanh(ag.conv2d(x, w.reshape(1, 1, 2, 2), stride=2)).sum()

    w0 = rng.standard_normal(4)
    hessian = ag.hessian(f)(w0).numpy()
    grad = ag.grad(f)
    eps = 1e-5
    numeric = np.stack(
        [(grad(w0 + eps * e).numpy() - grad(w0 - eps * e).numpy()) / (2 * eps) for e in np.eye(4)]
    )
    np.testing.assert_allclose(hessian, numeric, atol=1e-7)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)


# ---------------------------------------------------------------- the definition, any geometry
@given(
    n=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    c_per_group=st.integers(1, 2),
    o_per_group=st.integers(1, 2),
    size=st.tuples(st.integers(3, 7), st.integers(3, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(),
)
def test_conv2d_and_its_gradients_follow_the_definition(
    n, groups, c_per_group, o_per_group, size, kernel, stride, padding, dilation, bias
):
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(s + 2 * p < span for s, p, span in zip(size, padding, spans)):
        return  # the kernel does not fit: an error, tested below
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, groups * c_per_group, *size))
    w = rng.standard_normal((groups * o_per_group, c_per_group, *kernel))
    b = rng.standard_normal(groups * o_per_group) if bias else None
    tx, tw = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    out = ag.conv2d(tx, tw, b, stride, padding, dilation, groups)
    expected = reference_conv2d(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    # gradients: the definition is linear in x and in w, so <g, conv(x, w)> is the
    # directional derivative; compare the engine's VJPs with it along random directions
    g = rng.standard_normal(out.shape)
    out.backward(g)
    dx, dw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    along_x = (g * reference_conv2d(dx, w, None, stride, padding, dilation, groups)).sum()
    along_w = (g * reference_conv2d(x, dw, None, stride, padding, dilation, groups)).sum()
    assert (tx.grad.numpy() * dx).sum() == pytest.approx(along_x, rel=1e-9, abs=1e-9)
    assert (tw.grad.numpy() * dw).sum() == pytest.approx(along_w, rel=1e-9, abs=1e-9)


@given(
    size=st.tuples(st.integers(2, 7), st.integers(2, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.integers(0, 1),
)
def test_avg_pool_adjoint_and_max_pool_gradient_sum_identities(size, kernel, stride, pad):
    if any(2 * pad > k or s + 2 * pad < k for s, k in zip(size, kernel)):
        return
    rng = np.random.default_rng(1)
    x = ag.tensor(
        rng.permutation(2 * size[0] * size[1]).reshape(1, 2, *size) * 1.0, requires_grad=True
    )
    out = ag.max_pool2d(x, kernel, stride, pad)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    assert x.grad.numpy().sum() == pytest.approx(g.sum())  # each window passes its g on whole
    # avg pooling and its VJP are adjoint linear maps: <avg(v), g> = <v, avg_vjp(g)>
    v = ag.tensor(rng.standard_normal(x.shape), requires_grad=True)
    avg = ag.avg_pool2d(v, kernel, stride, pad)
    avg.backward(g)
    assert (avg.numpy() * g).sum() == pytest.approx((v.numpy() * v.grad.numpy()).sum())


# ---------------------------------------------------------------- PyTorch
CONV_GRID = list(
    itertools.product(
        [1, 2, (2, 1)],  # stride
        [0, 1, (2, 0), "valid", "same"],  # padding
        [1, 2, (1, 2)],  # dilation
        [1, 2],  # groups
    )
)
CONV_GRID = [case for case in CONV_GRID if not (case[1] == "same" and case[0] != 1)]


def _torch_grads(torch, fn, *arrays, grad=None):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.tensor(grad) if grad is not None else torch.ones_like(out))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _our_grads(fn, *arrays, grad=None):
    tensors = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(grad if grad is not None else np.ones(out.shape))
    return out.numpy(), [t.grad.numpy() for t in tensors]


def assert_same(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=atol)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.heavy
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), grid_sample(CONV_GRID, 16))
def test_conv2d_and_conv1d_match_pytorch(stride, padding, dilation, groups):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = (
        rng.standard_normal((2, 4, 7, 6)),
        rng.standard_normal((6, 4 // groups, 3, 2)),
        rng.standard_normal(6),
    )
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    ours = _our_grads(lambda *t: ag.conv2d(*t, **kw), x, w, b)
    theirs = _torch_grads(torch, lambda *t: torch.nn.functional.conv2d(*t, **kw), x, w, b)
    assert_same(ours, theirs)
    one_d = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items()}
    x1, w1 = x[:, :, 0], w[:, :, 0]
    ours = _our_grads(lambda *t: ag.conv1d(*t, **one_d), x1, w1, b)
    theirs = _torch_grads(torch, lambda *t: torch.nn.functional.conv1d(*t, **one_d), x1, w1, b)
    assert_same(ours, theirs)


TRANSPOSE_GRID = [
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product([1, 2, 3], [0, 1], [0, 1, 2], [1, 2], [1, 2])
    if op < max(s, d)
]


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("stride", "padding", "output_padding", "dilation", "groups"), grid_sample(TRANSPOSE_GRID, 10)
)
def test_conv_transpose_matches_pytorch(stride, padding, output_padding, dilation, groups):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w, b = (
        rng.standard_normal((2, 4, 4, 3)),
        rng.standard_normal((4, 6 // groups, 3, 3)),
        rng.standard_normal(6),
    )
    kw = {
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
    }
    ours = _our_grads(lambda *t: ag.conv_transpose2d(*t, **kw), x, w, b)
    theirs = _torch_grads(torch, lambda *t: torch.nn.functional.conv_transpose2d(*t, **kw), x, w, b)
    assert_same(ours, theirs)
    x1, w1 = x[..., 0], w[..., 0]
    ours = _our_grads(lambda *t: ag.conv_transpose1d(*t, **kw), x1, w1, b)
    theirs = _torch_grads(
        torch, lambda *t: torch.nn.functional.conv_transpose1d(*t, **kw), x1, w1, b
    )
    assert_same(ours, theirs)


POOL_GRID = [
    (k, s, p, d)
    for k, s, p, d in itertools.product([2, 3, (2, 3)], [None, 1, 2], [0, 1], [1, 2])
    if 2 * p <= min(np.atleast_1d(k))
]


@pytest.mark.heavy
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"), grid_sample(POOL_GRID, 12))
def test_pools_match_pytorch_including_ties(kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, (2, 3, 7, 8)).astype(float)  # many ties
    ours = _our_grads(lambda t: ag.max_pool2d(t, kernel, stride, padding, dilation), x)
    theirs = _torch_grads(
        torch, lambda t: functional.max_pool2d(t, kernel, stride, padding, dilation), x
    )
    assert_same(ours, theirs)
    k1 = kernel if isinstance(kernel, int) else kernel[0]
    ours = _our_grads(lambda t: ag.max_pool1d(t, k1, stride, padding, dilation), x[:, :, 0])
    theirs = _torch_grads(
        torch, lambda t: functional.max_pool1d(t, k1, stride, padding, dilation), x[:, :, 0]
    )
    assert_same(ours, theirs)
    for include in (True, False):
        ours = _our_grads(
            lambda t, include=include: ag.avg_pool2d(t, kernel, stride, padding, include), x
        )
        theirs = _torch_grads(
            torch,
            lambda t, include=include: functional.avg_pool2d(
                t, kernel, stride, padding, count_include_pad=include
            ),
            x,
        )
        assert_same(ours, theirs)
        ours = _our_grads(
            lambda t, include=include: ag.avg_pool1d(t, k1, stride, padding, include), x[:, :, 0]
        )
        theirs = _torch_grads(
            torch,
            lambda t, include=include: functional.avg_pool1d(
                t, k1, stride, padding, count_include_pad=include
            ),
            x[:, :, 0],
        )
        assert_same(ours, theirs)


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (4, None), (7, 8)])
def test_adaptive_avg_pool2d_matches_pytorch(output_size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    ours = _our_grads(lambda t: ag.adaptive_avg_pool2d(t, output_size), x)
    theirs = _torch_grads(
        torch, lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output_size), x
    )
    assert_same(ours, theirs)


def test_batch_norm_and_group_norm_match_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((4, 6, 3, 2)), rng.standard_normal(6), rng.standard_normal(6)
    g = rng.standard_normal(x.shape)
    ours = _our_grads(
        lambda *t: ag.batch_norm(t[0], None, None, t[1], t[2], training=True), x, w, b, grad=g
    )
    theirs = _torch_grads(
        torch,
        lambda *t: functional.batch_norm(t[0], None, None, t[1], t[2], training=True),
        x,
        w,
        b,
        grad=g,
    )
    assert_same(ours, theirs, rtol=1e-9)
    for groups in (1, 2, 3, 6):
        ours = _our_grads(
            lambda *t, groups=groups: ag.group_norm(t[0], groups, t[1], t[2]), x, w, b, grad=g
        )
        theirs = _torch_grads(
            torch,
            lambda *t, groups=groups: functional.group_norm(t[0], groups, t[1], t[2]),
            x,
            w,
            b,
            grad=g,
        )
        assert_same(ours, theirs, rtol=1e-9)


# ---------------------------------------------------------------- the engine's machinery
def test_the_im2col_workspace_is_reused_across_steps_and_released_by_backward():
    conv.WORKSPACE.clear()
    x = ag.tensor(np.ones((2, 3, 8, 8), np.float32))
    w = ag.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    taken = []
    original = conv.WORKSPACE.take

    def spy(shape, dtype):
        array = original(shape, dtype)
        taken.append(id(array))
        return array

    conv.WORKSPACE.take = spy
    try:
        for _ in range(3):
            first = ag.conv2d(x, w)
            second = ag.conv2d(x, w)  # a second forward before backward: its own buffer
            (first.sum() + second.sum()).backward()
    finally:
        del conv.WORKSPACE.take
    assert len(set(taken)) == 2  # two buffers, cycled through by six forwards
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 3, 3, 3), 2 * 3 * 2 * 36.0))


def test_retain_graph_backward_twice_recomputes_the_released_workspace():
    rng = np.random.default_rng(8)
    x = ag.tensor(rng.standard_normal((2, 2, 5, 5)))
    w = ag.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    out = ag.conv2d(x, w)
    out.sum().backward(retain_graph=True)
    first = w.grad.numpy().copy()
    ag.conv2d(x * 2, w).sum().backward()  # reuses the buffer the first graph gave back
    w.grad = None
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), first, rtol=1e-12)


def test_rules_read_only_what_they_save(monkeypatch):
    # every array not in saves= released at record time (as large ones are): the
    # gradients must not change
    rng = np.random.default_rng(9)
    inputs = [
        rng.standard_normal((2, 2, 6, 6)),
        rng.standard_normal((3, 2, 3, 3)),
        rng.standard_normal(3),
    ]

    def model(x, w, b):
        y = ag.conv2d(x, w, b, padding=1)
        y = ag.max_pool2d(ag.relu(y), 2) + ag.avg_pool2d(y, 2, padding=1)[:, :, :3, :3]
        y = ag.batch_norm(y, training=True) + ag.group_norm(y, 3)
        y = ag.conv_transpose2d(y, w, None, stride=2)
        return (ag.pad(ag.adaptive_avg_pool2d(y, 3), 1, mode="reflect") ** 2).sum()

    def grads():
        tensors = [ag.tensor(a, requires_grad=True) for a in inputs]
        model(*tensors).backward()
        return [t.grad.numpy() for t in tensors]

    kept = grads()
    monkeypatch.setattr(primitive, "is_large", lambda data: type(data) is np.ndarray)
    monkeypatch.setattr(node, "is_large", lambda data: type(data) is np.ndarray)
    for a, b in zip(grads(), kept):
        np.testing.assert_array_equal(a, b)


def test_nodes_carry_the_geometry_for_pictures():
    x = ag.tensor(np.ones((1, 1, 6, 6)), requires_grad=True)
    out = ag.max_pool2d(ag.conv2d(x, np.ones((2, 1, 3, 3)), stride=2, padding=1), 2)
    conv_node = out.grad_fn.parents[0]
    assert conv_node.prim.name == "conv2d"
    assert conv_node.params["stride"] == (2, 2) and conv_node.params["padding"] == ((1, 1), (1, 1))
    assert out.grad_fn.params["kernel_size"] == (2, 2)
    dot = ag.to_dot(out).source
    assert "conv2d" in dot and "stride=(2, 2)" in dot and "kernel_size=(2, 2)" in dot


def test_float32_stays_float32_through_conv_pool_and_norm():
    rng = np.random.default_rng(10)
    x = ag.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    y = ag.batch_norm(ag.max_pool2d(ag.conv2d(x, w, padding="same"), 2), training=True)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: ag.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 2, 3, 3))),
            r"conv2d: weight \(2, 2, 3, 3\) .* expects 2 input channels, but the input of "
            r"shape \(1, 3, 5, 5\) has 3",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 2, 2, 2)), np.ones((1, 2, 3, 3))),
            r"conv2d: kernel_size \(3, 3\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 2, 5, 5)), np.ones((1, 2, 3, 3)), stride=0),
            "conv2d: stride must be positive",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 2, 5, 5)), np.ones((1, 2, 3, 3)), dilation=(1, -1)),
            "conv2d: dilation must be positive",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), groups=2),
            "conv2d: groups=2 must divide",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 2, 5, 5)), np.ones((1, 2, 3, 3)), padding="full"),
            "conv2d: padding must be",
        ),
        (
            lambda: ag.conv2d(
                np.ones((1, 2, 5, 5)), np.ones((1, 2, 3, 3)), stride=2, padding="same"
            ),
            "not supported for strided",
        ),
        (
            lambda: ag.conv2d(np.ones((2, 5, 5)), np.ones((1, 2, 3, 3))),
            r"conv2d: input must have shape \(N, C, H, W\)",
        ),
        (
            lambda: ag.conv2d(np.ones((1, 2, 5, 5)), np.ones((2, 2, 3, 3)), np.ones(3)),
            r"bias must have shape \(2,\)",
        ),
        (
            lambda: ag.conv1d(np.ones((1, 2, 5)), np.ones((1, 2, 3)), padding=-1),
            "padding must be non-negative",
        ),
        (
            lambda: ag.conv_transpose2d(
                np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), stride=2, output_padding=2
            ),
            "output_padding must be",
        ),
        (
            lambda: ag.conv_transpose2d(np.ones((1, 3, 3, 3)), np.ones((2, 1, 3, 3))),
            "expects 2 input channels",
        ),
        (
            lambda: ag.max_pool2d(np.ones((1, 1, 4, 4)), 2, stride=0),
            "max_pool2d: stride must be positive",
        ),
        (lambda: ag.max_pool2d(np.ones((1, 1, 4, 4)), 2, padding=2), "at most half the kernel"),
        (lambda: ag.avg_pool1d(np.ones((1, 1, 2)), 3), r"avg_pool1d: kernel_size \(3,\)"),
        (
            lambda: ag.adaptive_avg_pool2d(np.ones((4, 4)), 2),
            "adaptive_avg_pool2d: input must have shape",
        ),
        (lambda: ag.pad(np.ones((2, 2)), ((1, 1), (1, 1), (1, 1))), "pad: pad_width"),
        (lambda: ag.pad(np.ones((2, 2)), -1), "non-negative"),
        (lambda: ag.pad(np.ones((2, 2)), 1, mode="wrap"), "pad: mode must be one of"),
        (
            lambda: ag.group_norm(np.ones((2, 6, 3)), 4),
            "group_norm: num_groups=4 must be positive and divide the 6",
        ),
        (lambda: ag.batch_norm(np.ones((1, 3)), training=True), "more than 1 value per channel"),
        (
            lambda: ag.batch_norm(np.ones((2, 3)), np.zeros(2), np.ones(2)),
            r"running_mean must have shape \(3,\)",
        ),
        (lambda: ag.batch_norm(np.ones((2, 3))), "running_mean and running_var are needed"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_op_and_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
