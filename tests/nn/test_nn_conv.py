"""Convolution, pooling and normalisation layers: PyTorch's layouts, initialisation,
buffers, train/eval behaviour and error messages, checked against PyTorch when installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn


def torch_copy(torch, ours: nn.Module, theirs):
    """Load ``ours``' parameters and buffers into the torch module (same names, same layouts)."""
    state = {k: torch.tensor(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return theirs.double()


def run_both(torch, ours: nn.Module, theirs, x: np.ndarray):
    """Output and input gradient of both modules on ``x`` (float64), and their parameters' grads."""
    ours.double()
    tx = ag.tensor(x, requires_grad=True)
    out = ours(tx)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    px = torch.tensor(x, requires_grad=True)
    pout = theirs(px)
    pout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), pout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tx.grad.numpy(), px.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (
            lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, rng=0),
            lambda t: t.nn.Conv2d(4, 6, 3, stride=2, padding=1),
            (2, 4, 7, 6),
        ),
        (
            lambda: nn.Conv2d(
                4, 6, (3, 2), padding="same", dilation=2, groups=2, bias=False, rng=0
            ),
            lambda t: t.nn.Conv2d(4, 6, (3, 2), padding="same", dilation=2, groups=2, bias=False),
            (2, 4, 7, 6),
        ),
        (
            lambda: nn.Conv1d(3, 5, 4, stride=2, padding=1, rng=0),
            lambda t: t.nn.Conv1d(3, 5, 4, stride=2, padding=1),
            (2, 3, 9),
        ),
        (
            lambda: nn.ConvTranspose2d(
                4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, rng=0
            ),
            lambda t: t.nn.ConvTranspose2d(
                4, 6, 3, stride=2, padding=1, output_padding=1, groups=2
            ),
            (2, 4, 3, 4),
        ),
        (lambda: nn.MaxPool2d(3, 2, 1), lambda t: t.nn.MaxPool2d(3, 2, 1), (2, 3, 7, 6)),
        (lambda: nn.MaxPool1d(2), lambda t: t.nn.MaxPool1d(2), (2, 3, 7)),
        (
            lambda: nn.AvgPool2d(2, padding=1, count_include_pad=False),
            lambda t: t.nn.AvgPool2d(2, padding=1, count_include_pad=False),
            (2, 3, 5, 6),
        ),
        (lambda: nn.AvgPool1d(3, 1), lambda t: t.nn.AvgPool1d(3, 1), (2, 3, 7)),
        (
            lambda: nn.AdaptiveAvgPool2d((2, 3)),
            lambda t: t.nn.AdaptiveAvgPool2d((2, 3)),
            (2, 3, 5, 7),
        ),
        (lambda: nn.GroupNorm(2, 6, rng=0), lambda t: t.nn.GroupNorm(2, 6), (2, 6, 3, 3)),
        (lambda: nn.BatchNorm2d(3), lambda t: t.nn.BatchNorm2d(3), (4, 3, 3, 3)),
        (lambda: nn.BatchNorm1d(3), lambda t: t.nn.BatchNorm1d(3), (4, 3)),
    ],
    ids=[
        "conv2d",
        "conv2d-same-groups",
        "conv1d",
        "conv-transpose2d",
        "maxpool2d",
        "maxpool1d",
        "avgpool2d",
        "avgpool1d",
        "adaptive",
        "groupnorm",
        "batchnorm2d",
        "batchnorm1d",
    ],
)
def test_layers_match_pytorch(ours, theirs, shape):
    torch = pytest.importorskip("torch")
    module = ours()
    if getattr(module, "weight", None) is not None:  # not the default ones of the norms
        module.weight.data = module.weight.data * 1.5 + 0.1
    reference = torch_copy(torch, module, theirs(torch))
    x = np.random.default_rng(1).standard_normal(shape)
    run_both(torch, module, reference, x)


def test_batch_norm_running_statistics_follow_pytorch_over_steps_then_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for momentum in (0.1, None):
        ours = nn.BatchNorm2d(3, momentum=momentum).double()
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
        for _ in range(4):
            x = rng.standard_normal((5, 3, 2, 4)) * 3 + 1
            np.testing.assert_allclose(
                ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
            )
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(
                ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key
            )
        assert ours.num_batches_tracked.item() == 4
        ours.eval()
        theirs.eval()
        x = rng.standard_normal((2, 3, 2, 4))
        np.testing.assert_allclose(
            ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
        )
        before = ours.state_dict()
        ours(x)  # eval does not change the statistics
        for key, value in before.items():
            np.testing.assert_array_equal(ours.state_dict()[key], value)


def test_batch_norm_momentum_none_is_the_cumulative_average():
    layer = nn.BatchNorm1d(2, momentum=None).double()
    batches = [np.random.default_rng(i).standard_normal((6, 2)) for i in range(3)]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(
        layer.running_mean.numpy(), np.mean([x.mean(axis=0) for x in batches], axis=0), rtol=1e-12
    )


def test_batch_norm_statistics_are_buffers_not_parameters():
    layer = nn.BatchNorm2d(4)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert list(layer.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert layer.running_mean.dtype == np.float32 and layer.num_batches_tracked.dtype == np.int64
    untracked = nn.BatchNorm2d(4, track_running_stats=False, affine=False)
    assert list(untracked.state_dict()) == [] and list(untracked.parameters()) == []
    x = np.random.default_rng(3).standard_normal((3, 4, 2, 2)).astype(np.float32)
    untracked.eval()  # no running statistics: batch statistics even in eval
    np.testing.assert_allclose(untracked(x).numpy().mean(axis=(0, 2, 3)), 0, atol=1e-6)


def test_state_dict_loads_into_pytorch_and_back():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, rng=0), nn.BatchNorm2d(4), nn.ReLU())
    ours(np.random.default_rng(4).standard_normal((2, 1, 5, 5)).astype(np.float32))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    back = nn.Sequential(nn.Conv2d(1, 4, 3, rng=1), nn.BatchNorm2d(4), nn.ReLU())
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)


