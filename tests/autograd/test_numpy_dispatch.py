"""numpy's functions on Tensors: the tensor op (recorded), numpy's own result where no
gradient can be lost, a clear ``TypeError`` where one would be."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def leaf(values) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

RECORDED = [
    (lambda t: np.exp(t), "exp"),
    (lambda t: np.sum(t, axis=0, keepdims=True), "sum"),
    (lambda t: np.mean(t), "mean"),
    (lambda t: np.max(t, 1), "max"),
    (lambda t: np.amin(t), "min"),
    (lambda t: np.var(t, ddof=1), "var"),
    (lambda t: np.std(t, axis=1), "std"),
    (lambda t: np.prod(t), "prod"),
    (lambda t: np.cumsum(t, axis=1), "cumsum"),
    (lambda t: np.linalg.norm(t, axis=1), "norm"),
    (lambda t: np.clip(t, -0.5, 1.0), "clip"),
    (lambda t: np.clip(t, a_min=0.0, a_max=None), "clip"),
    (lambda t: np.where(t > 0, t, 0.0), "where"),
    (lambda t: np.einsum("ij->j", t), "einsum"),
    (lambda t: np.dot(t, t.T), "matmul"),
    (lambda t: np.matmul(t, t.T), "matmul"),
    (lambda t: np.tensordot(t, t, 2), "einsum"),
    (lambda t: np.outer(t, t), "multiply"),
    (lambda t: np.reshape(t, (3, 2)), "reshape"),
    (lambda t: np.ravel(t), "reshape"),
    (lambda t: np.transpose(t), "transpose"),
    (lambda t: np.concatenate([t, t], axis=1), "concatenate"),
    (lambda t: np.stack((t, t)), "stack"),
    (lambda t: np.split(t, 3, axis=1)[1], "getitem"),
    (lambda t: np.flip(t, 0), "flip"),
    (lambda t: np.roll(t, 1), "roll"),
    (lambda t: np.tile(t, 2), "reshape"),
    (lambda t: np.repeat(t, 2, axis=0), "reshape"),
    (lambda t: np.take_along_axis(t, np.array([[2], [0]]), axis=1), "getitem"),
    (lambda t: np.tril(t), "where"),
    (lambda t: np.trace(t), "sum"),
    (lambda t: np.round(t, 2), "round"),
    (lambda t: np.copy(t), "astype"),
    (lambda t: np.arctan2(t, 1.0), "arctan2"),
    (lambda t: np.square(t), "pow"),
    (lambda t: np.remainder(t, 0.7), "remainder"),
    (lambda t: np.ones(3) - t, "subtract"),  # an ndarray on the left of an operator
    (lambda t: np.ones(3) @ t.T, "matmul"),
    (lambda t: np.float32(2.0) ** t, "pow"),
]


@pytest.mark.parametrize(
    ("call", "prim"), RECORDED, ids=[f"{i}-{p}" for i, (_, p) in enumerate(RECORDED)]
)
def test_numpy_functions_on_tensors_run_the_recorded_op(call, prim):
    x = leaf(X)
    out = call(x)
    assert isinstance(out, ag.Tensor) and out.requires_grad
    assert out.grad_fn.prim.name == prim
    expected = call(X)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert ag.gradcheck(call, [X])


def test_comparisons_and_predicates_give_bool_tensors():
    x = leaf(X)
    for result in (np.less(x, 0), np.ones(3) > x, np.isfinite(x), np.isnan(x), np.equal(x, x)):
        assert isinstance(result, ag.Tensor) and result.dtype == bool and not result.requires_grad
    mask = np.array([True, False, True]) & (x > 0)  # an ndarray of bools on the left
    np.testing.assert_array_equal(mask.numpy(), [[True, False, True], [True, False, False]])


def test_readers_and_constants_get_numpys_result():
    x = leaf(X)
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
    assert np.allclose(x, X) and np.array_equal(x, X)
    np.testing.assert_array_equal(np.argsort(x, axis=1), np.argsort(X, axis=1))
    assert np.zeros_like(x).shape == (2, 3)
    constant = ag.tensor(X)
    sorted_values = np.sort(constant, axis=1)  # no op, no gradient to lose: numpy's
    assert isinstance(sorted_values, np.ndarray)
    np.testing.assert_array_equal(sorted_values, np.sort(X, axis=1))
    assert np.add.reduce(constant, axis=0).tolist() == np.add.reduce(X, axis=0).tolist()
    target = np.zeros(3)
    target += ag.tensor([1.0, 2.0, 3.0])  # in place into an ndarray: numpy's
    np.testing.assert_array_equal(target, [1, 2, 3])
    assert np.sum(constant, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda t: np.sort(t), "numpy.sort .* drop the gradient; topograd has no op"),
        (lambda t: np.cross(t, t), "numpy.cross"),
        (lambda t: np.add.reduce(t), r"use ag.sum\(x, axis\)"),
        (lambda t: np.maximum.accumulate(t, axis=1), "ag.cummax"),
        (lambda t: np.sum(t, dtype=np.float32), "ag.sum does not take these arguments"),
        (lambda t: np.exp(t, out=np.empty((2, 3))), "take no out="),
        (lambda t: np.hypot(t, t), "numpy.hypot .* topograd has no op"),
        (lambda t: np.concatenate([t, t], dtype=np.float32), "ag.concatenate"),
    ],
)
def test_numpy_calls_that_would_drop_the_gradient_raise(call, words):
    with pytest.raises(TypeError, match=words):
        call(leaf(X))


def test_in_place_into_an_ndarray_from_a_tensor_that_requires_grad_raises():
    target = np.zeros((2, 3))
    with pytest.raises(TypeError, match="numpy.add .* drop the gradient"):
        target += leaf(X)


def test_a_tensor_as_numpys_out_raises():
    with pytest.raises(TypeError, match="cannot be numpy's out="):
        np.exp(X, out=ag.tensor(np.zeros((2, 3))))
