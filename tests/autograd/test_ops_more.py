"""The second phase's ops (issue 17): values against numpy, gradients against closed
forms, the conventions at zeros and ties, errors, and einsum's subscripts as property
tests. Gradient checks of every op (first and second order, float32) are the OpInfo
records in ``opinfo_more.py``; PyTorch's conventions are in ``test_torch_parity.py``.
"""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 4))


def leaf(values) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def grad_of(f, values) -> np.ndarray:
    x = leaf(values)
    f(x).backward()
    return x.grad.numpy()


# ------------------------------------------------------------------ values equal numpy's
VALUE_CASES = [
    (lambda x: ag.var(x, axis=1, ddof=1), lambda a: np.var(a, axis=1, ddof=1)),
    (
        lambda x: ag.std(x, axis=(0, 2), keepdims=True),
        lambda a: np.std(a, axis=(0, 2), keepdims=True),
    ),
    (lambda x: ag.prod(x, axis=-1), lambda a: np.prod(a, axis=-1)),
    (lambda x: ag.cumsum(x, axis=1), lambda a: np.cumsum(a, axis=1)),
    (lambda x: ag.cumsum(x), np.cumsum),
    (lambda x: ag.cumprod(x, axis=0), lambda a: np.cumprod(a, axis=0)),
    (lambda x: ag.norm(x), np.linalg.norm),
    (lambda x: ag.norm(x, axis=(1, 2)), lambda a: np.linalg.norm(a, axis=(1, 2))),
    (lambda x: ag.norm(x, ord=3, axis=0), lambda a: np.linalg.norm(a, ord=3, axis=0)),
    (lambda x: ag.norm(x, ord=math.inf, axis=2), lambda a: np.linalg.norm(a, ord=np.inf, axis=2)),
    (lambda x: ag.norm(x, ord=-math.inf, axis=2), lambda a: np.linalg.norm(a, ord=-np.inf, axis=2)),
    (lambda x: ag.norm(x, ord=0, axis=2), lambda a: np.linalg.norm(a, ord=0, axis=2)),
    (lambda x: ag.norm(x, ord=1, axis=(0, 2)), lambda a: np.linalg.norm(a, ord=1, axis=(0, 2))),
    (
        lambda x: ag.norm(x, ord=-math.inf, axis=(2, 1), keepdims=True),
        lambda a: np.linalg.norm(a, ord=-np.inf, axis=(2, 1), keepdims=True),
    ),
    (lambda x: ag.norm(x[0], ord="fro"), lambda a: np.linalg.norm(a[0], ord="fro")),
    (lambda x: ag.tril(x, -1), lambda a: np.tril(a, -1)),
    (lambda x: ag.triu(x, 1), lambda a: np.triu(a, 1)),
    (lambda x: ag.tril(x[0, 0]), lambda a: np.tril(a[0, 0])),  # a vector: numpy's rows
    (lambda x: ag.diagonal(x, 1, 2, 1), lambda a: np.diagonal(a, 1, 2, 1)),
    (lambda x: ag.diagonal(x, -1), lambda a: np.diagonal(a, -1)),
    (lambda x: ag.trace(x, 1, 1, 2), lambda a: np.trace(a, 1, 1, 2)),
    (lambda x: ag.flip(x, (0, -1)), lambda a: np.flip(a, (0, -1))),
    (lambda x: ag.roll(x, (1, -2), (0, 2)), lambda a: np.roll(a, (1, -2), (0, 2))),
    (lambda x: ag.roll(x, 5), lambda a: np.roll(a, 5)),
    (lambda x: ag.tile(x, (2, 1, 1, 2)), lambda a: np.tile(a, (2, 1, 1, 2))),
    (lambda x: ag.tile(x, 2), lambda a: np.tile(a, 2)),
    (lambda x: ag.repeat(x, 3), lambda a: np.repeat(a, 3)),
    (lambda x: ag.repeat(x, [2, 0, 1], axis=1), lambda a: np.repeat(a, [2, 0, 1], axis=1)),
    (lambda x: ag.permute(x, 2, 0, 1), lambda a: np.transpose(a, (2, 0, 1))),
    (
        lambda x: ag.tensordot(x, x, ([1, 2], [1, 2])),
        lambda a: np.tensordot(a, a, ([1, 2], [1, 2])),
    ),
    (lambda x: ag.dot(x, x[0].T), lambda a: np.dot(a, a[0].T)),
    (lambda x: ag.outer(x[0], x[1, 0]), lambda a: np.outer(a[0], a[1, 0])),
    (lambda x: ag.exp2(x), np.exp2),
    (lambda x: ag.log2(abs(x)), lambda a: np.log2(abs(a))),
    (lambda x: ag.log10(abs(x)), lambda a: np.log10(abs(a))),
    (lambda x: ag.arctan2(x, x[0]), lambda a: np.arctan2(a, a[0])),
    (lambda x: ag.round(x * 10, 1), lambda a: np.round(a * 10, 1)),
    (lambda x: x % 0.7, lambda a: a % 0.7),
    (lambda x: -3.5 % x, lambda a: -3.5 % a),
    (lambda x: x // 0.3, lambda a: a // 0.3),
    (lambda x: ag.ravel(x), np.ravel),
    (lambda x: ag.flatten(x, 1), lambda a: a.reshape(2, 12)),
]


@pytest.mark.parametrize(("ours", "numpys"), VALUE_CASES, ids=range(len(VALUE_CASES)))
def test_values_equal_numpys(ours, numpys):
    np.testing.assert_allclose(ours(leaf(A)).numpy(), numpys(A), rtol=1e-12, atol=1e-14)


def test_split_follows_numpy_and_pytorch_spellings():
    x = np.arange(10.0)
    for sections in (5, [2, 7], [3, 1, 20], [-3]):
        pieces = ag.split(x, sections)
        assert isinstance(pieces, list)
        expected = np.split(x, sections)
        assert [p.numpy().tolist() for p in pieces] == [e.tolist() for e in expected]
    assert [p.shape for p in ag.split(x, 4, dim=0)] == [(4,), (4,), (2,)]  # PyTorch: lengths
    assert [p.shape for p in ag.split(x, [3, 7], dim=-1)] == [(3,), (7,)]
    with pytest.raises(ValueError, match="equal division"):
        ag.split(x, 3)
    with pytest.raises(ValueError, match="add up to 10"):
        ag.split(x, [3, 3], dim=0)


def test_cummax_and_cummin_return_values_and_indices_like_pytorch():
    x = leaf([1.0, 3.0, 3.0, 2.0, 5.0])
    values, indices = ag.cummax(x, 0)
    np.testing.assert_array_equal(values.numpy(), [1, 3, 3, 3, 5])
    np.testing.assert_array_equal(indices.numpy(), [0, 1, 2, 2, 4])  # ties: the later index
    values.backward(np.array([1.0, 10.0, 100.0, 1000.0, 1e4]))
    np.testing.assert_array_equal(x.grad.numpy(), [1, 10, 1100, 0, 1e4])
    result = ag.cummin(ag.tensor([3.0, np.nan, 1.0]), dim=0)
    assert np.isnan(result.values.numpy()[1:]).all()
    np.testing.assert_array_equal(result.indices.numpy(), [0, 1, 1])


# ------------------------------------------------------------------ closed-form gradients
def test_var_and_std_gradients_in_closed_form():
    a = A[0]
    centred = a - a.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(grad_of(lambda x: x.var(axis=1, ddof=1).sum(), a), 2 * centred / 3)
    std = a.std(axis=1, keepdims=True)
    np.testing.assert_allclose(grad_of(lambda x: x.std(axis=1).sum(), a), centred / (4 * std))
    np.testing.assert_array_equal(grad_of(lambda x: x.std(), np.ones(3)), np.zeros(3))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(divide="ignore"):
        assert np.isinf(ag.var(leaf([1.0, 2.0]), ddof=2).item())


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),  # one zero: it gets the product of the others
        ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: nothing changes the product
        ([0.0], [1.0]),
    ],
)
def test_prod_gradient_with_zeros(values, expected):
    np.testing.assert_array_equal(grad_of(ag.prod, values), expected)


