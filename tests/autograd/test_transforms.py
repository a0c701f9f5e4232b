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
