"""Values and derivatives against closed forms: first and second derivatives of every
elementwise primitive, subgradient conventions at kinks and ties, numerical
stability at |x| ~ 1000, softmax/logsumexp Jacobians, matmul and linear gradients
against explicit formulas, and the fused cross-entropy's exact ``(S - I_y)/m``."""

from __future__ import annotations

import numpy as np
import pytest
from opinfo import OPINFOS, Sample

import autograd as ag


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def d1(f):
    """Elementwise f' via the engine: the gradient of sum(f(x))."""
    return ag.grad(lambda x: f(x).sum())


def d2(f):
    """Elementwise f'' via nested transforms."""
    return ag.grad(lambda x: d1(f)(x).sum())


# ------------------------------------------------------------------ elementwise derivatives

X = np.array([-1.7, -0.4, 0.3, 1.1, 2.5])
POS = np.array([0.2, 0.7, 1.0, 2.5, 4.0])
LN2 = np.log(2.0)

CLOSED_FORMS = [
    ("exp", ag.exp, X, np.exp, np.exp),
    ("log", ag.log, POS, lambda x: 1 / x, lambda x: -1 / x**2),
    ("log1p", ag.log1p, POS, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2),
    ("sqrt", ag.sqrt, POS, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5),
    ("sin", ag.sin, X, np.cos, lambda x: -np.sin(x)),
    ("cos", ag.cos, X, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    (
        "tanh",
        ag.tanh,
        X,
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
    ),
    (
        "sigmoid",
        ag.sigmoid,
        X,
        lambda x: sigmoid(x) * (1 - sigmoid(x)),
        lambda x: sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x)),
    ),
    ("relu", ag.relu, X, lambda x: (x > 0) * 1.0, np.zeros_like),
    ("abs", ag.abs, X, np.sign, np.zeros_like),
    (
        "leaky_relu",
        lambda x: ag.leaky_relu(x, 0.1),
        X,
        lambda x: np.where(x > 0, 1.0, 0.1),
        np.zeros_like,
    ),
    ("negative", ag.negative, X, lambda x: -np.ones_like(x), np.zeros_like),
    ("cube", lambda x: x**3, X, lambda x: 3 * x**2, lambda x: 6 * x),
    ("inverse", lambda x: 1 / x, POS, lambda x: -1 / x**2, lambda x: 2 / x**3),
    ("exp2", lambda x: 2.0**x, X, lambda x: LN2 * 2**x, lambda x: LN2**2 * 2**x),
    (
        "x_pow_x",
        lambda x: x**x,
        POS,
        lambda x: x**x * (np.log(x) + 1),
        lambda x: x**x * ((np.log(x) + 1) ** 2 + 1 / x),
    ),
]


