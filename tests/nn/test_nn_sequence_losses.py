"""The losses sequence models need: cross-entropy over ``(N, C, d1, ...)`` logits with
``ignore_index`` and ``label_smoothing``, ``nll_loss``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss`` and their modules, against closed forms and PyTorch's definitions."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((3, 4, 5))
LABELS = RNG.integers(0, 4, (3, 5))
LABELS[0, 1] = LABELS[2, 3] = -100


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _smoothed_losses(z: np.ndarray, y: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-label ``(1 - eps) nll + eps mean_c(-log p_c)`` and the kept mask, by hand."""
    logp = _log_softmax(z, 1)
    keep = y != -100
    picked = np.take_along_axis(logp, np.where(keep, y, 0)[:, None], axis=1)[:, 0]
    return np.where(keep, -(1 - eps) * picked - eps * logp.mean(axis=1), 0.0), keep


@pytest.mark.parametrize("eps", [0.0, 0.25])
def test_cross_entropy_over_positions_ignores_labels_and_smooths(eps):
    z = ag.tensor(LOGITS, requires_grad=True)
    loss = nn.F.cross_entropy(z, LABELS, ignore_index=-100, label_smoothing=eps)
    losses, keep = _smoothed_losses(LOGITS, LABELS, eps)
    assert loss.item() == pytest.approx(losses.sum() / keep.sum(), rel=1e-13)
    loss.backward()
    # closed form: (S - q) / count on kept positions, q = (1 - eps) I_y + eps / C
    s = np.exp(_log_softmax(LOGITS, 1))
    q = (1 - eps) * np.moveaxis(np.eye(4)[np.where(keep, LABELS, 0)], -1, 1) + eps / 4
    expected = (s - q) * keep[:, None, :] / keep.sum()
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12, atol=1e-15)
    none = nn.F.cross_entropy(LOGITS, LABELS, "none", label_smoothing=eps)
    assert none.shape == (3, 5)
    np.testing.assert_allclose(none.numpy(), losses, rtol=1e-13)


def test_cross_entropy_ignore_index_inside_the_class_range_and_all_ignored():
    labels = np.array([0, 2, 2, 1])
    z = RNG.standard_normal((4, 3))
    kept = nn.F.cross_entropy(z, labels, ignore_index=2).item()
    assert kept == pytest.approx(nn.F.cross_entropy(z[[0, 3]], labels[[0, 3]]).item(), rel=1e-14)
    assert np.isnan(nn.F.cross_entropy(z, np.full(4, -100)).item())  # as PyTorch: 0 / 0


def test_cross_entropy_plain_path_is_unchanged_by_the_defaults():
    z = RNG.standard_normal((6, 4))
    labels = RNG.integers(0, 4, 6)
    plain = ag.softmax_cross_entropy(z, labels)
    assert plain.grad_fn is None and plain.item() == pytest.approx(
        -_log_softmax(z, 1)[np.arange(6), labels].mean(), rel=1e-14
    )


def test_cross_entropy_probability_targets_with_smoothing_over_positions():
    target = RNG.dirichlet(np.ones(4), (3, 5)).transpose(0, 2, 1)  # (N, C, d)
    loss = nn.F.cross_entropy(LOGITS, target, label_smoothing=0.2).item()
    q = target * 0.8 + 0.05
    assert loss == pytest.approx(-(q * _log_softmax(LOGITS, 1)).sum(axis=1).mean(), rel=1e-13)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nn.F.cross_entropy(LOGITS, LABELS[:, :4]), r"must have shape \(3, 5\)"),
        (lambda: nn.F.cross_entropy(LOGITS, np.full((3, 5), 4)), r"\[0, 4\) or equal ignore"),
        (lambda: nn.F.cross_entropy(LOGITS, LABELS, label_smoothing=1.5), "label_smoothing"),
        (lambda: nn.F.cross_entropy(LOGITS, np.ones((3, 5, 4))), r"logits' shape \(3, 4, 5\)"),
        (lambda: nn.F.nll_loss(LOGITS, LABELS[:2]), r"nll_loss: .* must have shape \(3, 5\)"),
        (lambda: nn.F.nll_loss(LOGITS, np.full((3, 5), 9)), r"nll_loss: labels must lie in"),
        (lambda: nn.F.smooth_l1_loss(np.ones(3), np.ones(3), beta=-1), "beta must be >= 0"),
        (lambda: nn.F.huber_loss(np.ones(3), np.ones(2)), r"huber_loss: input has shape \(3,\)"),
    ],
)
def test_loss_errors_name_the_function_and_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_nll_loss_of_log_softmax_is_cross_entropy():
    z = ag.tensor(LOGITS, requires_grad=True)
    nll = nn.F.nll_loss(ag.log_softmax(z, axis=1), LABELS)
    nll.backward()
    grad = z.grad.numpy()
    z.grad = None
    ce = nn.F.cross_entropy(z, LABELS)
    ce.backward()
    assert nll.item() == pytest.approx(ce.item(), rel=1e-14)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=1e-12, atol=1e-16)


