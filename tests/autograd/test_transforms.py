"""Functional transforms: grad (nested, tuple argnums), value_and_grad, vjp, jvp,
jacobian, hessian and gradients, with Tensors, ndarrays and Python floats."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 3))


def quadratic(x):
    """x^T A x, with gradient (A + A^T) x and Hessian A + A^T."""
    return x @ (ag.tensor(A) @ x)


@pytest.mark.parametrize(
    "x",
    [0.7, np.float64(0.7), np.array(0.7), ag.tensor(0.7)],
    ids=["float", "npscalar", "0d", "tensor"],
)
def test_grad_accepts_floats_arrays_and_tensors(x):
    g = ag.grad(ag.sin)(x)
    assert isinstance(g, ag.Tensor) and g.shape == ()
    assert g.item() == pytest.approx(np.cos(0.7), rel=1e-15)


def test_grad_of_vector_function():
    x = RNG.standard_normal(3)
    g = ag.grad(quadratic)(x)
    assert g.shape == (3,)
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ x, rtol=1e-13)


def test_nested_grad_gives_higher_derivatives():
    def f(x):
        return x**3 * ag.exp(x)

    x = 0.4
    e = np.exp(x)
    assert ag.grad(f)(x).item() == pytest.approx((3 * x**2 + x**3) * e, rel=1e-14)
    assert ag.grad(ag.grad(f))(x).item() == pytest.approx((6 * x + 6 * x**2 + x**3) * e, rel=1e-13)
    third = ag.grad(ag.grad(ag.grad(f)))(x).item()
    assert third == pytest.approx((6 + 18 * x + 9 * x**2 + x**3) * e, rel=1e-13)
    assert ag.grad(ag.grad(ag.grad(ag.sin)))(x).item() == pytest.approx(-np.cos(x), rel=1e-14)


def test_grad_of_a_closure_over_a_gradient():
    # d/dy [ d/dx (x^2 y^3) at x=2 ] = d/dy (4 y^3) = 12 y^2
    def inner(y):
        return ag.grad(lambda x: x**2 * y**3)(2.0)

    assert ag.grad(inner)(1.5).item() == pytest.approx(12 * 1.5**2, rel=1e-14)


def test_tuple_argnums():
    def f(x, y, z):
        return (x * y).sum() + z**2

    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    gx, gz = ag.grad(f, argnums=(0, 2))(x, y, 4.0)
    np.testing.assert_array_equal(gx.numpy(), y)
    assert gz.item() == 8.0
    (gy,) = ag.grad(f, argnums=(1,))(x, y, 4.0)
    np.testing.assert_array_equal(gy.numpy(), x)
    assert ag.grad(f, argnums=-1)(x, y, 4.0).item() == 8.0


def test_grad_does_not_touch_dot_grad_of_arguments():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    g = ag.grad(lambda t: (t * t).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    assert x.grad is None


def test_grad_errors():
    with pytest.raises(ValueError, match="scalar"):
        ag.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match="floating-point.*3.0"):
        ag.grad(lambda x: x * 2)(3)
    with pytest.raises(ValueError, match="argnums"):
        ag.grad(lambda x: x, argnums=1)(1.0)


def test_grad_of_function_ignoring_its_input_is_zero():
    g = ag.grad(lambda x: ag.tensor(5.0))(np.ones(2))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_value_and_grad():
    x = RNG.standard_normal(3)
    value, g = ag.value_and_grad(quadratic)(x)
    assert value.item() == pytest.approx(x @ A @ x, rel=1e-14)
    assert not value.requires_grad
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ x, rtol=1e-13)
    value, (g0, g1) = ag.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 5.0)
    assert (value.item(), g0.item(), g1.item()) == (10.0, 5.0, 2.0)


def test_vjp():
    def f(x, y):
        return ag.tanh(x) * y

    x, y = np.array([0.2, -0.5, 1.0]), np.array([2.0, 3.0, -1.0])
    out, vjp_fn = ag.vjp(f, x, y)
    np.testing.assert_allclose(out.numpy(), np.tanh(x) * y)
    v = np.array([1.0, -2.0, 0.5])
    gx, gy = vjp_fn(v)
    np.testing.assert_allclose(gx.numpy(), v * y * (1 - np.tanh(x) ** 2), rtol=1e-14)
    np.testing.assert_allclose(gy.numpy(), v * np.tanh(x), rtol=1e-14)
    gx2, _ = vjp_fn(2 * v)  # vjp_fn can be called again
    np.testing.assert_allclose(gx2.numpy(), 2 * gx.numpy(), rtol=1e-14)


def test_vjp_of_matrix_function_matches_transposed_jacobian():
    x = RNG.standard_normal((2, 3))
    out, vjp_fn = ag.vjp(lambda t: ag.softmax(t) * t, x)
    v = RNG.standard_normal(out.shape)
    (g,) = vjp_fn(v)
    jac = ag.jacobian(lambda t: ag.softmax(t) * t)(x).numpy()
    np.testing.assert_allclose(g.numpy(), np.einsum("ij,ijkl->kl", v, jac), rtol=1e-12)


def test_jvp_against_finite_differences():
    def f(x, y):
        return ag.sin(x) * y + x**2

    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    tx, ty = RNG.standard_normal(4), RNG.standard_normal(4)
    out, tangent = ag.jvp(f, (x, y), (tx, ty))
    np.testing.assert_allclose(out.numpy(), np.sin(x) * y + x**2, rtol=1e-15)
    h = 1e-6

    def raw(x, y):
        return np.sin(x) * y + x**2

    numeric = (raw(x + h * tx, y + h * ty) - raw(x - h * tx, y - h * ty)) / (2 * h)
    np.testing.assert_allclose(tangent.numpy(), numeric, rtol=1e-7, atol=1e-9)
    exact = np.cos(x) * y * tx + 2 * x * tx + np.sin(x) * ty
    np.testing.assert_allclose(tangent.numpy(), exact, rtol=1e-13)


def test_jvp_of_matmul_and_shape_errors():
    m = RNG.standard_normal((2, 3))
    x, t = RNG.standard_normal(3), RNG.standard_normal(3)
    _, tangent = ag.jvp(lambda v: ag.tensor(m) @ v, (x,), (t,))
    np.testing.assert_allclose(tangent.numpy(), m @ t, rtol=1e-14)
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        ag.jvp(ag.sin, (x,), (np.ones(2),))
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        ag.jvp(ag.sin, (x,), (t, t))
    with pytest.raises(TypeError, match=r"primals must be a tuple or list.*ag.jvp\(f, \(x,\)"):
        ag.jvp(lambda a, b: a * b, np.array([1.0, 2.0]), np.array([1.0, 0.0]))  # was rows


def test_jvp_of_constant_function_is_zero():
    out, tangent = ag.jvp(lambda x: x * 0 + 1, (np.ones(2),), (np.ones(2),))
    np.testing.assert_array_equal(tangent.numpy(), [0.0, 0.0])


def test_jacobian_shapes_and_values():
    m = RNG.standard_normal((2, 3))
    x = RNG.standard_normal(3)
    jac = ag.jacobian(lambda v: ag.tensor(m) @ v)(x)
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac.numpy(), m, rtol=1e-15)

    xs = RNG.standard_normal((2, 3))
    jac = ag.jacobian(lambda v: v**2)(xs)
    assert jac.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(jac.numpy().reshape(6, 6), np.diag(2 * xs.ravel()), rtol=1e-15)

    jac = ag.jacobian(lambda v: (v * v).sum())(xs)  # scalar out: the gradient
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac.numpy(), 2 * xs)

    jac = ag.jacobian(lambda s: ag.stack([s, s**2, s**3]))(2.0)  # 0-d input
    assert jac.shape == (3,)
    np.testing.assert_allclose(jac.numpy(), [1.0, 4.0, 12.0])


def test_jacobian_tuple_argnums():
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    jx, jy = ag.jacobian(lambda a, b: a[:2] * b, argnums=(0, 1))(x, y)
    assert jx.shape == (2, 3) and jy.shape == (2, 2)
    np.testing.assert_allclose(jx.numpy(), np.hstack([np.diag(y), np.zeros((2, 1))]))
    np.testing.assert_allclose(jy.numpy(), np.diag(x[:2]))


def test_hessian_closed_forms():
    x = RNG.standard_normal(3)
    h = ag.hessian(quadratic)(x)
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h.numpy(), A + A.T, rtol=1e-13)
    h = ag.hessian(lambda v: ag.exp(v).sum())(x)
    np.testing.assert_allclose(h.numpy(), np.diag(np.exp(x)), rtol=1e-14)
    h = ag.hessian(lambda m: (m**3).sum())(np.array([[1.0, 2.0]]))
    assert h.shape == (1, 2, 1, 2)
    np.testing.assert_allclose(h.numpy().reshape(2, 2), np.diag([6.0, 12.0]))
    assert ag.hessian(ag.sin)(0.5).item() == pytest.approx(-np.sin(0.5), rel=1e-14)


def test_hessian_tuple_argnums_gives_blocks():
    def f(x, y):
        return (x * y).sum() + (x**2).sum() * y[0]

    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    (hxx, hxy), (hyx, hyy) = ag.hessian(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(hxx.numpy(), 2 * y[0] * np.eye(2))
    np.testing.assert_allclose(hxy.numpy(), np.eye(2) + np.outer(2 * x, [1.0, 0.0]))
    np.testing.assert_allclose(hyx.numpy(), hxy.numpy().T)
    np.testing.assert_allclose(hyy.numpy(), np.zeros((2, 2)))


def test_gradients_like_torch_autograd_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    unused = ag.tensor([5.0], requires_grad=True)
    y = x * x
    z = (y * 3).sum()
    gx, gy, gu = ag.gradients(z, [x, y, unused])
    np.testing.assert_array_equal(gx.numpy(), 6 * x.numpy())
    np.testing.assert_array_equal(gy.numpy(), [3.0, 3.0])  # a non-leaf input
    np.testing.assert_array_equal(gu.numpy(), [0.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.gradients(z, [x])


def test_gradients_create_graph_then_second_order():
    x = ag.tensor([0.5, -0.3], requires_grad=True)
    (g,) = ag.gradients(ag.tanh(x).sum(), [x], create_graph=True)
    assert g.requires_grad
    (gg,) = ag.gradients(g.sum(), [x])
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t**2), rtol=1e-14)


def test_transforms_keep_float32():
    x = np.array([0.5, 1.0], np.float32)
    assert ag.grad(lambda t: (t * t).sum())(x).dtype == np.float32
    assert ag.grad(lambda t: t * t)(np.float32(3.0)).dtype == np.float32
    assert ag.jacobian(ag.tanh)(x).dtype == np.float32
    assert ag.hessian(lambda t: (t**3).sum())(x).dtype == np.float32
    out, tangent = ag.jvp(ag.sin, (x,), (np.ones(2, np.float32),))
    assert out.dtype == tangent.dtype == np.float32
    _, vjp_fn = ag.vjp(ag.sin, x)
    assert vjp_fn(np.ones(2))[0].dtype == np.float32


# ------------------------------------------------------------------ issue 13, item 5
def test_duplicate_argnums_give_the_full_gradient_in_each_slot():
    # as JAX: d(ab)/da = b = 2 in both slots (it was (0., 2.))
    ga, gb = ag.grad(lambda a, b: a * b, argnums=(0, 0))(1.0, 2.0)
    assert (ga.item(), gb.item()) == (2.0, 2.0)
    value, grads = ag.value_and_grad(lambda a, b: a * b**2, argnums=(1, 0, 1))(3.0, 2.0)
    assert value.item() == 12.0
    assert [g.item() for g in grads] == [12.0, 4.0, 12.0]


def test_gradients_of_a_tensor_listed_twice():
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    g1, g2 = ag.gradients(y, [x, x], retain_graph=True)  # was IndexError
    np.testing.assert_array_equal(g1.numpy(), [2.0, 6.0])
    np.testing.assert_array_equal(g2.numpy(), [2.0, 6.0])
    h = x * 2  # a non-leaf, listed through two tensor objects of the same node
    from autograd.tensor import result_tensor

    twin = result_tensor(h.data, h._node)
    gh, gt, gx = ag.gradients((h * h).sum(), [h, twin, x])
    np.testing.assert_array_equal(gh.numpy(), [4.0, 12.0])
    np.testing.assert_array_equal(gt.numpy(), [4.0, 12.0])
    np.testing.assert_array_equal(gx.numpy(), [8.0, 24.0])


def test_gradients_like_torch_when_a_tensor_is_listed_twice():
    torch = pytest.importorskip("torch")
    w = np.array([0.5, -1.5, 2.0])
    tw = torch.tensor(w, requires_grad=True)
    expected = torch.autograd.grad((tw**3).sum(), [tw, tw])
    x = ag.tensor(w, requires_grad=True)
    for g, e in zip(ag.gradients((x**3).sum(), [x, x]), expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-15)


def test_an_inner_transform_never_confuses_its_argument_with_a_closure():
    # perturbation confusion: d/dy [d/dx (x y) at x = y] = d/dy y = 1 (JAX, torch.func);
    # it was 2 when the inner input was the outer tensor itself
    assert ag.grad(lambda y: ag.grad(lambda x: x * y)(y))(3.0).item() == 1.0

    # two positions holding the same tensor are two inputs: (d/da, d/db) of a b = (b, a)
    def inner(t):
        ga, gb = ag.grad(lambda a, b: a * b**2, argnums=(0, 1))(t, t)
        return ga + gb  # t^2 + 2 t^2

    assert ag.grad(inner)(1.5).item() == pytest.approx(6 * 1.5)


# ------------------------------------------------------------------ issue 13, item 7
@pytest.mark.parametrize(
    ("f", "named"),
    [
        (lambda v: v > 0, "dtype bool.*comparison"),
        (lambda v: "abc", "str.*'abc'"),
        (lambda v: 3, "int.*3"),
        (lambda v: (v * 2).astype(np.int64), "dtype int64"),
        (lambda v: None, "NoneType|one scalar"),
    ],
    ids=["bool", "str", "int", "int-tensor", "none"],
)
def test_grad_of_a_non_float_result_is_a_type_error_naming_it(f, named):
    with pytest.raises(TypeError, match=named):
        ag.grad(f)(1.0)  # each returned 0.0 before


def test_other_transforms_refuse_non_float_results():
    with pytest.raises(TypeError, match=r"jacobian: f's output\[1\] is a Tensor of dtype bool"):
        ag.jacobian(lambda v: (v * 2, v > 0))(np.ones(2))
    with pytest.raises(TypeError, match="vjp: f's output is a str"):
        ag.vjp(lambda v: "out", 1.0)
    x = ag.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="gradients: output is a Tensor of dtype bool"):
        ag.gradients(x > 0, [x])


def test_complex_tangents_and_cotangents_are_type_errors():
    with pytest.raises(TypeError, match="jvp: tangent 0 is complex"):
        ag.jvp(lambda x: x * 2, (1.0,), (1 + 2j,))  # it returned 0
    with pytest.raises(TypeError, match=r"jvp: tangent 0\['b'\] is complex"):
        ag.jvp(lambda p: p["a"] * p["b"], ({"a": 1.0, "b": 2.0},), ({"a": 1.0, "b": 1j},))
    _, vjp_fn = ag.vjp(lambda x: x * 2, np.ones(2))
    with pytest.raises(TypeError, match="vjp_fn: the cotangent is complex"):
        vjp_fn(np.array([1.0, 1j]))
    with pytest.raises(TypeError, match="must be real numbers"):
        vjp_fn(np.array(["a", "b"]))


# ------------------------------------------------------------------ issue 13, item 10
def test_vjp_fn_is_differentiable_with_respect_to_its_cotangent():
    out, f_vjp = ag.vjp(lambda x: 3 * x * x, 2.0)
    assert out.item() == 12.0
    # f_vjp(u) = 6 x u, so d/du = 6 x = 12 (it was 0.0: create_graph was fixed at vjp time)
    assert ag.grad(lambda u: f_vjp(u)[0])(1.0).item() == 12.0
    (g,) = f_vjp(1.0)  # a constant cotangent, outside any transform: a constant result
    assert g.item() == 12.0 and not g.requires_grad
    u = ag.tensor(0.5, requires_grad=True)  # a cotangent that requires grad keeps the graph
    (g,) = f_vjp(u)
    g.backward()
    assert u.grad.item() == 12.0


def test_vjp_fn_of_a_tuple_output_is_linear_in_each_cotangent():
    def f(x):
        return ag.sin(x), x**3

    x = np.array([0.3, -0.7])
    _, f_vjp = ag.vjp(f, x)
    jac = np.diag(np.cos(x)), np.diag(3 * x**2)

    def pulled(u, w):
        return f_vjp((u, w))[0].sum()

    du, dw = ag.grad(pulled, argnums=(0, 1))(np.ones(2), np.ones(2))
    np.testing.assert_allclose(du.numpy(), jac[0].sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(dw.numpy(), jac[1].sum(axis=1), rtol=1e-15)


def test_vjp_fn_differentiable_like_torch():
    torch = pytest.importorskip("torch")
    x0 = np.array([0.4, -1.1, 2.0])
    _, t_vjp = torch.func.vjp(lambda x: torch.tanh(x) * x, torch.tensor(x0))
    expected = torch.func.grad(lambda u: (t_vjp(u)[0] ** 2).sum())(
        torch.ones(3, dtype=torch.float64)
    )
    _, f_vjp = ag.vjp(lambda x: ag.tanh(x) * x, x0)
    got = ag.grad(lambda u: (f_vjp(u)[0] ** 2).sum())(np.ones(3))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-14)


# ------------------------------------------------------------------ issue 13, item 11
def _model_and_data():
    import nn

    model = nn.Linear(3, 2, dtype=np.float64, rng=0)
    data = np.random.default_rng(1).standard_normal((4, 3))
    labels = np.array([0, 1, 1, 0])
    return model, data, lambda logits: nn.F.cross_entropy(logits, labels[: len(logits)])


def test_a_hessian_of_a_function_ignoring_its_argument_warns_with_the_remedy():
    model, data, loss = _model_and_data()
    w0 = model.weight.numpy().copy()
    with pytest.warns(ag.ClosureWarning, match="nn.functional_call") as record:
        h = ag.hessian(lambda w: loss(model(data)))(w0)  # silent zeros before
    np.testing.assert_array_equal(h.numpy(), np.zeros((3, 2, 3, 2)))
    assert len(record) == 1
    message = str(record[0].message)
    assert "argument 0" in message and "(2,), (3, 2)" in message and "pass those tensors" in message
    assert record[0].filename == __file__  # points at the call site, not into autograd


def test_passing_the_closed_over_tensor_itself_is_named_in_the_warning():
    model, data, loss = _model_and_data()
    with pytest.warns(ag.ClosureWarning, match="reads the tensor passed as argument 0 from its"):
        g = ag.grad(lambda w: loss(model(data)))(model.weight)
    np.testing.assert_array_equal(g.numpy(), np.zeros((3, 2)))
    with pytest.warns(ag.ClosureWarning, match=r"argument 0\['bias'\]"):  # one entry ignored
        ag.grad(lambda p: loss(data @ p["weight"] + model.bias))(
            {"weight": model.weight.numpy(), "bias": model.bias.numpy()}
        )


def test_the_closure_warning_comes_once_per_call_site():
    model, data, loss = _model_and_data()
    import warnings

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        for _ in range(3):
            ag.grad(lambda w: loss(model(data)))(np.ones((3, 2)))
    assert [type(r.message) for r in record] == [ag.ClosureWarning]
    assert issubclass(ag.ClosureWarning, UserWarning)


def test_legitimate_closures_stay_quiet(recwarn):
    model, data, loss = _model_and_data()
    g = ag.grad(lambda x: loss(model(x)))(data)  # the gradient w.r.t. the input: legitimate
    h = ag.hessian(lambda x: loss(model(x)))(data[:1])  # the Hessian w.r.t. the input
    inner = ag.grad(lambda y: ag.grad(lambda x: x**2 * y**3)(2.0))(1.5)  # over an outer argument
    unused = ag.grad(lambda a, b: (a * 2).sum(), argnums=(0, 1))(np.ones(2), np.ones(2))
    # the Hessian of a function linear in x is 0 although the gradient reads the closure
    linear = ag.hessian(lambda x: (x @ model.weight).sum())(np.ones(3))
    np.testing.assert_array_equal(linear.numpy(), np.zeros((3, 3)))
    assert not [r for r in recwarn if issubclass(r.category, ag.ClosureWarning)]
    assert g.shape == data.shape and h.shape == (1, 3, 1, 3) and inner.item() == 27.0
    np.testing.assert_array_equal(unused[1].numpy(), [0.0, 0.0])  # no closure: no warning


def test_a_gradient_through_closed_over_parameters_stays_connected_to_them():
    # a critic with a gradient penalty, loss = critic(x) + ||d critic/dx||^2: the penalty's
    # share of d loss/dW was silently 0 (the inner gradient was computed without
    # create_graph, as no argument required grad)
    w0 = np.array([[0.5, -1.0], [2.0, 0.3]])
    x0 = np.array([0.7, -0.2])
    w = ag.tensor(w0, requires_grad=True)

    def critic(x):
        return ag.tanh(x @ w).sum()

    g = ag.grad(critic)(x0)
    assert g.requires_grad
    (critic(x0) + (g**2).sum()).backward()
    t = np.tanh(x0 @ w0)
    s = 1 - t**2  # critic'(z); g = w s
    u = w0 @ s
    expected = np.outer(x0, s) + 2 * np.outer(u, s) + 2 * np.outer(x0, (w0.T @ u) * -2 * t * s)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-13)
    with ag.no_grad():  # the opt-out: a first-order constant
        assert not ag.grad(critic)(x0).requires_grad


def test_gradient_penalty_like_torch_func():
    torch = pytest.importorskip("torch")
    w0 = np.random.default_rng(5).standard_normal((3, 2))
    x0 = np.random.default_rng(6).standard_normal(3)
    tw = torch.tensor(w0, requires_grad=True)
    tg = torch.func.grad(lambda x: torch.sigmoid(x @ tw).sum())(torch.tensor(x0))
    (tg**2).sum().backward()
    w = ag.tensor(w0, requires_grad=True)
    g = ag.grad(lambda x: ag.sigmoid(x @ w).sum())(x0)
    (g**2).sum().backward()
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-13)


def test_a_transform_leaves_graphs_recorded_before_it_intact():
    x = ag.tensor([0.5, 1.0], requires_grad=True)
    h = ag.tanh(x)  # the caller's graph, closed over or passed below
    with ag.no_grad():  # first-order passes: they must not free h's graph
        g = ag.grad(lambda v: (v * h).sum())(np.ones(2))
        gh = ag.grad(lambda v: (v**2).sum())(h)
    np.testing.assert_allclose(g.numpy(), np.tanh([0.5, 1.0]), rtol=1e-15)
    np.testing.assert_allclose(gh.numpy(), 2 * np.tanh([0.5, 1.0]), rtol=1e-15)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh([0.5, 1.0]) ** 2, rtol=1e-15)
    _, f_vjp = ag.vjp(lambda v: v**3, 2.0)
    for _ in range(2):  # vjp_fn's graph survives the transforms that differentiate it
        assert ag.grad(lambda u: f_vjp(u)[0])(1.0).item() == 12.0