@pytest.mark.parametrize(
    ("name", "f", "x", "first", "second"), CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS]
)
def test_first_and_second_derivative_closed_form(name, f, x, first, second):
    np.testing.assert_allclose(d1(f)(x).numpy(), first(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(d2(f)(x).numpy(), second(x), rtol=1e-12, atol=1e-14)
    # the 0-d case, through backward(create_graph=True) instead of the transforms
    t = ag.tensor(x[3], requires_grad=True)
    y = f(t)
    y.backward(create_graph=True)
    g = t.grad
    assert g.shape == () and g.item() == pytest.approx(first(x[3]), rel=1e-13)
    t.grad = None
    if g.requires_grad:
        g.backward()
        assert t.grad.item() == pytest.approx(second(x[3]), rel=1e-12, abs=1e-14)
    else:
        assert second(x[3]) == 0


def test_tanh_and_sigmoid_third_derivatives():
    t, s = np.tanh(X), sigmoid(X)
    d3 = ag.grad(lambda x: d2(ag.tanh)(x).sum())(X).numpy()
    np.testing.assert_allclose(d3, -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-11)
    d3 = ag.grad(lambda x: d2(ag.sigmoid)(x).sum())(X).numpy()
    np.testing.assert_allclose(d3, s * (1 - s) * (1 - 6 * s + 6 * s**2), rtol=1e-11, atol=1e-15)


UNARY_ELEMENTWISE = [
    "exp",
    "log",
    "log1p",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "abs",
    "leaky_relu",
    "negative",
    "clip",
    "astype",
]
BINARY_ELEMENTWISE = ["add", "subtract", "multiply", "divide", "pow", "maximum", "minimum"]
BY_NAME = {info.name: info for info in OPINFOS}


@pytest.mark.parametrize("name", UNARY_ELEMENTWISE)
def test_second_derivative_of_unary_primitive_against_differences_of_first(name):
    info = BY_NAME[name]
    kwargs = next((s.kwargs for s in info.samples if s.shapes == ((4,),)), {})
    x = info.inputs(Sample(((4,),)), seed=3)[0]
    first = d1(lambda t: info(t, **kwargs))
    h = 1e-5
    numeric = (first(x + h).numpy() - first(x - h).numpy()) / (2 * h)
    analytic = d2(lambda t: info(t, **kwargs))(x).numpy()
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", BINARY_ELEMENTWISE)
def test_hessian_of_binary_primitive_against_differences_of_gradient(name):
    info = BY_NAME[name]
    a, b = (float(v) for v in info.inputs(Sample(((), ())), seed=5))
    gradient = ag.grad(info, argnums=(0, 1))
    hessian = ag.hessian(info, argnums=(0, 1))(a, b)
    h = 1e-5
    for j, (da, db) in enumerate([(h, 0.0), (0.0, h)]):
        plus, minus = gradient(a + da, b + db), gradient(a - da, b - db)
        for i in range(2):
            numeric = (plus[i].item() - minus[i].item()) / (2 * h)
            assert hessian[i][j].item() == pytest.approx(numeric, rel=1e-5, abs=1e-6)


# ------------------------------------------------------------------ subgradients


def grad_at(f, *values):
    tensors = [ag.tensor(v, requires_grad=True) for v in values]
    f(*tensors).sum().backward()
    return [t.grad.numpy() for t in tensors]


def test_relu_abs_leaky_relu_at_zero():
    assert grad_at(ag.relu, 0.0)[0] == 0.0
    assert grad_at(ag.abs, 0.0)[0] == 0.0
    assert grad_at(ag.leaky_relu, 0.0)[0] == 0.01  # x > 0 is false at 0, like PyTorch
    np.testing.assert_array_equal(grad_at(ag.relu, [-1.0, 0.0, 2.0])[0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_at(ag.abs, [-1.0, 0.0, 2.0])[0], [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_relu_of_a_scalar_matches_numpy_maximum(dtype):
    # 0-d values take a path without the ufunc: same values, NaN and dtype as np.maximum
    for value in [-2.5, -0.0, 0.0, 3.0, np.inf, -np.inf, np.nan]:
        x = ag.tensor(dtype(value), requires_grad=True)
        y = ag.relu(x)
        expected = np.maximum(dtype(value), 0)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.numpy(), expected)
        y.backward()
        assert x.grad.item() == (1.0 if value > 0 else 0.0)


def test_maximum_and_minimum_split_ties_equally():
    a, b = [1.0, 2.0, 3.0], [1.0, 5.0, 0.0]
    ga, gb = grad_at(ag.maximum, a, b)
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    ga, gb = grad_at(ag.minimum, a, b)
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = grad_at(ag.maximum, [[2.0, 2.0, 1.0]], 2.0)  # a broadcast scalar at ties
    np.testing.assert_array_equal(ga, [[0.5, 0.5, 0.0]])
    assert gb == 0.5 + 0.5 + 1.0


def test_max_and_min_reductions_share_ties_equally():
    x = [[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, 2.0, -1.0]]
    np.testing.assert_allclose(
        grad_at(ag.max, x)[0], [[1 / 3, 0.0, 1 / 3, 1 / 3], [0.0, 0.0, 0.0, 0.0]], rtol=1e-15
    )
    np.testing.assert_allclose(
        grad_at(lambda t: ag.max(t, axis=1), x)[0],
        [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0.5, 0.5, 0]],
        rtol=1e-15,
    )
    np.testing.assert_allclose(
        grad_at(lambda t: ag.min(t, axis=0, keepdims=True), [[1.0, 2.0], [1.0, 0.0]])[0],
        [[0.5, 0.0], [0.5, 1.0]],
    )
    np.testing.assert_array_equal(grad_at(ag.min, [2.0, 2.0])[0], [0.5, 0.5])


def test_clip_passes_gradient_at_the_bounds():
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    np.testing.assert_array_equal(
        grad_at(lambda t: ag.clip(t, -1.0, 1.0), x)[0], [0.0, 1.0, 1.0, 1.0, 0.0]
    )
    np.testing.assert_array_equal(grad_at(lambda t: t.clip(None, 0.0), x)[0], [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(grad_at(lambda t: t.clip(0.0), x)[0], [0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="clip"):
        ag.clip(ag.tensor(x), None, None)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # 0^-0.5 and log(-3)
def test_pow_with_zero_base_or_zero_exponent_like_pytorch():
    ga, gb = grad_at(ag.pow, 0.0, 2.0)  # d(a^2)/da at 0 = 0; d(0^b)/db = 0 for b >= 0
    assert ga == 0.0 and gb == 0.0
    ga, gb = grad_at(ag.pow, [0.0, 2.0, -3.0], 0.0)  # x^0 = 1: d/dx = 0 everywhere
    np.testing.assert_array_equal(ga, [0.0, 0.0, 0.0])
    assert np.isnan(gb)  # d/db = x^b log x: nan for the negative base, as in torch
    ga, gb = grad_at(ag.pow, [0.0, 2.0], 0.0)
    assert gb == np.log(2.0)
    ga, gb = grad_at(ag.pow, 0.0, 0.0)
    assert ga == 0.0 and gb == 0.0
    assert ag.pow(ag.tensor(0.0), ag.tensor(0.0)).item() == 1.0
    ga, gb = grad_at(ag.pow, [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_array_equal(ga, [1.0, np.inf])  # 0.5 * 0^-0.5, as in torch
    np.testing.assert_array_equal(gb, [0.0, 0.0])
    x = ag.tensor(0.0, requires_grad=True)
    (x**2).backward()
    assert x.grad.item() == 0.0


def test_sqrt_and_log_at_zero_give_inf_like_pytorch():
    with np.errstate(divide="ignore"):
        assert grad_at(ag.sqrt, 0.0)[0] == np.inf
        assert grad_at(ag.log, 0.0)[0] == np.inf
        assert ag.log(ag.tensor(0.0)).item() == -np.inf


# ------------------------------------------------------------------ numerical stability

BIG = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_log_softmax_logsumexp_near_1000(dtype):
    z = BIG.astype(dtype)
    shifted = BIG - BIG.max(axis=1, keepdims=True)  # the same values, small
    s = ag.softmax(ag.tensor(z), axis=1).numpy()
    ls = ag.log_softmax(ag.tensor(z), axis=1).numpy()
    lse = ag.logsumexp(ag.tensor(z), axis=1).numpy()
    tol = {"rtol": 1e-6 if dtype == np.float32 else 1e-14}
    assert s.dtype == ls.dtype == lse.dtype == dtype
    np.testing.assert_allclose(s, softmax(shifted), **tol)
    np.testing.assert_allclose(ls, shifted - np.log(np.exp(shifted).sum(1, keepdims=True)), **tol)
    np.testing.assert_allclose(
        lse,
        BIG.max(1) + np.log(np.exp(shifted).sum(1)),
        rtol=1e-6 if dtype == np.float32 else 1e-15,
    )
    for f in (lambda t: ag.softmax(t, axis=1), ag.log_softmax, lambda t: t.logsumexp(axis=1)):
        x = ag.tensor(z, requires_grad=True)
        out = f(x)
        out.backward(np.linspace(-1, 1, out.size, dtype=dtype).reshape(out.shape))
        assert np.isfinite(x.grad.numpy()).all()
    x = ag.tensor(z, requires_grad=True)
    x.logsumexp(axis=1).sum().backward()
    # exp(x - logsumexp(x)), as PyTorch: the exponent carries the rounding of values ~ 1000,
    # |x| * machine epsilon (1e-13 in float64, 6e-5 in float32)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(x.grad.numpy(), softmax(shifted), rtol=rtol)


def test_logsumexp_of_all_minus_inf_and_mixed_inf():
    assert ag.logsumexp(ag.tensor([-np.inf, -np.inf])).item() == -np.inf
    assert ag.logsumexp(ag.tensor([-np.inf, 0.0])).item() == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_tanh_at_1000(dtype):
    x = ag.tensor(np.array([-1000.0, 1000.0], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ag.sigmoid(x)
        np.testing.assert_array_equal(s.numpy(), [0.0, 1.0])
        s.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x.grad = None
    t = ag.tanh(x)
    np.testing.assert_array_equal(t.numpy(), [-1.0, 1.0])
    t.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    assert s.dtype == t.dtype == x.grad.dtype == dtype


def test_cross_entropy_with_huge_logits_is_finite_and_exact():
    z = ag.tensor(BIG, requires_grad=True)
    loss = ag.softmax_cross_entropy(z, np.array([1, 2]))
    shifted = BIG - BIG.max(axis=1, keepdims=True)
    log_s = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert loss.item() == pytest.approx(-(log_s[0, 1] + log_s[1, 2]) / 2, rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(
        z.grad.numpy(), (softmax(shifted) - np.eye(3)[[1, 2]]) / 2, rtol=1e-12, atol=1e-300
    )


# ------------------------------------------------------------------ Jacobians of neural ops

Z = np.array([0.3, -1.2, 2.0, 0.5])


def test_softmax_jacobian_is_diag_s_minus_s_st():
    s = softmax(Z)
    np.testing.assert_allclose(
        ag.jacobian(ag.softmax)(Z).numpy(), np.diag(s) - np.outer(s, s), rtol=1e-13, atol=1e-16
    )


def test_log_softmax_jacobian_is_identity_minus_one_st():
    s = softmax(Z)
    np.testing.assert_allclose(
        ag.jacobian(ag.log_softmax)(Z).numpy(), np.eye(4) - np.outer(np.ones(4), s), rtol=1e-13
    )


def test_logsumexp_gradient_is_softmax_and_hessian_is_softmax_jacobian():
    s = softmax(Z)
    np.testing.assert_allclose(ag.grad(ag.logsumexp)(Z).numpy(), s, rtol=1e-14)
    np.testing.assert_allclose(
        ag.hessian(ag.logsumexp)(Z).numpy(), np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-16
    )
    m = Z.reshape(2, 2)
    g = ag.grad(lambda t: ag.logsumexp(t, axis=0).sum())(m).numpy()
    np.testing.assert_allclose(g, softmax(m, axis=0), rtol=1e-14)


def test_softmax_along_axis_zero_of_a_matrix():
    m = np.arange(6.0).reshape(2, 3) / 3
    jac = ag.jacobian(lambda t: ag.softmax(t, axis=0))(m).numpy()
    assert jac.shape == (2, 3, 2, 3)
    s = softmax(m, axis=0)
    for j in range(3):  # columns are independent softmaxes
        col = s[:, j]
        np.testing.assert_allclose(jac[:, j, :, j], np.diag(col) - np.outer(col, col), rtol=1e-13)
        others = np.delete(jac[:, j], j, axis=-1)
        np.testing.assert_array_equal(others, 0.0)


# ------------------------------------------------------------------ reductions


def test_sum_and_mean_gradients():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(grad_at(lambda t: t.sum(axis=(0, 2)), x)[0], np.ones_like(x))
    np.testing.assert_allclose(
        grad_at(lambda t: t.mean(axis=(0, 2), keepdims=True), x)[0], np.full_like(x, 1 / 8)
    )
    weights = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(
        grad_at(lambda t: t.mean(axis=1) * weights, x)[0],
        np.broadcast_to(weights[:, None, :] / 3, x.shape),
    )
    assert ag.sum(ag.tensor(x), axis=-1).shape == (2, 3)
    assert ag.mean(ag.tensor(x), axis=(0, -1), keepdims=True).shape == (1, 3, 1)
    with pytest.raises(ValueError, match="out of bounds"):
        ag.sum(ag.tensor(x), axis=3)


def test_0d_reductions_accept_axis_0_and_minus_1_like_numpy():
    x = ag.tensor(2.5, requires_grad=True)
    for axis in (0, -1):
        y = ag.max(x, axis=axis, keepdims=True) + x.logsumexp(axis=axis) + x.sum(axis)
        assert y.shape == () and y.item() == 3 * 2.5
    with pytest.raises(ValueError, match="out of bounds"):
        x.sum(axis=1)
    # softmax's VJP reduces over its axis: second order works on 0-d too
    assert ag.grad(ag.grad(lambda t: ag.log_softmax(t) * t))(1.5).item() == 0.0


# ------------------------------------------------------------------ matmul and linear

RNG = np.random.default_rng(11)


def matmul_grads(a, b, g):
    ta, tb = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-14)
    out.backward(g)
    return ta.grad.numpy(), tb.grad.numpy()


def test_matmul_vector_vector():
    a, b, g = RNG.standard_normal(3), RNG.standard_normal(3), np.float64(1.5)
    da, db = matmul_grads(a, b, g)
    np.testing.assert_allclose(da, g * b, rtol=1e-15)
    np.testing.assert_allclose(db, g * a, rtol=1e-15)


def test_matmul_matrix_matrix_and_matrix_vector():
    a, b, g = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4))
    da, db = matmul_grads(a, b, g)
    np.testing.assert_allclose(da, g @ b.T, rtol=1e-14)
    np.testing.assert_allclose(db, a.T @ g, rtol=1e-14)
    v, gv = RNG.standard_normal(3), RNG.standard_normal(2)
    da, dv = matmul_grads(a, v, gv)  # (2,3) @ (3,) -> (2,)
    np.testing.assert_allclose(da, np.outer(gv, v), rtol=1e-14)
    np.testing.assert_allclose(dv, a.T @ gv, rtol=1e-14)
    u, gu = RNG.standard_normal(2), RNG.standard_normal(4)
    c = RNG.standard_normal((2, 4))
    du, db = matmul_grads(u, c, gu)  # (2,) @ (2,4) -> (4,)
    np.testing.assert_allclose(du, c @ gu, rtol=1e-14)
    np.testing.assert_allclose(db, np.outer(u, gu), rtol=1e-14)


def test_matmul_batched_and_broadcast():
    a, b = RNG.standard_normal((5, 2, 3)), RNG.standard_normal((3, 4))
    g = RNG.standard_normal((5, 2, 4))
    da, db = matmul_grads(a, b, g)
    np.testing.assert_allclose(da, g @ b.T, rtol=1e-14)
    np.testing.assert_allclose(db, sum(a[i].T @ g[i] for i in range(5)), rtol=1e-13)
    a, b = RNG.standard_normal((2, 1, 2, 3)), RNG.standard_normal((4, 3, 2))
    g = RNG.standard_normal((2, 4, 2, 2))
    da, db = matmul_grads(a, b, g)
    assert da.shape == a.shape and db.shape == b.shape
    expected_a = np.zeros_like(a)
    expected_b = np.zeros_like(b)
    for i in range(2):
        for j in range(4):
            expected_a[i, 0] += g[i, j] @ b[j].T
            expected_b[j] += a[i, 0].T @ g[i, j]
    np.testing.assert_allclose(da, expected_a, rtol=1e-13)
    np.testing.assert_allclose(db, expected_b, rtol=1e-13)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias):
    x, w = RNG.standard_normal((5, 3)), RNG.standard_normal((3, 2))
    b, g = RNG.standard_normal(2), RNG.standard_normal((5, 2))
    tx, tw, tb = (ag.tensor(v, requires_grad=True) for v in (x, w, b))
    out = ag.linear(tx, tw, tb if bias else None)
    np.testing.assert_allclose(out.numpy(), x @ w + (b if bias else 0), rtol=1e-14)
    out.backward(g)
    np.testing.assert_allclose(tx.grad.numpy(), g @ w.T, rtol=1e-14)
    np.testing.assert_allclose(tw.grad.numpy(), x.T @ g, rtol=1e-14)
    if bias:
        np.testing.assert_allclose(tb.grad.numpy(), g.sum(axis=0), rtol=1e-14)
    else:
        assert tb.grad is None
    with pytest.raises(ValueError, match=r"linear.*2-d"):
        ag.linear(tx, ag.tensor(np.ones(3)))


# ------------------------------------------------------------------ softmax cross-entropy

LOGITS = RNG.standard_normal((6, 4))
LABELS = np.array([0, 3, 1, 1, 2, 3])
ONE_HOT = np.eye(4)[LABELS]


@pytest.mark.parametrize("target", [LABELS, ONE_HOT], ids=["labels", "one_hot"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_is_s_minus_i_y_over_m(target, reduction):
    z = ag.tensor(LOGITS, requires_grad=True)
    loss = ag.softmax_cross_entropy(z, target, reduction=reduction)
    s = softmax(LOGITS)
    per_sample = -np.log(s[np.arange(6), LABELS])
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}
    np.testing.assert_allclose(loss.numpy(), expected[reduction], rtol=1e-13)
    g = np.arange(1.0, 7.0) if reduction == "none" else None
    loss.backward(g)
    weight = {"mean": 1 / 6, "sum": 1.0, "none": np.arange(1.0, 7.0)[:, None]}[reduction]
    np.testing.assert_allclose(z.grad.numpy(), (s - ONE_HOT) * weight, rtol=1e-12, atol=1e-17)


def test_cross_entropy_hessian_is_softmax_jacobian_over_m():
    z = LOGITS[:2]
    h = ag.hessian(lambda t: ag.softmax_cross_entropy(t, LABELS[:2]))(z).numpy()
    assert h.shape == (2, 4, 2, 4)
    for i in range(2):
        s = softmax(z[i])
        np.testing.assert_allclose(h[i, :, i, :], (np.diag(s) - np.outer(s, s)) / 2, atol=1e-15)
        np.testing.assert_array_equal(h[i, :, 1 - i, :], 0.0)


def test_two_layer_network_gradients_match_the_notes_formulas():
    # h(X) = tanh(X W1) W2, L = cross-entropy: dW2 = A^T (S - I_y)/m,
    # dW1 = X^T ((S - I_y)/m W2^T * (1 - A^2)) with A = tanh(X W1)
    x, w1, w2 = (
        RNG.standard_normal((6, 3)),
        RNG.standard_normal((3, 5)),
        RNG.standard_normal((5, 4)),
    )
    t1, t2 = ag.tensor(w1, requires_grad=True), ag.tensor(w2, requires_grad=True)
    ag.softmax_cross_entropy(ag.tanh(ag.tensor(x) @ t1) @ t2, LABELS).backward()
    a = np.tanh(x @ w1)
    residual = (softmax(a @ w2) - ONE_HOT) / 6
    np.testing.assert_allclose(t2.grad.numpy(), a.T @ residual, rtol=1e-12)
    np.testing.assert_allclose(t1.grad.numpy(), x.T @ (residual @ w2.T * (1 - a**2)), rtol=1e-12)


def test_cross_entropy_soft_targets_and_errors():
    probs = softmax(RNG.standard_normal((6, 4)))
    z = ag.tensor(LOGITS, requires_grad=True)
    loss = ag.softmax_cross_entropy(z, probs)
    s = softmax(LOGITS)
    assert loss.item() == pytest.approx(-(probs * np.log(s)).sum() / 6, rel=1e-13)
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), (s - probs) / 6, rtol=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        ag.softmax_cross_entropy(z, LABELS, reduction="avg")
    with pytest.raises(ValueError, match=r"shape \(4,\) must have shape \(\), got \(1,\)"):
        ag.softmax_cross_entropy(ag.tensor(np.ones(4)), np.array([1]))  # (k,) logits: one label
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        ag.softmax_cross_entropy(z, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        ag.softmax_cross_entropy(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\(6, 4\)"):
        ag.softmax_cross_entropy(z, np.ones((6, 3)))


def test_cross_entropy_float32_keeps_float32():
    z = ag.tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = ag.softmax_cross_entropy(z, LABELS)
    assert loss.dtype == np.float32
    loss.backward()
    assert z.grad.dtype == np.float32
    np.testing.assert_allclose(
        z.grad.numpy(), (softmax(LOGITS) - ONE_HOT) / 6, rtol=1e-5, atol=1e-7
    )


# ------------------------------------------------------------------ dtype casts


def test_astype_gradient_is_cast_back_to_the_input_dtype():
    x = ag.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    z = ag.tensor([1.5, 2.5], requires_grad=True)
    assert not z.astype(np.int64).requires_grad  # an integer result leaves the graph
    np.testing.assert_array_equal(z.astype(np.int64).numpy(), [1, 2])
    for dtype in (np.int64, np.bool_, np.float32, np.float16):  # 0-d: a numpy scalar result
        scalar = ag.tensor(1.5, requires_grad=True).astype(dtype)
        assert scalar.requires_grad is (np.dtype(dtype).kind == "f")
        assert type(scalar.data) is np.dtype(dtype).type


def test_mixed_precision_binary_op_gives_each_input_its_own_dtype():
    a = ag.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = ag.tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64  # numpy promotion
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0])
