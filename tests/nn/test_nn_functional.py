"""Losses and functional ops: values, reductions, stable forms, exact gradients."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F  # noqa: N812 - PyTorch's alias


def logits_and_labels(m=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)), rng.integers(0, k, m)


def np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_f_is_functional():
    assert nn.F is nn.functional


def test_linear_is_x_at_weight_plus_bias():
    x, w, b = np.ones((2, 3)), np.arange(12.0).reshape(3, 4), np.arange(4.0)
    np.testing.assert_array_equal(F.linear(x, w).numpy(), x @ w)
    np.testing.assert_array_equal(F.linear(x, w, b).numpy(), x @ w + b)


# ---------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_values(reduction):
    z, y = logits_and_labels()
    per_example = -np.log(np_softmax(z)[np.arange(6), y])
    expected = {"mean": per_example.mean(), "sum": per_example.sum(), "none": per_example}
    out = F.cross_entropy(z, y, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), expected[reduction], rtol=1e-13)
    module = nn.CrossEntropyLoss(reduction=reduction)
    np.testing.assert_array_equal(module(z, y).numpy(), out.numpy())


def test_cross_entropy_gradient_is_s_minus_iy_over_m():
    z, y = logits_and_labels()
    logits = ag.tensor(z, requires_grad=True)
    F.cross_entropy(logits, y).backward()
    expected = (np_softmax(z) - np.eye(4)[y]) / 6
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-14, atol=1e-17)


def test_cross_entropy_one_hot_equals_labels_and_is_stable():
    z, y = logits_and_labels()
    np.testing.assert_allclose(
        F.cross_entropy(z, np.eye(4)[y]).item(), F.cross_entropy(z, y).item(), rtol=1e-14
    )
    huge = ag.tensor([[1000.0, -1000.0], [0.0, 2000.0]], requires_grad=True)
    loss = F.cross_entropy(huge, np.array([1, 1]))
    assert loss.item() == pytest.approx(1000.0)  # (2000 + 0) / 2
    loss.backward()
    np.testing.assert_allclose(huge.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]], atol=1e-300)


def test_losses_pass_gradcheck():
    z, y = logits_and_labels()
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, (3, 4))
    t = rng.integers(0, 2, (3, 4)).astype(float)
    assert ag.gradcheck(lambda a: F.cross_entropy(a, y, "sum"), [z])
    assert ag.gradcheck(lambda a, b: F.mse_loss(a, b), [p, t + 0.1])
    assert ag.gradcheck(lambda a: F.binary_cross_entropy(a, t), [p])
    assert ag.gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t, "none"), [z[:3]])


# ---------------------------------------------------------------------- mse
def test_mse_loss_values_gradient_and_shape_check():
    pred = ag.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    target = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = F.mse_loss(pred, target)
    assert loss.item() == pytest.approx((0 + 4 + 9 + 16) / 4)
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * (pred.numpy() - target) / 4)
    assert nn.MSELoss("sum")(pred, target).item() == pytest.approx(29.0)
    np.testing.assert_allclose(F.mse_loss(pred, target, "none").numpy(), [[0, 4], [9, 16]])
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(2, 2\).*\(2,\)"):
        F.mse_loss(pred, np.zeros(2))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(pred, target, reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss("avg")


# ---------------------------------------------------------------------- binary cross-entropy
def test_binary_cross_entropy_matches_the_notes():
    a = ag.tensor([0.9, 0.2, 0.6], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy(a, y, reduction="sum")
    expected = -(y * np.log(a.numpy()) + (1 - y) * np.log(1 - a.numpy()))
    assert loss.item() == pytest.approx(expected.sum(), rel=1e-14)
    loss.backward()
    a_ = a.numpy()
    np.testing.assert_allclose(a.grad.numpy(), (a_ - y) / (a_ * (1 - a_)), rtol=1e-13)
    assert nn.BCELoss()(a, y).item() == pytest.approx(expected.mean(), rel=1e-14)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    losses = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(losses.numpy(), [100.0, 100.0, 0.0, 0.0], atol=1e-12)
    losses.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))
    with pytest.raises(ValueError, match=r"prob must lie in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(np.array([1.5]), np.array([1.0]))


def test_bce_with_logits_is_stable_and_its_gradient_is_a_minus_y():
    z = ag.tensor([-1000.0, -2.0, 0.0, 0.0, 3.0, 1000.0], requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    losses = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    s = 1 / (1 + np.exp(-np.array([-2.0, 0.0, 3.0])))
    expected = [1000.0, -np.log(1 - s[0]), np.log(2), np.log(2), -np.log(s[2]), 1000.0]
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-14)
    losses.sum().backward()
    sigmoid = np.array([0.0, 1 / (1 + np.exp(2.0)), 0.5, 0.5, 1 / (1 + np.exp(-3.0)), 1.0])
    np.testing.assert_allclose(z.grad.numpy(), sigmoid - y, rtol=1e-14, atol=1e-300)
    mean = nn.BCEWithLogitsLoss()(z, y)
    assert mean.item() == pytest.approx(np.mean(expected), rel=1e-14)


def test_bce_with_logits_equals_bce_of_sigmoid():
    rng = np.random.default_rng(2)
    z, y = rng.standard_normal(10), rng.integers(0, 2, 10).astype(float)
    direct = F.binary_cross_entropy(ag.sigmoid(ag.tensor(z)), y)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, y).item(), direct.item(), rtol=1e-13
    )


# ---------------------------------------------------------------------- l2 penalty
def test_l2_penalty_covers_weights_not_biases():
    model = nn.MLP([3, 4, 2], dtype=np.float64, rng=0)
    lam = 0.3
    w0, w1 = (layer.weight.numpy() for layer in model.linears)
    expected = lam / 2 * (np.sum(w0**2) + np.sum(w1**2))
    assert F.l2_penalty(model.parameters(), lam).item() == pytest.approx(expected, rel=1e-14)
    assert F.l2_penalty(model, lam).item() == pytest.approx(expected, rel=1e-14)
    F.l2_penalty(model.parameters(), lam).backward()
    for layer in model.linears:
        np.testing.assert_allclose(layer.weight.grad.numpy(), lam * layer.weight.numpy())
        assert layer.bias.grad is None


def test_l2_penalty_of_one_tensor_and_of_nothing():
    w = nn.Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert F.l2_penalty(w, 2.0).item() == pytest.approx(30.0)
    assert F.l2_penalty([], 2.0).item() == 0.0