def test_prod_second_derivative_with_a_zero():
    # d^2 (x0 x1 x2) / dx_i dx_j = x_k (the third one); exact where x1 = 0
    hessian = ag.hessian(ag.prod)(np.array([2.0, 0.0, 4.0]))
    np.testing.assert_array_equal(hessian.numpy(), [[0, 4, 0], [4, 0, 2], [0, 2, 0]])


def test_cumprod_gradient_with_zeros_in_closed_form():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    jacobian = np.array(
        [
            [np.prod([x[j] for j in range(k + 1) if j != i]) if i <= k else 0 for i in range(5)]
            for k in range(5)
        ]
    )
    np.testing.assert_allclose(
        grad_of(lambda t: (ag.cumprod(t) * weights).sum(), x), weights @ jacobian
    )


def test_norm_gradient_is_zero_at_zero_and_its_closed_form_elsewhere():
    for ord_ in (None, 1, 3, math.inf):
        np.testing.assert_array_equal(grad_of(lambda x, o=ord_: ag.norm(x, o), np.zeros(3)), 0)
    x = np.array([3.0, -4.0])
    np.testing.assert_allclose(grad_of(ag.norm, x), x / 5)
    np.testing.assert_allclose(grad_of(lambda t: ag.norm(t, 1), x), [1, -1])
    np.testing.assert_allclose(grad_of(lambda t: ag.norm(t, math.inf), x), [0, -1])
    np.testing.assert_array_equal(ag.hessian(ag.norm)(np.zeros(2)).numpy(), 0)


