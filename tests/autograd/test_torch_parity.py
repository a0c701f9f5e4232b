"""The second phase's ops against PyTorch (skipped without it): values, and the
gradient conventions where calculus leaves a choice: products with zeros, norms at 0,
deviations of constants, ties of running and axis maxima, rounding, remainders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def ours(f, *arrays):
    """``f``'s value and the gradient of ``sum(f * w)`` for a fixed ``w``, in the engine."""
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    out.backward(_weights(out.shape))
    return out.numpy(), [
        np.zeros_like(a) if x.grad is None else x.grad.numpy() for a, x in zip(arrays, xs)
    ]


def theirs(f, *arrays):
    """The same in PyTorch."""
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    out.backward(torch.tensor(_weights(tuple(out.shape))))
    return out.detach().numpy(), [
        np.zeros_like(a) if x.grad is None else x.grad.numpy() for a, x in zip(arrays, xs)
    ]


def _weights(shape):
    return np.random.default_rng(3).standard_normal(shape)


def assert_same(f_ours, f_theirs, *arrays, rtol=1e-10):
    value, grads = ours(f_ours, *arrays)
    value_t, grads_t = theirs(f_theirs, *arrays)
    np.testing.assert_allclose(value, value_t, rtol=rtol, atol=1e-12)
    for g, g_t in zip(grads, grads_t):
        np.testing.assert_allclose(g, g_t, rtol=rtol, atol=1e-12)


ZEROS = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_with_zeros(axis):
    if axis is None:
        assert_same(ag.prod, torch.prod, ZEROS)
    else:
        assert_same(lambda x: ag.prod(x, axis), lambda x: torch.prod(x, axis), ZEROS)


@pytest.mark.parametrize("values", [[2.0, 0.0, 4.0], [0.0, 3.0, 0.0], [1.0, 2.0, 3.0]])
def test_prod_hessian_with_zeros(values):
    x = np.array(values)
    expected = torch.autograd.functional.hessian(torch.prod, torch.tensor(x)).numpy()
    np.testing.assert_allclose(ag.hessian(ag.prod)(x).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 2.0, 3.0], [1.5, 2.0, -1.0]])
def test_cumprod_gradient_and_hessian_with_zeros(values):
    x = np.array(values)
    assert_same(lambda t: ag.cumprod(t, 0), lambda t: torch.cumprod(t, 0), x)
    w = _weights(x.shape)
    expected = torch.autograd.functional.hessian(
        lambda t: (torch.cumprod(t, 0) * torch.tensor(w)).sum(), torch.tensor(x)
    ).numpy()
    actual = ag.hessian(lambda t: (ag.cumprod(t, 0) * w).sum())(x).numpy()
    np.testing.assert_allclose(actual, expected, atol=1e-12)


@pytest.mark.parametrize("p", [2, 1, 3, math.inf, -math.inf])
def test_vector_norms_and_their_gradient_at_zero(p):
    x = np.array([[0.5, -2.0, 1.5], [0.0, 0.0, 0.0]])
    assert_same(
        lambda t: ag.norm(t, p, axis=1),
        lambda t: torch.linalg.vector_norm(t, p, dim=1),
        x,
    )


@pytest.mark.parametrize("ord_", ["fro", 1, -1, math.inf, -math.inf])
def test_matrix_norms(ord_):
    x = np.array([[0.5, -2.0, 1.5], [1.0, 0.25, -3.0]])
    assert_same(lambda t: ag.norm(t, ord_), lambda t: torch.linalg.matrix_norm(t, ord_), x)


def test_var_and_std_defaults_follow_the_spelling():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])  # the second row is constant
    assert_same(lambda t: t.var(dim=1), lambda t: t.var(dim=1), x)  # both unbiased
    assert_same(lambda t: t.std(dim=1), lambda t: t.std(dim=1), x)  # gradient 0 at std 0
    assert_same(lambda t: t.std(axis=1), lambda t: t.std(dim=1, correction=0), x)  # numpy's
    assert_same(lambda t: ag.var(t, correction=2), lambda t: torch.var(t, correction=2), x)
    expected = torch.autograd.functional.hessian(torch.var, torch.tensor(x[0])).numpy()
    np.testing.assert_allclose(ag.hessian(lambda t: t.var(ddof=1))(x[0]).numpy(), expected)


def test_cummax_and_cummin_ties_and_nan_take_pytorchs_indices():
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0, np.nan, 4.0, np.nan])
    for name in ("cummax", "cummin"):
        result, expected = getattr(ag, name)(x, 0), getattr(torch, name)(torch.tensor(x), 0)
        np.testing.assert_array_equal(result.indices.numpy(), expected.indices.numpy())
        np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())
    ties = np.array([[1.0, 3.0, 3.0, 2.0], [2.0, 1.0, 1.0, 2.0]])
    for name in ("cummax", "cummin"):
        assert_same(
            lambda t, n=name: getattr(ag, n)(t, dim=1).values,
            lambda t, n=name: getattr(torch, n)(t, dim=1).values,
            ties,
        )


