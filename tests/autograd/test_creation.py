"""Creation functions: shapes, values, dtypes, seeds and the requires_grad flag."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: ag.zeros((2, 3)), np.zeros((2, 3))),
        (lambda: ag.zeros(4), np.zeros(4)),
        (lambda: ag.ones((2,)), np.ones(2)),
        (lambda: ag.full((2, 2), 1.5), np.full((2, 2), 1.5)),
        (lambda: ag.eye(3), np.eye(3)),
        (lambda: ag.eye(2, 3), np.eye(2, 3)),
        (lambda: ag.arange(5), np.arange(5)),
        (lambda: ag.arange(1.0, 2.0, 0.25), np.arange(1.0, 2.0, 0.25)),
        (lambda: ag.zeros_like(ag.tensor([[1, 2]])), np.zeros((1, 2), np.int64)),
        (lambda: ag.ones_like(np.ones(3, np.float32)), np.ones(3, np.float32)),
    ],
)
def test_values_and_dtypes(make, expected):
    t = make()
    assert isinstance(t, ag.Tensor) and t.is_leaf and not t.requires_grad
    assert t.dtype == expected.dtype
    np.testing.assert_array_equal(t.numpy(), expected)


def test_dtype_and_requires_grad_arguments():
    assert ag.zeros(2).dtype == np.float64
    t = ag.ones((2, 2), dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    assert ag.zeros_like(t).dtype == np.float32 and not ag.zeros_like(t).requires_grad
    assert ag.ones_like(t, dtype=np.float64).dtype == np.float64
    assert ag.eye(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating point"):
        ag.arange(3, requires_grad=True)


@pytest.mark.parametrize("make", [ag.randn, ag.rand])
def test_random_tensors_follow_the_seed(make):
    a = make(2, 3, rng=0)
    assert a.shape == (2, 3) and a.dtype == np.float64
    np.testing.assert_array_equal(a.numpy(), make((2, 3), rng=0).numpy())
    np.testing.assert_array_equal(
        make(4, rng=np.random.default_rng(5)).numpy(), make(4, rng=5).numpy()
    )
    assert not np.array_equal(make(4, rng=1).numpy(), make(4, rng=2).numpy())
    assert make(3, dtype=np.float32, rng=0).dtype == np.float32
    assert make(3, rng=0, requires_grad=True).requires_grad


def test_rand_range_and_randn_moments():
    u = ag.rand(10_000, rng=0).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    z = ag.randn(10_000, rng=0).numpy()
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_as_tensor_keeps_tensors_and_wraps_the_rest():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    assert ag.as_tensor(t) is t
    array = np.array([1.0, 2.0], dtype=np.float32)
    wrapped = ag.as_tensor(array)
    assert isinstance(wrapped, ag.Tensor) and not wrapped.requires_grad
    assert wrapped.dtype == np.float32
    np.testing.assert_array_equal(wrapped.numpy(), array)
    assert ag.as_tensor(3.0).dtype == np.float64


# ------------------------------------------------------------------ the default generator
def test_manual_seed_makes_every_rng_none_reproducible():
    import nn

    def draw():
        layer = nn.Linear(3, 2)  # initialisation from the default generator
        dropout = nn.Dropout(0.5)
        noise = ag.randn(4)
        mask = dropout(ag.ones((8,)))
        order = [int(b[0].item()) for b, _ in nn.data.DataLoader(np.arange(6.0), shuffle=True)]
        return layer.weight.numpy().copy(), noise.numpy(), mask.numpy(), order

    ag.manual_seed(123)
    first = draw()
    ag.manual_seed(123)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ag.manual_seed(124)
    assert not np.array_equal(draw()[1], first[1])


def test_manual_seed_reseeds_in_place_and_matches_numpy():
    generator = ag.default_rng()
    ag.manual_seed(7)
    assert ag.default_rng() is generator  # objects holding it see the new seed
    np.testing.assert_array_equal(generator.random(3), np.random.default_rng(7).random(3))
    for bad in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="manual_seed"):
            ag.manual_seed(bad)
    with pytest.raises(TypeError, match="rng must be"):
        ag.randn(2, rng="seed")