def test_rounding_has_zero_gradient_and_remainder_the_floor_rule():
    for f in (ag.floor, ag.ceil, ag.trunc, ag.round, lambda t: t // 0.5):
        x = leaf([0.3, -1.7, 2.5])
        y = f(x)
        assert y.requires_grad  # recorded, as PyTorch: the gradient is zeros, not None
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), 0)
    a, b = leaf([5.5, -5.5]), leaf([2.0, 2.0])
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [-2, 3])  # -floor(a / b)


def test_max_with_dim_sends_the_gradient_to_the_first_maximum():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max(axis=1).sum().backward()  # numpy's spelling: the values, ties share
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])


def test_repeated_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    ag.take_along_axis(x, np.array([2, 2, 0, 2]), 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 3])
    x.grad = None
    ag.repeat(x, [3, 0, 1]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1])
    x.grad = None
    ag.tile(x, 4).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4, 4])


def test_einsum_diagonal_gradient_lands_on_the_diagonal():
    x = leaf(np.arange(9.0).reshape(3, 3))
    ag.einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


# ------------------------------------------------------------------ axes and errors
AXIS_OPS = [
    lambda x, a: ag.var(x, axis=a),
    lambda x, a: ag.std(x, axis=a),
    lambda x, a: ag.prod(x, axis=a),
    lambda x, a: ag.norm(x, axis=a),
    lambda x, a: ag.cumsum(x, axis=a),
    lambda x, a: ag.cumprod(x, axis=a),
    lambda x, a: ag.cummax(x, axis=a),
    lambda x, a: ag.argmax(x, axis=a),
    lambda x, a: ag.any(x, axis=a),
    lambda x, a: ag.flip(x, axis=a),
    lambda x, a: ag.roll(x, 1, axis=a),
    lambda x, a: ag.repeat(x, 2, axis=a),
    lambda x, a: ag.split(x, 1, axis=a),
    lambda x, a: ag.take_along_axis(x, np.zeros((1, 1), int), axis=a),
    lambda x, a: ag.diagonal(x, 0, a, 0),
    lambda x, a: ag.sum(x, dim=a),
    lambda x, a: ag.max(x, dim=a),
    lambda x, a: ag.flatten(x, a),
    lambda x, a: ag.tensordot(x, x.T, ([a], [0])),
    lambda x, a: x.size(a),
]