@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_dim_at_ties(keepdim):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [np.nan, 1.0, np.nan]])
    for name in ("max", "min"):
        ours_result = getattr(ag.tensor(x), name)(dim=1, keepdim=keepdim)
        theirs_result = getattr(torch.tensor(x), name)(dim=1, keepdim=keepdim)
        np.testing.assert_array_equal(ours_result.indices.numpy(), theirs_result.indices.numpy())
        assert_same(
            lambda t, n=name: getattr(t, n)(dim=1, keepdim=keepdim).values,
            lambda t, n=name: getattr(t, n)(dim=1, keepdim=keepdim).values,
            x[:2],
        )


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
def test_rounding_values_and_zero_gradients(name):
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -1.7])  # halves round to even
    assert_same(getattr(ag, name), getattr(torch, name), x)


def test_remainder_and_floor_divide():
    a = np.array([[5.5, -5.5, 3.0], [-7.25, 0.75, 2.5]])
    b = np.array([2.0, -1.5, 0.5])
    assert_same(lambda x, y: x % y, lambda x, y: torch.remainder(x, y), a, b)
    assert_same(lambda x, y: ag.remainder(x, y), lambda x, y: x % y, a, b)
    assert_same(lambda x, y: x // y, lambda x, y: torch.div(x, y, rounding_mode="floor"), a, b)


ELEMENTWISE = [
    ("exp2", torch.exp2, 0.7),
    ("log2", torch.log2, 1.5),
    ("log10", torch.log10, 1.5),
    ("tan", torch.tan, 0.4),
    ("asin", torch.asin, 0.5),
    ("acos", torch.acos, 0.5),
    ("atan", torch.atan, 2.0),
    ("sinh", torch.sinh, 1.5),
    ("cosh", torch.cosh, 1.5),
    ("asinh", torch.asinh, 2.0),
    ("acosh", lambda t: torch.acosh(t + 2), None),
    ("atanh", torch.atanh, 0.5),
]


@pytest.mark.parametrize(
    ("name", "torch_fn", "scale"), ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE]
)
def test_elementwise_values_and_gradients(name, torch_fn, scale):
    x = np.array([-0.9, -0.3, 0.2, 0.8])
    if scale is None:  # arccosh, on x + 2 >= 1
        assert_same(lambda t: ag.acosh(t + 2), torch_fn, x)
    else:
        assert_same(
            getattr(ag, name),
            torch_fn,
            x * scale if name not in ("log2", "log10") else abs(x) * scale,
        )
    y, x2 = np.array([1.0, -2.0, 0.5]), np.array([-1.0, 0.5, 2.0])
    assert_same(ag.atan2, torch.atan2, y, x2)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ijk->kj", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum(subscripts, shapes):
    arrays = [np.random.default_rng(len(s)).standard_normal(s) for s in shapes]
    assert_same(
        lambda *xs: ag.einsum(subscripts, *xs), lambda *xs: torch.einsum(subscripts, *xs), *arrays
    )


def test_shape_ops_match_pytorchs_counterparts():
    x = np.arange(12.0).reshape(3, 4) / 7
    index = np.array([[0, 0, 3], [1, 1, 1], [2, 3, 0]])
    assert_same(
        lambda t: ag.take_along_axis(t, index, 1),
        lambda t: torch.gather(t, 1, torch.tensor(index)),
        x,
    )
    assert_same(lambda t: t.repeat(2, axis=0), lambda t: t.repeat_interleave(2, dim=0), x)
    assert_same(lambda t: t.tile((2, 1, 3)), lambda t: t.tile((2, 1, 3)), x)
    assert_same(lambda t: t.roll(1, 1), lambda t: t.roll(1, 1), x)
    assert_same(lambda t: t.roll(shifts=(1, 2), dims=(0, 1)), lambda t: t.roll((1, 2), (0, 1)), x)
    assert_same(lambda t: t.flip(dims=(0,)), lambda t: t.flip((0,)), x)
    assert_same(lambda t: t.permute(1, 0), lambda t: t.permute(1, 0), x)
    assert_same(lambda t: t.tril(diagonal=1), lambda t: t.tril(diagonal=1), x)
    assert_same(lambda t: t.triu(-1), lambda t: t.triu(-1), x)
    assert_same(lambda t: t.diagonal(1), lambda t: t.diagonal(1), x)
    assert_same(lambda t: t.trace(), lambda t: t.trace(), x[:, :3])
    assert_same(lambda t: ag.outer(t[0], t[1]), lambda t: torch.outer(t[0], t[1]), x)
    assert_same(
        lambda t: ag.tensordot(t, t, ([1], [1])), lambda t: torch.tensordot(t, t, ([1], [1])), x
    )
    assert_same(lambda t: t.cumsum(dim=1), lambda t: t.cumsum(dim=1), x)
    assert_same(lambda t: t.flatten(1).unsqueeze(0), lambda t: t.flatten(1).unsqueeze(0), x)
    assert_same(lambda t: t.view(2, 6).clamp(min=0.4), lambda t: t.view(2, 6).clamp(min=0.4), x)
    assert_same(
        lambda t: ag.cat(ag.split(t, 3, dim=1)[::-1], dim=1),
        lambda t: torch.cat(torch.split(t, 3, dim=1)[::-1], dim=1),
        x,
    )
    y = x.reshape(3, 1, 4)
    assert_same(lambda t: t.squeeze(dim=(1, 2)), lambda t: t.squeeze(dim=(1, 2)), y)
    assert_same(lambda t: t.clone() * 2, lambda t: t.clone() * 2, x)
    assert ag.tensor(x).size() == tuple(torch.tensor(x).size())
    assert ag.tensor(x).size(-1) == torch.tensor(x).size(-1)
    assert ag.tensor(x).numel() == torch.tensor(x).numel()
