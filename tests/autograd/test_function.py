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


def test_a_backward_that_is_not_differentiable_refuses_higher_derivatives():
    # the first-order gradient through it is right, even under create_graph ...
    x = ag.tensor(2.0, requires_grad=True)
    (g,) = ag.gradients(Cube.apply(x), [x], create_graph=True)
    assert g.item() == 12.0
    # ... but differentiating it raises (PyTorch's once_differentiable): it was a silent 0
    with pytest.raises(RuntimeError, match="Cube.backward is not differentiable.*differentiable_"):
        g.backward()
    with pytest.raises(RuntimeError, match="Cube.backward is not differentiable"):
        ag.grad(ag.grad(Cube.apply))(2.0)
    with pytest.raises(RuntimeError, match="Cube.backward is not differentiable"):
        ag.jvp(Cube.apply, (2.0,), (1.0,))  # the double-VJP trick differentiates backward


class DifferentiableCube(Cube):
    """Cube with the opt-in: its backward (operators only) then records a graph."""

    differentiable_backward = True


class SoftplusOfOutput(ag.Function):
    """``log(1 + e^x)`` whose backward reads the saved input and output:
    ``softplus' = 1 - e^{-out}`` (a sigmoid written through the output)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.logaddexp(0.0, x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        _, out = ctx.saved_tensors
        return grad_output * (1 - ag.exp(-out))


def test_a_differentiable_backward_gives_derivatives_of_any_order():
    assert ag.grad(ag.grad(DifferentiableCube.apply))(2.0).item() == 12.0  # 6 x
    assert ag.grad(ag.grad(ag.grad(DifferentiableCube.apply)))(2.0).item() == 6.0
    _, tangent = ag.jvp(DifferentiableCube.apply, (2.0,), (0.5,))
    assert tangent.item() == 6.0  # 3 x^2 t
    h = ag.hessian(lambda v: DifferentiableCube.apply(v).sum())(np.array([1.0, -2.0]))
    np.testing.assert_array_equal(h.numpy(), np.diag([6.0, -12.0]))
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    assert ag.gradgradcheck(DifferentiableCube.apply, [x])
    assert ag.gradgradcheck(SoftplusOfOutput.apply, [x])
    assert ag.gradcheck(SoftplusOfOutput.apply, [x])
    s = 1 / (1 + np.exp(-x))  # softplus'' = sigmoid (1 - sigmoid)
    g2 = ag.grad(lambda t: ag.grad(lambda u: SoftplusOfOutput.apply(u).sum())(t).sum())(x)
    np.testing.assert_allclose(g2.numpy(), s * (1 - s), rtol=1e-14)


def test_a_differentiable_backward_saves_only_inputs_and_outputs():
    class SavesIntermediate(ag.Function):
        differentiable_backward = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(3 * x**2)  # the derivative: neither input nor output
            return x**3

        @staticmethod
        def backward(ctx, grad_output):
            (slope,) = ctx.saved_tensors
            return grad_output * slope

    x = ag.tensor(0.5, requires_grad=True)
    SavesIntermediate.apply(x).backward()  # first order: fine
    assert x.grad.item() == 0.75
    with pytest.raises(RuntimeError, match=r"ctx.saved_tensors\[0\].*neither an input"):
        ag.grad(ag.grad(SavesIntermediate.apply))(0.5)


# ------------------------------------------------------------------ issue 13, item 2
class ReturnsGradient(ag.Function):
    """Identity whose backward returns ``make(grad_output)``: any shape a test wants."""

    make = staticmethod(lambda g: g)

    @classmethod
    def with_backward(cls, make, name="ReturnsGradient"):
        return type(name, (cls,), {"make": staticmethod(make)})

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @classmethod
    def backward(cls, ctx, grad_output):
        return cls.make(grad_output)


@pytest.mark.parametrize(
    ("shape", "make", "expected"),
    [
        ((1, 3), lambda g: g.reshape(3) * 2, np.full((1, 3), 2.0)),  # (k,) for (1, k): fine
        ((3, 1), lambda g: np.broadcast_to(g, (2, 3, 4)), np.full((3, 1), 8.0)),  # summed back
        ((3,), lambda g: g[None, :], np.ones(3)),  # a leading 1 too many: summed away
    ],
    ids=["k-for-1k", "broadcast-summed", "leading-one"],
)
def test_a_gradient_the_input_fits_is_fitted(shape, make, expected):
    x = ag.tensor(np.ones(shape), requires_grad=True)
    ReturnsGradient.with_backward(make).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert x.grad.shape == shape


@pytest.mark.parametrize(
    ("shape", "make", "got"),
    [
        ((3,), lambda g: np.asarray(g.sum()), r"\(\)"),  # 0-d for (3,): it left .grad of shape ()
        ((2, 3), lambda g: g[0], r"\(3,\)"),  # (k,) for (m, k): would be copied to every row
        ((1, 3), lambda g: g.reshape(3, 1), r"\(3, 1\)"),
    ],
    ids=["scalar-for-vector", "row-for-matrix", "transposed"],
)
def test_a_gradient_that_does_not_fit_is_a_value_error_naming_function_input_and_shapes(
    shape, make, got
):
    x = ag.tensor(np.ones(shape), requires_grad=True)
    op = ReturnsGradient.with_backward(make)
    with pytest.raises(ValueError, match=rf"ReturnsGradient.backward, for input 0.*{got}.*{shape}"):
        op.apply(x).sum().backward()
    assert x.grad is None


def test_a_complex_gradient_is_a_type_error():
    x = ag.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="ReturnsGradient.backward returned a complex gradient"):
        ReturnsGradient.with_backward(lambda g: g * 1j).apply(x).sum().backward()


# ------------------------------------------------------------------ issue 13, item 8
def _double_in_place(grad_output):
    grad_output *= 2  # the bug: writes into the gradient it was handed
    return grad_output


DoublesInPlace = ReturnsGradient.with_backward(_double_in_place, "DoublesInPlace")


def test_a_backward_writing_into_grad_output_gets_a_clear_error_and_corrupts_nothing():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 10.0])
    with pytest.raises(ValueError, match="DoublesInPlace.backward.*read-only.*copy it first"):
        DoublesInPlace.apply(x).backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 10.0])  # the caller's seed is intact
    y = ag.tensor([1.0, 2.0], requires_grad=True)
    sibling = ag.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(ValueError, match="read-only"):
        (DoublesInPlace.apply(y) + sibling).sum().backward()  # add hands both the same g
    assert sibling.grad is None


def test_a_backward_may_return_grad_output_itself():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([3.0, 4.0])
    ReturnsGradient.apply(x).backward(seed)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert not np.shares_memory(x.grad.numpy(), seed)  # .grad never aliases the seed
    x.grad.numpy()[0] = 0.0
    np.testing.assert_array_equal(seed, [3.0, 4.0])


def test_grad_output_of_a_differentiable_backward_is_guarded_too():
    class ScalesInPlace(ag.Function):
        differentiable_backward = True

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            grad_output *= 2
            return grad_output

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    sibling = ag.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(ValueError, match="ScalesInPlace.backward.*read-only"):  # a constant g
        ag.gradients((ScalesInPlace.apply(x) + sibling).sum(), [x], create_graph=True)
    # a graph g: the in-place update is recorded on the Function's own tensor, so the
    # sibling (add hands both inputs the same g) still gets g
    v = ag.tensor([1.0, 1.0], requires_grad=True)
    out = ScalesInPlace.apply(x) + sibling
    gx, gs = ag.gradients(out, [x, sibling], v * 1.0, create_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(gs.numpy(), [1.0, 1.0])


# ------------------------------------------------------------------ what a Function saved
def test_an_in_place_change_to_a_saved_array_after_forward_is_refused():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0])
    y = ScaledProduct.apply(a, b, 1.0).sum()
    b.add_(100.0)  # a.grad would have used b = [103, 104] silently
    with pytest.raises(RuntimeError, match=r"ctx.saved_tensors\[1\] of ScaledProduct"):
        y.backward()
    b2 = ag.tensor([3.0, 4.0])
    b2.add_(100.0)  # before forward: fine
    ScaledProduct.apply(a, b2, 1.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [103.0, 104.0])


# ------------------------------------------------------------------ gradcheck: cut graphs
@pytest.mark.parametrize(
    "cut",
    [
        lambda t: ag.tensor(np.sin(t.numpy())),
        lambda t: ag.tensor(np.sin(float(t.sum()))),
        lambda t: ag.sin(ag.tensor(t.sum().item())),
        lambda t: ag.tensor(np.asarray(t) ** 2),
    ],
    ids=["numpy", "float", "item", "asarray"],
)
def test_gradcheck_says_when_the_output_left_the_graph(cut):
    x = np.array([0.3, 1.1])
    with pytest.raises(
        ag.GradcheckError, match="input 0: the output is not connected to it"
    ) as info:
        ag.gradcheck(lambda t: cut(t).sum(), [x])  # it reported analytic zeros
    assert ".numpy(), .item(), float()" in str(info.value)
    assert not ag.gradcheck(lambda t: cut(t).sum(), [x], raise_exception=False)


def test_gradcheck_names_the_disconnected_input_and_passes_a_constant_one():
    def f(a, b, c):
        return (a * 2).sum() + float(b.sum()) + 0 * c.sum().item()

    with pytest.raises(ag.GradcheckError, match=r"input 1: the output is not connected.*\(0,\)"):
        ag.gradcheck(f, [np.ones(2), np.ones(3), np.ones(1)])
    assert ag.gradcheck(lambda a, b: (a * 2).sum(), [np.ones(2), np.ones(3)])
