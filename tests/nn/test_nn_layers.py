"""Layers, the notes' networks and ``nn.init``: shapes, values, initialisation, seeds."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1) are kept

import math

import numpy as np
import pytest

import autograd as ag
import nn


def x32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------- Linear
def test_linear_layout_forward_and_dtype():
    layer = nn.Linear(3, 5, rng=0)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (5,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    x = x32(4, 3)
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out.numpy(), x @ layer.weight.numpy() + layer.bias.numpy(), rtol=1e-6
    )
    assert nn.Linear(3, 5, bias=False, rng=0).bias is None


def test_linear_default_init_is_pytorch_uniform():
    layer = nn.Linear(400, 300, dtype=np.float64, rng=1)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.numpy()).max() <= bound
    # U(-b, b) has std b/sqrt(3); 120,000 samples pin it to well under 1%.
    assert layer.weight.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert abs(layer.weight.numpy().mean()) < 0.01 * bound


def test_seeds_make_modules_reproducible():
    a, b = nn.MLP([3, 8, 2], rng=7), nn.MLP([3, 8, 2], rng=7)
    c = nn.MLP([3, 8, 2], rng=8)
    for (_, pa), (_, pb), (_, pc) in zip(
        a.named_parameters(), b.named_parameters(), c.named_parameters()
    ):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
        assert not np.array_equal(pa.numpy(), pc.numpy())
    gen = np.random.default_rng(3)
    first, second = nn.Linear(2, 2, rng=gen), nn.Linear(2, 2, rng=gen)
    assert not np.array_equal(first.weight.numpy(), second.weight.numpy())


def test_linear_rejects_bad_sizes():
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        nn.Linear(0, 3)


@pytest.mark.parametrize(
    "build, label",
    [
        (lambda: nn.Linear(True, 2), "in_features"),
        (lambda: nn.Linear(2, np.True_), "out_features"),
        (lambda: nn.TwoLayerMLP(2, True, 2), "layer sizes"),
        (lambda: nn.MLP([2, True]), "layer sizes"),
    ],
)
def test_bools_are_not_sizes(build, label):
    # issue 13: nn.Linear(True, 2) built a 1-feature layer (True == 1) without a word
    with pytest.raises(ValueError, match=rf"{label}.*True.*a bool is not a size"):
        build()


# ---------------------------------------------------------------------- the notes' networks
@pytest.mark.parametrize(
    "activation, sigma",
    [
        ("relu", lambda a: np.maximum(a, 0)),
        ("tanh", np.tanh),
        ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
        ("leaky_relu", lambda a: np.where(a > 0, a, 0.01 * a)),
        ("identity", lambda a: a),
        (nn.Tanh, np.tanh),
    ],
)
def test_two_layer_mlp_is_exactly_sigma_xw1_w2(activation, sigma):
    model = nn.TwoLayerMLP(4, 6, 3, activation=activation, dtype=np.float64, rng=0)
    assert model.W1.shape == (4, 6) and model.W2.shape == (6, 3)
    assert [n for n, _ in model.named_parameters()] == ["W1", "W2"]
    X = np.random.default_rng(1).standard_normal((5, 4))
    expected = sigma(X @ model.W1.numpy()) @ model.W2.numpy()
    np.testing.assert_allclose(model(X).numpy(), expected, rtol=1e-12, atol=1e-15)


def test_two_layer_mlp_init_and_biases():
    model = nn.TwoLayerMLP(300, 200, 100, bias=True, dtype=np.float64, rng=2)
    assert [n for n, _ in model.named_parameters()] == ["W1", "b1", "W2", "b2"]
    assert model.W1.numpy().std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert model.W2.numpy().std() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    np.testing.assert_array_equal(model.b1.numpy(), np.zeros(200))
    # hidden units start different (symmetry broken)
    assert len(np.unique(model.W1.numpy()[0])) == 200


def test_mlp_structure():
    model = nn.MLP([4, 8, 8, 3], activation="tanh", output_activation="sigmoid", rng=0)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Sigmoid"]
    assert [layer.weight.shape for layer in model.linears] == [(4, 8), (8, 8), (8, 3)]
    no_bias = nn.MLP([4, 8, 3], bias=False, activation=nn.LeakyReLU, rng=0)
    assert [n for n, _ in no_bias.named_parameters()] == ["layers.0.weight", "layers.2.weight"]
    assert isinstance(no_bias.layers[1], nn.LeakyReLU)
    custom = nn.MLP([2, 3, 1], activation=lambda: nn.LeakyReLU(0.2), rng=0)
    assert custom.layers[1].negative_slope == 0.2
    out = model(x32(5, 4))
    assert out.shape == (5, 3) and np.all((out.numpy() > 0) & (out.numpy() < 1))


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.MLP([3])
    with pytest.raises(ValueError, match="positive ints"):
        nn.MLP([3, -1, 2])
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.MLP([3, 2], activation="gelu")
    with pytest.raises(TypeError, match="activation must be a name"):
        nn.MLP([3, 2, 2], activation=42)


# ---------------------------------------------------------------------- activations
@pytest.mark.parametrize(
    "module, reference",
    [
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), np.tanh),
        (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
        (nn.Identity(), lambda x: x),
        (nn.Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(axis=0)),
    ],
)
def test_activation_values(module, reference):
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(np.asarray(module(ag.tensor(x))), reference(x), rtol=1e-12)


def test_flatten_keeps_the_batch_axis():
    x = ag.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out.numpy()[1], np.arange(12.0, 24.0))
    out.sum().backward()
    assert x.grad.shape == (2, 3, 4)


# ---------------------------------------------------------------------- dropout
def test_dropout_zeroes_and_rescales_in_training_only():
    layer = nn.Dropout(p=0.25, rng=0)
    x = ag.tensor(np.ones((200, 100), dtype=np.float32), requires_grad=True)
    out = layer(x)
    values = out.numpy()
    assert set(np.unique(values)) == {0.0, np.float32(1 / 0.75)}
    assert (values == 0).mean() == pytest.approx(0.25, abs=0.01)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # d/dx = mask / (1 - p)
    layer.eval()
    assert layer(x) is x


def test_dropout_masks_are_reproducible_and_change_between_calls():
    x = np.ones((10, 10))
    a, b = nn.Dropout(0.5, rng=4), nn.Dropout(0.5, rng=4)
    first = a(x).numpy()
    np.testing.assert_array_equal(first, b(x).numpy())
    assert not np.array_equal(first, a(x).numpy())


def test_dropout_edge_probabilities():
    x = np.ones(5)
    np.testing.assert_array_equal(nn.F.dropout(x, 0.0).numpy(), x)
    np.testing.assert_array_equal(nn.F.dropout(x, 1.0).numpy(), np.zeros(5))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------------- nn.init
def big(shape=(500, 300)):
    return nn.Parameter(np.zeros(shape))


@pytest.mark.parametrize(
    "fill, std",
    [
        (lambda t: nn.init.xavier_normal_(t, rng=0), math.sqrt(2 / 800)),
        (lambda t: nn.init.xavier_uniform_(t, rng=0), math.sqrt(6 / 800) / math.sqrt(3)),
        (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu", rng=0), math.sqrt(2 / 500)),
        (
            lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu", mode="fan_out", rng=0),
            math.sqrt(2 / 300),
        ),
        (lambda t: nn.init.normal_(t, 0.0, 0.3, rng=0), 0.3),
        (lambda t: nn.init.uniform_(t, -2.0, 2.0, rng=0), 2 / math.sqrt(3)),
    ],
)
def test_init_standard_deviations(fill, std):
    t = big()
    assert fill(t) is t
    assert t.numpy().std() == pytest.approx(std, rel=0.01)
    assert abs(t.numpy().mean()) < 0.01 * std


def test_init_bounds_fans_and_constants():
    t = nn.init.xavier_uniform_(big((10, 30)), gain=2.0, rng=1)
    assert np.abs(t.numpy()).max() <= 2.0 * math.sqrt(6 / 40)
    assert nn.init.fans(np.zeros((3, 4, 5))) == (15, 20)  # (in, out, receptive field)
    np.testing.assert_array_equal(nn.init.ones_(big((2, 2))).numpy(), np.ones((2, 2)))
    np.testing.assert_array_equal(nn.init.zeros_(nn.init.ones_(big((2, 2)))).numpy(), 0)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_normal_(nn.Parameter(np.zeros(4)))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(big((2, 2)), mode="fan_avg")


def test_init_is_reproducible_and_bumps_the_version():
    a, b = big((4, 4)), big((4, 4))
    version = a._version
    nn.init.normal_(a, rng=5)
    nn.init.normal_(b, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a._version > version


def test_calculate_gain_matches_pytorch_table():
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert nn.init.calculate_gain("sigmoid") == 1.0
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