@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [
        (lambda rng: nn.Conv2d(3, 8, (5, 3), rng=rng), 3 * 15),
        (lambda rng: nn.Conv2d(4, 8, 3, groups=2, rng=rng), 2 * 9),
        (lambda rng: nn.Conv1d(6, 2, 4, rng=rng), 6 * 4),
        (lambda rng: nn.ConvTranspose2d(8, 6, 3, groups=2, rng=rng), 3 * 9),
    ],
)
def test_pytorch_default_initialisation_bound_through_rng(layer, fan_in):
    bound = 1 / math.sqrt(fan_in)
    first, again = layer(0), layer(0)
    for p in (first.weight, first.bias):
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.5 * bound
    np.testing.assert_array_equal(first.weight.numpy(), again.weight.numpy())  # same seed
    assert not np.array_equal(first.weight.numpy(), layer(1).weight.numpy())


def test_a_lenet_trains_in_float32():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, rng=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Linear(32, 3, rng=2),
    )  # fmt: skip
    optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert loss.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in model.parameters())
    assert losses[-1] < 0.3 * losses[0]


def test_functional_pad_follows_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    cases = [
        ((1, 2), "constant", 0.5),
        ((1, 2, 0, 3), "reflect", None),
        ((2, 1, 1, 1), "replicate", None),
        ((1, 1, 1, 1, 1, 0), "constant", 0.0),
    ]
    for pad, mode, value in cases:
        options = {} if value is None else {"value": value}
        ours = _grads(
            lambda t, pad=pad, mode=mode, o=options: nn.functional.pad(t, pad, mode, **o), x
        )
        t = torch.tensor(x, requires_grad=True)
        out = torch.nn.functional.pad(t, pad, mode, **options)
        out.backward(torch.tensor(ours[2]))
        np.testing.assert_allclose(ours[0], out.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours[1], t.grad.numpy(), rtol=1e-12)


def _grads(fn, x):
    t = ag.tensor(x, requires_grad=True)
    out = fn(t)
    g = np.random.default_rng(7).standard_normal(out.shape)
    out.backward(g)
    return out.numpy(), t.grad.numpy(), g


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: nn.Conv2d(3, 6, 5, rng=0)(np.ones((2, 1, 28, 28))),
            r"Conv2d\(3, 6, kernel_size=\(5, 5\), stride=\(1, 1\)\): expected input of shape "
            r"\(N, 3, H, W\), got \(2, 1, 28, 28\)",
        ),
        (
            lambda: nn.Conv1d(2, 2, 3, rng=0)(np.ones((2, 2, 4, 4))),
            r"Conv1d\(2, 2, .*expected input of shape \(N, 2, L\), got \(2, 2, 4, 4\)",
        ),
        (
            lambda: nn.BatchNorm2d(4)(np.ones((2, 3, 4, 4))),
            r"BatchNorm2d\(4, .*expected input of shape \(N, 4, H, W\), got \(2, 3, 4, 4\)",
        ),
        (
            lambda: nn.BatchNorm1d(4)(np.ones((2, 4, 2, 2))),
            r"expected input of shape \(N, 4\) or \(N, 4, L\)",
        ),
        (
            lambda: nn.GroupNorm(2, 4)(np.ones((2, 3, 4))),
            r"GroupNorm\(2, 4, .*expected input of shape \(N, 4, ...\)",
        ),
        (
            lambda: nn.MaxPool2d(2)(np.ones((2, 4, 4))),
            r"MaxPool2d\(kernel_size=2.*expected input of shape \(N, C, H, W\)",
        ),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), "Conv2d: groups=4 must divide in_channels"),
        (lambda: nn.GroupNorm(4, 6), "GroupNorm: num_groups=4 must divide num_channels"),
        (
            lambda: nn.Conv2d(4, 6, 3, stride=0)(np.ones((1, 4, 5, 5))),
            "conv2d: stride must be positive",
        ),
        (lambda: nn.MaxPool2d(5)(np.ones((1, 1, 4, 4))), r"max_pool2d: kernel_size \(5, 5\)"),
        (lambda: nn.functional.pad(np.ones((2, 2)), (1, 1, 1, 1, 1, 1)), "pad: pad must hold"),
        (lambda: nn.functional.pad(np.ones((2, 2)), (2, 2), "reflect"), "reflect padding"),
        (
            lambda: nn.functional.pad(np.ones((2, 2)), (1, 1), "circular"),
            "pad: mode must be one of",
        ),
    ],
)
def test_layer_errors_name_the_layer_and_the_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Conv2d(True, 4, 3),
        lambda: nn.Conv1d(2, 4, 3, groups=True),
        lambda: nn.BatchNorm2d(True),
        lambda: nn.GroupNorm(True, 4),
    ],
    ids=["in_channels", "groups", "num_features", "num_groups"],
)
def test_a_bool_is_not_a_size_for_conv_and_norm_layers(make):
    # issue 13's rule for every nn size (True == 1 would build a one-channel layer)
    with pytest.raises(
        ValueError, match=r"must be a positive int, got True \(a bool is not a size\)"
    ):
        make()
