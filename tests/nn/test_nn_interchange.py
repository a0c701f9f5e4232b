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
