"""Custom primitives (``ag.Function``) and the gradient checkers themselves:
``numerical_grad``, ``gradcheck`` (which must catch a wrong VJP and say where) and
``gradgradcheck`` (which must catch a wrong second derivative)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x**2


class ScaledProduct(ag.Function):
    """``a * b * scale``: two tensor inputs and a non-tensor one (gradient None)."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b * ctx.scale, grad_output * a * ctx.scale, None


class WrongCube(Cube):
    """Cube's forward with a deliberately wrong VJP: 2x^2 instead of 3x^2."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x**2


class TooFewGrads(ag.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WrongShapeGrad(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return np.ones(7)


# ------------------------------------------------------------------ ag.Function


def test_custom_function_value_and_gradient():
    x = ag.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = Cube.apply(x)
    assert isinstance(y, ag.Tensor) and y.requires_grad
    assert "Cube" in repr(y)
    np.testing.assert_array_equal(y.numpy(), [1.0, -8.0, 0.125])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0, 0.75])


def test_custom_function_composes_and_passes_gradcheck():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    assert ag.gradcheck(lambda t: ag.sin(Cube.apply(t * 2)).sum(), [x])
    a, b = np.array([1.0, 2.0, 3.0]), np.array([[0.5], [-1.5]])  # broadcast pair
    assert ag.gradcheck(lambda s, t: ScaledProduct.apply(s, t, 1.5), [a, b])


def test_custom_function_with_constant_inputs():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = np.array([3.0, 4.0])  # a raw array: no gradient asked for
    out = ScaledProduct.apply(a, b, 2.0)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 8.0])
    with ag.no_grad():
        assert not ScaledProduct.apply(a, b, 2.0).requires_grad


def test_ctx_needs_input_grad():
    seen = []

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    Probe.apply(ag.tensor(1.0, requires_grad=True), ag.tensor(2.0))
    assert seen == [(True, False)]


def test_wrong_number_of_returned_gradients_is_a_clear_error():
    a = ag.tensor([1.0], requires_grad=True)
    b = ag.tensor([2.0], requires_grad=True)
    out = TooFewGrads.apply(a, b).sum()
    with pytest.raises(RuntimeError, match="TooFewGrads.backward returned 1 gradients.*2 inputs"):
        out.backward()


def test_wrong_gradient_shape_is_a_clear_error():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"WrongShapeGrad.backward.*\(7,\).*\(2,\)"):
        WrongShapeGrad.apply(x).sum().backward()


def test_function_without_overrides_raises():
    class Empty(ag.Function):
        pass

    with pytest.raises(NotImplementedError, match="forward"):
        Empty.apply(ag.tensor(1.0))


# ------------------------------------------------------------------ numerical_grad


def test_numerical_grad_values():
    x, y = np.array([1.0, 2.0, 3.0]), np.array(0.5)
    gx, gy = ag.numerical_grad(lambda a, b: (a**2).sum() * b, [x, y])
    np.testing.assert_allclose(gx, 2 * x * 0.5, rtol=1e-8)
    np.testing.assert_allclose(gy, 14.0, rtol=1e-8)
    assert gx.dtype == np.float64 and gy.shape == ()
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])  # inputs restored


def test_numerical_grad_projection_and_non_float_inputs():
    x = np.array([0.1, 0.2])
    v = np.array([2.0, -1.0])
    (g,) = ag.numerical_grad(ag.exp, [x], grad_output=v)
    np.testing.assert_allclose(g, v * np.exp(x), rtol=1e-8)
    g, none = ag.numerical_grad(lambda a, idx: a[idx].sum(), [x, np.array([1, 1])])
    np.testing.assert_allclose(g, [0.0, 2.0], atol=1e-9)
    assert none is None
    with pytest.raises(ValueError, match=r"shape \(2,\).*grad_output"):
        ag.numerical_grad(ag.exp, [x])


def test_numerical_grad_eps_controls_the_error():
    x = np.array([1.0])
    coarse = ag.numerical_grad(lambda t: (t**3).sum(), [x], eps=1e-1)[0]
    fine = ag.numerical_grad(lambda t: (t**3).sum(), [x], eps=1e-4)[0]
    # central differences: error = eps^2 f'''/6 = eps^2 exactly for a cubic
    assert coarse[0] == pytest.approx(3.0 + 1e-2, rel=1e-10)
    assert abs(fine[0] - 3.0) < 1e-7


# ------------------------------------------------------------------ gradcheck


def test_gradcheck_passes_on_correct_and_catches_wrong_vjp():
    x = np.array([[0.5, -1.0], [1.5, 2.0]])
    assert ag.gradcheck(Cube.apply, [x]) is True
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda t: WrongCube.apply(t), [x])
    message = str(info.value)
    assert re.search(r"input 0 at element \(0, 0\)", message), message
    # element (0, 0) is x = 0.5: analytic 2 x^2 v, numerical 3 x^2 v (v: the projection)
    number = r"(?:np\.float64\()?(-?[\d.]+(?:e[-+]?\d+)?)"
    analytic = float(re.search("analytic " + number, message).group(1))
    numerical = float(re.search("numerical " + number, message).group(1))
    assert numerical == pytest.approx(1.5 * analytic, rel=1e-6)
    assert "analytic" in message and "numerical" in message and "4 of 4" in message


def test_gradcheck_names_the_failing_input_among_several():
    def f(a, b):
        return (a * 2).sum() + WrongCube.apply(b).sum()

    with pytest.raises(ag.GradcheckError, match=r"input 1 at element \(1,\)"):
        ag.gradcheck(f, [np.ones(3), np.array([0.0, 1.0])])


def test_gradcheck_raise_exception_false_returns_false():
    x = np.array([0.5, 1.0])
    assert ag.gradcheck(WrongCube.apply, [x], raise_exception=False) is False
    assert ag.gradcheck(Cube.apply, [x], raise_exception=False) is True


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(ag.GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        ag.gradcheck(WrongCube.apply, [np.array([2.0])])


def test_gradcheck_tolerances_and_single_input_forms():
    x = np.array([1.0])
    # 2x^2 vs 3x^2 at x = 1: off by 1, inside atol=2
    assert ag.gradcheck(WrongCube.apply, x, atol=2.0, rtol=0.0)
    assert ag.gradcheck(WrongCube.apply, ag.tensor(x), atol=0.0, rtol=0.5)
    assert not ag.gradcheck(WrongCube.apply, x, atol=0.0, rtol=0.2, raise_exception=False)


def test_gradcheck_warns_on_float32_inputs():
    with pytest.warns(UserWarning, match="float32"):
        ag.gradcheck(ag.sin, [np.ones(2, np.float32)], eps=1e-2, atol=1e-2)


# ------------------------------------------------------------------ gradgradcheck


def _detached(value):
    return value.detach() if isinstance(value, ag.Tensor) else value


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # tanh's VJP g (1 - out^2) with out treated as a constant: first order right,
    # second order missing d(out)/dx. gradcheck passes, gradgradcheck must not.
    from autograd.primitive import apply

    frozen = ag.Primitive(
        "tanh_frozen_out",
        np.tanh,
        vjps=(lambda xp, g, out, x: g * (1 - _detached(out) ** 2),),
        register=False,
    )
    x = np.array([0.3, -0.8])
    assert ag.gradcheck(lambda t: apply(frozen, (t,)), [x])
    with pytest.raises(ag.GradcheckError, match="input 0"):
        ag.gradgradcheck(lambda t: apply(frozen, (t,)), [x])
    assert ag.gradgradcheck(ag.tanh, [x])


def test_custom_function_gradient_is_constant_under_create_graph():
    # documented: a Function's backward runs on ndarrays, so no second derivative
    x = ag.tensor(2.0, requires_grad=True)
    (g,) = ag.gradients(Cube.apply(x), [x], create_graph=True)
    assert g.item() == 12.0 and not g.requires_grad