def test_nll_loss_ignore_index_and_reductions_by_hand():
    logp = _log_softmax(RNG.standard_normal((5, 3)), 1)
    labels = np.array([0, 2, 1, 2, 0])
    picked = -logp[np.arange(5), labels]
    assert nn.F.nll_loss(logp, labels, "sum").item() == pytest.approx(picked.sum(), rel=1e-14)
    kept = labels != 2
    mean = nn.F.nll_loss(logp, labels, ignore_index=2).item()
    assert mean == pytest.approx(picked[kept].sum() / kept.sum(), rel=1e-14)
    np.testing.assert_allclose(nn.F.nll_loss(logp, labels, "none", 2).numpy(), picked * kept)
    assert nn.NLLLoss(ignore_index=2)(logp, labels).item() == pytest.approx(mean, rel=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_equal_their_piecewise_definitions(reduction):
    pred, target = RNG.standard_normal((4, 5)) * 2, RNG.standard_normal((4, 5))
    d = np.abs(pred - target)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    expected = {
        "l1": d,
        "smooth_l1": np.where(d < 0.5, 0.5 * d * d / 0.5, d - 0.25),
        "huber": np.where(d < 0.7, 0.5 * d * d, 0.7 * (d - 0.35)),
    }
    got = {
        "l1": nn.L1Loss(reduction)(pred, target),
        "smooth_l1": nn.SmoothL1Loss(reduction, beta=0.5)(pred, target),
        "huber": nn.HuberLoss(reduction, delta=0.7)(pred, target),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(got[name].numpy(), reduce(value), rtol=1e-13, err_msg=name)
    beta_zero = nn.F.smooth_l1_loss(pred, target, reduction, beta=0.0).numpy()
    np.testing.assert_allclose(beta_zero, reduce(d), rtol=1e-14)


@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_pass_gradcheck_twice(name):
    fn = getattr(nn.F, name)
    pred, target = RNG.standard_normal((3, 4)) * 2, RNG.standard_normal((3, 4))
    assert ag.gradcheck(lambda p, t: fn(p, t), [pred, target])
    assert ag.gradgradcheck(lambda p, t: fn(p, t, "sum"), [pred, target])


def test_loss_modules_show_their_options():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == (
        "CrossEntropyLoss(reduction='mean', ignore_index=-100, label_smoothing=0.1)"
    )
    assert repr(nn.HuberLoss("sum", delta=2.0)) == "HuberLoss(reduction='sum', delta=2.0)"
    loss = nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=0.25)(LOGITS, LABELS)
    assert loss.item() == pytest.approx(
        nn.F.cross_entropy(LOGITS, LABELS, label_smoothing=0.25).item(), rel=1e-15
    )


TORCH_CASES = [
    ("cross_entropy", LOGITS, LABELS, {"label_smoothing": 0.1}),
    ("cross_entropy", LOGITS, LABELS, {"reduction": "none"}),
    ("cross_entropy", LOGITS, np.where(LABELS < 0, 1, LABELS), {"ignore_index": 1}),
    ("cross_entropy", LOGITS[0, :, 0], np.array(2), {"reduction": "sum"}),
    ("cross_entropy", RNG.standard_normal((5, 3, 2, 2)), RNG.integers(0, 3, (5, 2, 2)), {}),
    ("nll_loss", LOGITS, LABELS, {}),
    ("nll_loss", LOGITS, LABELS, {"reduction": "none"}),
    ("l1_loss", LOGITS, LOGITS[::-1].copy(), {"reduction": "sum"}),
    ("smooth_l1_loss", LOGITS, LOGITS[::-1].copy(), {"beta": 0.3}),
    ("huber_loss", LOGITS, LOGITS[::-1].copy(), {"delta": 0.6, "reduction": "none"}),
]


@pytest.mark.parametrize(("name", "x", "y", "kwargs"), TORCH_CASES)
def test_losses_match_pytorch(name, x, y, kwargs):
    torch = pytest.importorskip("torch")
    ours = ag.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = getattr(nn.F, name)(ours, y, **kwargs)
    expected = getattr(torch.nn.functional, name)(theirs, torch.tensor(y), **kwargs)
    cotangent = RNG.standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-11, atol=1e-15)
