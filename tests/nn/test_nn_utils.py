"""nn.utils: gradient clipping with PyTorch's formulas."""

import math

import numpy as np
import pytest

import nn
from nn.utils import clip_grad_norm_, clip_grad_value_


def params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros_like(g))
        p.grad = np.array(g, copy=True)
        params.append(p)
    return params


def test_clip_grad_norm_scales_by_max_norm_over_the_total_norm():
    params = params_with_grads([np.array([3.0, 0.0]), np.array([[0.0], [4.0]])])
    total = clip_grad_norm_(params, max_norm=1.0)
    assert total.item() == 5.0 and total.shape == ()
    scale = 1.0 / (5.0 + 1e-6)  # PyTorch's eps
    np.testing.assert_array_equal(params[0].grad.numpy(), np.array([3.0, 0.0]) * scale)
    np.testing.assert_array_equal(params[1].grad.numpy(), np.array([[0.0], [4.0]]) * scale)


def test_small_gradients_are_not_scaled_up_and_missing_ones_are_skipped():
    params = params_with_grads([np.array([0.3, 0.4])])
    params.append(nn.Parameter(np.ones(2)))  # no grad
    assert clip_grad_norm_(iter(params), max_norm=10.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, 0.4])
    assert params[1].grad is None
    assert clip_grad_norm_(nn.Parameter(np.ones(2)), 1.0).item() == 0.0  # nothing to clip


@pytest.mark.parametrize(
    "norm_type, expected",
    [(1.0, 7.0), (math.inf, 4.0), (3.0, (27 + 64) ** (1 / 3)), (0.0, 2.0)],
)
def test_other_norm_types(norm_type, expected):
    params = params_with_grads([np.array([3.0]), np.array([0.0, -4.0])])
    assert clip_grad_norm_(params, 100.0, norm_type=norm_type).item() == pytest.approx(expected)


def test_float32_gradients_keep_their_dtype():
    params = params_with_grads([np.full(3, 2.0, np.float32)])
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32
    assert np.linalg.norm(params[0].grad.numpy()) == pytest.approx(1.0, rel=1e-5)


def test_non_finite_norms_and_bad_arguments():
    params = params_with_grads([np.array([np.nan, 1.0])])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), [np.nan, 1.0])  # unchanged
    assert math.isnan(clip_grad_norm_(params, 1.0).item())  # PyTorch's default: spread NaN
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        clip_grad_value_(params, -0.5)
    with pytest.raises(TypeError, match="expected a Tensor or an iterable"):
        clip_grad_norm_(3.0, 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_value_clamps_each_entry():
    params = params_with_grads([np.array([-3.0, 0.2, 5.0])])
    version = params[0].grad._version
    assert clip_grad_value_(params, 1.0) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), [-1.0, 0.2, 1.0])
    assert params[0].grad._version > version  # an in-place change, seen by version checks


def test_clipping_inside_a_training_step_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(4, 3), (3,), (3, 2)]]
    for norm_type in (2.0, 1.0, math.inf, 0.5):
        ours = params_with_grads(grads)
        theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
        for t, g in zip(theirs, grads):
            t.grad = torch.from_numpy(g.copy())
        total = clip_grad_norm_(ours, 2.0, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)
        assert total.item() == pytest.approx(expected.item(), rel=1e-6)
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    ours, theirs = params_with_grads(grads), [torch.from_numpy(g.copy()) for g in grads]
    clip_grad_value_(ours, 0.7)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.clamp(-0.7, 0.7).numpy())
