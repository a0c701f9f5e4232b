"""Weights to and from PyTorch: names and layouts of the equivalent torch.nn modules."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn


class Net(nn.Module):
    """A custom model: an MLP, a Linear and a TwoLayerMLP under attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.MLP([4, 8, 6], rng=0)
        self.head = nn.Linear(6, 3, rng=1)
        self.side = nn.TwoLayerMLP(4, 5, 3, bias=True, rng=2)

    def forward(self, x):
        return self.head(ag.relu(self.body(x))) + self.side(x)


def test_names_and_layouts_follow_pytorch():
    state = nn.to_torch_state_dict(Net())
    assert list(state) == [
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
        "head.weight",
        "head.bias",
        "side.0.weight",
        "side.0.bias",
        "side.2.weight",
        "side.2.bias",
    ]
    assert state["head.weight"].shape == (3, 6) and state["side.0.weight"].shape == (5, 4)
    assert all(v.flags.c_contiguous for v in state.values())


def test_round_trip_restores_every_value():
    source, target = Net(), Net()
    for p in target.parameters():
        p.data[...] = 0
    nn.load_torch_state_dict(target, nn.to_torch_state_dict(source))
    for (k, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_errors_name_the_key_and_the_layout_rule():
    layer = nn.Linear(3, 2, rng=0)
    state = nn.to_torch_state_dict(layer)
    with pytest.raises(ValueError, match=r"'weight'.*looks transposed.*\(out_features"):
        nn.load_torch_state_dict(layer, {**state, "weight": layer.weight.numpy()})
    with pytest.raises(ValueError, match="missing key 'bias'"):
        nn.load_torch_state_dict(layer, {"weight": state["weight"]})
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        nn.load_torch_state_dict(layer, {**state, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match="'bias' is float64.*float32"):
        nn.load_torch_state_dict(layer, {**state, "bias": state["bias"].astype(np.float64)})
    before = layer.weight.numpy().copy()
    with pytest.raises(ValueError):
        nn.load_torch_state_dict(layer, {**state, "weight": np.zeros((4, 4), np.float32)})
    np.testing.assert_array_equal(layer.weight.numpy(), before)  # nothing changed


def test_the_equivalent_torch_model_gives_the_same_outputs_both_ways():
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6)
            )
            self.head = torch.nn.Linear(6, 3)
            self.side = torch.nn.Sequential(
                torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)
            )

        def forward(self, x):
            return self.head(torch.relu(self.body(x))) + self.side(x)

    ours, theirs = Net(), TorchNet()
    theirs.load_state_dict(
        {k: torch.from_numpy(v) for k, v in nn.to_torch_state_dict(ours).items()}
    )
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    trained = TorchNet()  # the other way: PyTorch weights into topograd, torch tensors accepted
    fresh = nn.load_torch_state_dict(Net(), trained.state_dict())
    with torch.no_grad():
        expected = trained(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(fresh(ag.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


def _layer_pairs(torch):
    """(topograd layer, the equivalent torch.nn layer, example inputs) for every layer."""
    rng = np.random.default_rng(0)

    def x(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    tnn = torch.nn
    encoder = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
    return {
        "Linear": (nn.Linear(4, 3), tnn.Linear(4, 3), (x(2, 4),)),
        "Conv1d": (nn.Conv1d(2, 3, 3, padding=1), tnn.Conv1d(2, 3, 3, padding=1), (x(2, 2, 7),)),
        "Conv2d": (
            nn.Conv2d(2, 4, 3, stride=2, groups=2),
            tnn.Conv2d(2, 4, 3, stride=2, groups=2),
            (x(2, 2, 7, 7),),
        ),
        "ConvTranspose2d": (
            nn.ConvTranspose2d(2, 3, 3, stride=2),
            tnn.ConvTranspose2d(2, 3, 3, stride=2),
            (x(2, 2, 4, 4),),
        ),
        "BatchNorm1d": (nn.BatchNorm1d(3).eval(), tnn.BatchNorm1d(3).eval(), (x(4, 3),)),
        "BatchNorm2d": (nn.BatchNorm2d(3).eval(), tnn.BatchNorm2d(3).eval(), (x(2, 3, 4, 4),)),
        "GroupNorm": (nn.GroupNorm(2, 4), tnn.GroupNorm(2, 4), (x(2, 4, 3, 3),)),
        "LayerNorm": (nn.LayerNorm(5), tnn.LayerNorm(5), (x(2, 3, 5),)),
        "Embedding": (nn.Embedding(10, 4), tnn.Embedding(10, 4), (np.array([[1, 2], [3, 9]]),)),
        "RNN": (
            nn.RNN(3, 5, num_layers=2, batch_first=True),
            tnn.RNN(3, 5, num_layers=2, batch_first=True),
            (x(2, 4, 3),),
        ),
        "LSTM": (
            nn.LSTM(3, 5, bidirectional=True),
            tnn.LSTM(3, 5, bidirectional=True),
            (x(4, 2, 3),),
        ),
        "GRU": (nn.GRU(3, 5, num_layers=2), tnn.GRU(3, 5, num_layers=2), (x(4, 2, 3),)),
        "RNNCell": (nn.RNNCell(3, 5), tnn.RNNCell(3, 5), (x(2, 3),)),
        "LSTMCell": (nn.LSTMCell(3, 5), tnn.LSTMCell(3, 5), (x(2, 3),)),
        "GRUCell": (nn.GRUCell(3, 5), tnn.GRUCell(3, 5), (x(2, 3),)),
        "MultiheadAttention": (
            nn.MultiheadAttention(8, 2, batch_first=True),
            tnn.MultiheadAttention(8, 2, batch_first=True),
            (x(2, 5, 8), x(2, 5, 8), x(2, 5, 8)),
        ),
        "TransformerEncoderLayer": (
            nn.TransformerEncoderLayer(**encoder).eval(),
            tnn.TransformerEncoderLayer(**encoder).eval(),
            (x(2, 5, 8),),
        ),
        "TransformerEncoder": (
            nn.TransformerEncoder(nn.TransformerEncoderLayer(**encoder, norm_first=True), 2).eval(),
            tnn.TransformerEncoder(
                tnn.TransformerEncoderLayer(**encoder, norm_first=True),
                2,
                enable_nested_tensor=False,
            ).eval(),
            (x(2, 5, 8),),
        ),
        "MLP": (
            nn.MLP([4, 6, 3]),
            tnn.Sequential(tnn.Linear(4, 6), tnn.ReLU(), tnn.Linear(6, 3)),
            (x(2, 4),),
        ),
    }


LAYERS = [
    "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm",
    "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "MLP",
]  # fmt: skip


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_round_trips_through_its_torch_nn_equivalent(name):
    # issue 19: the same keys in the same order, and the same outputs after loading either way
    torch = pytest.importorskip("torch")
    ours, theirs, args = _layer_pairs(torch)[name]
    state = nn.to_torch_state_dict(ours)
    assert list(state) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    first = lambda out: out[0] if isinstance(out, tuple) else out  # noqa: E731
    expected = first(ours(*args)).numpy()
    with torch.no_grad():
        got = first(theirs(*[torch.from_numpy(a) for a in args])).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    for p in ours.parameters():
        p.data[...] = 0
    nn.load_torch_state_dict(ours, theirs.state_dict())
    np.testing.assert_array_equal(first(ours(*args)).numpy(), expected)
