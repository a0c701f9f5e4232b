"""ModuleList and ModuleDict: PyTorch's container semantics, children registered by name."""

import numpy as np
import pytest

import nn


def linears(n, start=0):
    return [nn.Linear(2, 2, rng=start + i) for i in range(n)]


def names(module):
    return [name for name, _ in module.named_parameters()]


# ---------------------------------------------------------------------- ModuleList
def test_module_list_registers_children_named_by_position():
    a, b, c = linears(3)
    layers = nn.ModuleList([a, b])
    layers.append(c)
    assert len(layers) == 3 and list(layers) == [a, b, c]
    assert layers[0] is a and layers[-1] is c and layers[-3] is a
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2"]
    assert names(layers) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    assert list(layers.state_dict()) == names(layers)
    assert nn.ModuleList().num_parameters() == 0 and len(nn.ModuleList()) == 0


def test_module_list_in_a_model_names_parameters_by_path():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(linears(2))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert names(net) == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    x = np.ones((3, 2), dtype=np.float32)
    np.testing.assert_array_equal(net(x).numpy(), net.blocks[1](net.blocks[0](x)).numpy())
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_insert_delete_and_pop_renumber_like_pytorch():
    a, b, c, d = linears(4)
    layers = nn.ModuleList([a, c])
    layers.insert(1, b)
    assert list(layers) == [a, b, c]
    layers.insert(-1, d)  # before the last, as list.insert
    assert list(layers) == [a, b, d, c]
    del layers[2]
    assert list(layers) == [a, b, c]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2"]
    assert layers.pop(0) is a and list(layers) == [b, c]
    assert names(layers)[:2] == ["0.weight", "0.bias"]
    del layers[:]
    assert len(layers) == 0 and names(layers) == []
    layers.insert(5, a)  # past the end appends, as list.insert
    assert list(layers) == [a]


def test_module_list_setitem_slices_extend_and_add():
    a, b, c, d = linears(4)
    layers = nn.ModuleList([a, b, c])
    layers[1] = d
    assert list(layers) == [a, d, c] and layers._modules["1"] is d
    head = layers[:2]
    assert isinstance(head, nn.ModuleList) and list(head) == [a, d]
    assert list(layers[::-1]) == [c, d, a]
    layers.extend([b])
    assert list(layers) == [a, d, c, b]
    layers += nn.ModuleList([a])  # the same module twice: its parameters are listed once
    assert len(layers) == 5 and len(list(layers.parameters())) == 8
    joined = nn.ModuleList([a]) + nn.ModuleList([b])
    assert isinstance(joined, nn.ModuleList) and list(joined) == [a, b]


def test_module_list_errors():
    layers = nn.ModuleList(linears(2))
    with pytest.raises(IndexError, match="ModuleList index 2 is out of range for 2 modules"):
        layers[2]
    with pytest.raises(IndexError, match="index -3 is out of range"):
        del layers[-3]
    with pytest.raises(TypeError, match="ModuleList indices must be integers or slices"):
        layers["0"]
    with pytest.raises(TypeError, match="must be an nn.Module.*got str"):
        layers.append("relu")
    with pytest.raises(TypeError, match="must be an nn.Module"):
        nn.ModuleList([nn.ReLU(), np.zeros(2)])
    with pytest.raises(TypeError, match="iterable of modules.*got Linear"):
        nn.ModuleList(nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="ModuleList is a container.*iterate"):
        layers(np.ones((1, 2)))


# ---------------------------------------------------------------------- ModuleDict
def test_module_dict_is_an_ordered_mapping_of_children():
    a, b, c = linears(3)
    blocks = nn.ModuleDict({"enc": a, "dec": b})
    assert list(blocks) == ["enc", "dec"] and len(blocks) == 2
    assert blocks["enc"] is a and "dec" in blocks and "mid" not in blocks
    assert list(blocks.keys()) == ["enc", "dec"] and list(blocks.values()) == [a, b]
    assert list(blocks.items()) == [("enc", a), ("dec", b)]
    blocks["mid"] = c
    assert names(blocks) == [f"{k}.{p}" for k in ("enc", "dec", "mid") for p in ("weight", "bias")]
    blocks.update([("enc", c), ("extra", nn.ReLU())])  # pairs; an existing key keeps its place
    assert list(blocks.items())[0] == ("enc", c) and list(blocks)[-1] == "extra"
    blocks.update(nn.ModuleDict({"more": nn.Tanh()}))
    assert blocks.pop("dec") is b and "dec" not in blocks and not hasattr(blocks, "dec")
    del blocks["extra"]
    assert list(blocks) == ["enc", "mid", "more"]
    blocks.clear()
    assert len(blocks) == 0 and names(blocks) == []


def test_module_dict_errors():
    blocks = nn.ModuleDict({"enc": nn.ReLU()})
    with pytest.raises(KeyError, match="ModuleDict has no key 'dec'; its keys are \\['enc'\\]"):
        blocks["dec"]
    with pytest.raises(KeyError, match="attribute 'parameters' already exists"):
        blocks["parameters"] = nn.ReLU()  # would hide Module.parameters()
    with pytest.raises(KeyError, match="without '.'"):
        blocks["a.b"] = nn.ReLU()
    with pytest.raises(TypeError, match="ModuleDict keys must be strings, got int"):
        blocks[0] = nn.ReLU()
    with pytest.raises(TypeError, match="must be an nn.Module"):
        blocks["x"] = 3
    with pytest.raises(ValueError, match="update sequence element #0 has length 3; 2 is required"):
        blocks.update([("a", nn.ReLU(), 1)])
    with pytest.raises(NotImplementedError, match="ModuleDict is a container"):
        blocks(np.ones(2))
    assert list(blocks) == ["enc"]


def test_containers_match_torch_state_dict_names():
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"stack": nn.ModuleList(linears(2)), "head": nn.Linear(2, 1, rng=9)})
    ours["stack"].insert(0, nn.Linear(2, 2, rng=5))
    theirs = torch.nn.ModuleDict(
        {
            "stack": torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(2)]),
            "head": torch.nn.Linear(2, 1),
        }
    )
    theirs["stack"].insert(0, torch.nn.Linear(2, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