@pytest.mark.parametrize("op", AXIS_OPS, ids=range(len(AXIS_OPS)))
def test_every_axis_argument_takes_negatives_and_refuses_out_of_range(op):
    x = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    op(x, -1)  # counts from the end
    for axis in (2, -3):
        with pytest.raises(np.exceptions.AxisError):  # a ValueError and an IndexError
            op(x, axis)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: ag.einsum("ij,jk", np.ones((2, 3))), ValueError, "name 2 operands"),
        (lambda: ag.einsum("ijk", np.ones((2, 3))), ValueError, "operand 0 has 2 axes"),
        (lambda: ag.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), ValueError, "einsum"),
        (lambda: ag.einsum("...i->i", np.ones((2, 3))), ValueError, "no '...'"),
        (lambda: ag.einsum("i$", np.ones((2, 3))), ValueError, "only letters"),
        (lambda: ag.einsum(["i"], np.ones(2)), TypeError, "sublist"),
        (lambda: ag.tensordot(np.ones((2, 3)), np.ones((2, 3)), 1), ValueError, "shape mismatch"),
        (lambda: ag.norm(np.ones((2, 2)), ord=2), ValueError, "SVD"),
        (lambda: ag.norm(np.ones(3), ord=0.5), ValueError, ">= 1"),
        (lambda: ag.norm(np.ones((2, 2, 2)), ord=1), ValueError, "1-d or 2-d"),
        (lambda: ag.norm(np.ones(3), ord=2, p=2), TypeError, "not both"),
        (lambda: ag.tril(ag.tensor(1.0)), ValueError, "0-d"),
        (lambda: ag.diagonal(np.ones(3)), ValueError, "two axes"),
        (lambda: ag.diagonal(np.ones((2, 2)), 0, 1, -1), ValueError, "must differ"),
        (
            lambda: ag.take_along_axis(np.ones((2, 2)), np.zeros(2, int), 0),
            ValueError,
            "same number",
        ),
        (lambda: ag.take_along_axis(np.ones(2), np.zeros(2), 0), TypeError, "ints"),
        (lambda: ag.repeat(np.ones(3), [1, 2]), ValueError, "3 counts|2 counts"),
        (lambda: ag.repeat(np.ones(3), -1), ValueError, "non-negative"),
        (lambda: ag.tile(np.ones(3), (-1,)), ValueError, "non-negative"),
        (lambda: ag.permute(np.ones((2, 3)), 0), ValueError, "not a permutation"),
        (lambda: ag.transpose(np.ones((2, 3, 4)), (0, 1)), ValueError, "swapaxes"),
        (lambda: ag.max(np.ones(3), np.ones(3)), TypeError, "maximum"),
        (lambda: ag.sum(np.ones(3), axis=0, dim=0), TypeError, "one argument"),
        (lambda: ag.var(np.ones(3), ddof=1, unbiased=True), TypeError, "one of"),
        (lambda: ag.roll(np.ones(3)), TypeError, "shift"),
        (lambda: ag.expand_dims(np.ones(3)), TypeError, "axis= or dim="),
        (lambda: ag.flatten(np.ones((2, 3, 4)), 2, 1), ValueError, "comes after"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------ einsum, property tests
@st.composite
def einsum_cases(draw):
    """Random subscripts (explicit or implicit output, repeated labels, '...') with
    operands of matching shapes, some axes of length 1 to broadcast."""
    labels = draw(st.lists(st.sampled_from("ijkl"), min_size=1, max_size=4, unique=True))
    lengths = {label: draw(st.integers(1, 3)) for label in labels}
    n_operands = draw(st.integers(1, 3))
    ellipsis = draw(st.lists(st.integers(1, 2), max_size=2))
    terms, shapes = [], []
    for _ in range(n_operands):
        term = draw(st.lists(st.sampled_from(labels), max_size=3))
        shape = [lengths[c] for c in term]
        if draw(st.booleans()) and ellipsis:
            kept = draw(st.integers(0, len(ellipsis)))
            term = ["..."] + term
            shape = [
                n if draw(st.booleans()) else 1 for n in ellipsis[len(ellipsis) - kept :]
            ] + shape
        terms.append("".join(term))
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    if draw(st.booleans()):  # an explicit output: some used labels, once each
        used = sorted({c for t in terms for c in t if c in string.ascii_letters})
        output = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))])
        if any("..." in t for t in terms):
            output = "..." + output
        subscripts += "->" + output
    return subscripts, shapes


@given(einsum_cases(), st.integers(0, 2**16))
def test_einsum_equals_numpy_and_its_gradient_the_numerical_one(case, seed):
    subscripts, shapes = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = ag.einsum(subscripts, *[ag.tensor(a) for a in arrays])
    np.testing.assert_allclose(ours.numpy(), np.einsum(subscripts, *arrays), rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(lambda *xs: ag.einsum(subscripts, *xs), arrays)


@given(einsum_cases())
def test_einsum_keeps_float32_and_its_vjp_is_differentiable(case):
    subscripts, shapes = case
    arrays = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in shapes]
    tensors = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = ag.einsum(subscripts, *tensors)
    assert out.dtype == np.float32
    grads = ag.gradients(out, tensors, np.ones(out.shape, np.float32), create_graph=True)
    assert all(g.dtype == np.float32 and g.shape == a.shape for g, a in zip(grads, arrays))


def test_einsum_plans_large_contractions_and_gives_the_same_result():
    a, b, c = RNG.standard_normal((64, 64)), RNG.standard_normal((64, 64)), RNG.standard_normal(64)
    x = leaf(a)
    out = ag.einsum("ij,jk,k->i", x, b, c)  # index space 64^3: numpy's optimize plans it
    np.testing.assert_allclose(out.numpy(), a @ b @ c, rtol=1e-12)
    out.backward(np.ones(64))
    np.testing.assert_allclose(x.grad.numpy(), np.outer(np.ones(64), b @ c), rtol=1e-12)
