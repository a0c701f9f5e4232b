"""Module and Parameter: registration, traversal, modes, state dicts, repr, scopes."""

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.mode import state


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4, rng=0)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, bias=False, rng=1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x) * self.scale))


def test_parameter_is_a_leaf_requiring_grad():
    p = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert p.shape == (2, 3) and p.dtype == np.float64
    assert repr(p).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError, match="floating point"):
        nn.Parameter(np.arange(3))


def test_registration_order_and_paths():
    block = Block()
    assert [name for name, _ in block.named_parameters()] == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
    ]
    assert [name for name, _ in block.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(block.children()) == [block.fc1, block.act, block.fc2]
    assert block.num_parameters() == 4 + 3 * 4 + 4 + 4 * 2
    assert block.fc1._name == "fc1" and block._name is None


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2, rng=0)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert model.num_parameters() == 6
    assert len(list(model.modules())) == 3  # Sequential, Linear (once), ReLU


def test_reassigning_and_deleting_keeps_registries_consistent():
    block = Block()
    block.fc2 = None  # a registered module may be replaced by None
    assert "fc2" not in dict(block.named_children())
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'scale'"):
        block.scale = 3
    del block.scale
    assert [n for n, _ in block.named_parameters()] == ["fc1.weight", "fc1.bias"]
    block.extra = nn.Parameter(np.zeros(1))
    assert [n for n, _ in block.named_parameters()][0] == "extra"


def test_assigning_before_init_is_a_clear_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgot()


def test_zero_grad_train_eval():
    block = Block()
    block(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    assert block.train() is block and all(m.training for m in block.modules())


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


def test_state_dict_is_an_ordered_copy():
    block = Block()
    sd = block.state_dict()
    assert list(sd) == [n for n, _ in block.named_parameters()]
    sd["fc1.weight"][...] = 7.0
    assert not np.any(block.fc1.weight.numpy() == 7.0)


def test_load_state_dict_round_trip_in_place():
    src, dst = Block(), Block()
    dst_weight = dst.fc1.weight
    with ag.no_grad():
        src.fc1.weight.add_(1.0)
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.fc1.weight is dst_weight  # values copied in place, same Parameter objects
    for (_, a), (_, b) in zip(src.named_parameters(), dst.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def snapshot(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    after = module.state_dict()
    assert list(after) == list(before)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


def good_state_with(**changes):
    sd = Block().state_dict()
    sd = {k: v + 1 for k, v in sd.items()}
    sd.update(changes)
    return sd


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ("missing", KeyError, r"missing keys \['fc2.weight'\]"),
        ("unexpected", KeyError, r"unexpected keys \['fc3.weight'\]"),
        ("shape", ValueError, r"'fc2.weight'.*shape \(2, 4\).*shape \(4, 2\)"),
        ("dtype", ValueError, r"'fc2.weight'.*int64"),
    ],
)
def test_failed_load_leaves_the_module_unchanged(bad, error, message):
    block = Block()
    before = snapshot(block)
    sd = good_state_with()
    if bad == "missing":
        del sd["fc2.weight"]
    elif bad == "unexpected":
        sd["fc3.weight"] = np.zeros(2)
    elif bad == "shape":
        sd["fc2.weight"] = np.zeros((2, 4), dtype=np.float32)
    else:
        sd["fc2.weight"] = np.zeros((4, 2), dtype=np.int64)
    with pytest.raises(error, match=message):
        block.load_state_dict(sd)
    assert_unchanged(block, before)


def test_non_strict_load_reports_skipped_keys_and_casts_floats():
    block = Block()
    sd = good_state_with(extra=np.zeros(3))
    del sd["scale"]
    sd["fc2.weight"] = sd["fc2.weight"].astype(np.float64)
    result = block.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["extra"]
    assert block.fc2.weight.dtype == np.float32
    np.testing.assert_array_equal(block.fc2.weight.numpy(), sd["fc2.weight"].astype(np.float32))
    np.testing.assert_array_equal(block.scale.numpy(), np.ones(4))


def test_load_bumps_versions_so_stale_graphs_refuse_backward():
    block = Block()
    out = block(np.ones((1, 3), dtype=np.float32)).sum()
    block.load_state_dict(block.state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_repr_is_nested_like_pytorch():
    expected = (
        "Block(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (act): Tanh()\n"
        "  (fc2): Linear(in_features=4, out_features=2, bias=False)\n"
        ")"
    )
    assert repr(Block()) == expected
    nested = repr(nn.Sequential(nn.Sequential(nn.ReLU()), nn.LeakyReLU(0.2)))
    assert nested == (
        "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n)"
    )


def test_sequential_indexing_iteration_len():
    a, b, c = nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias"]
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        seq[5]
    with pytest.raises(TypeError, match="not an nn.Module"):
        nn.Sequential(a, "relu")
    x = np.ones((4, 2), dtype=np.float32)
    np.testing.assert_allclose(seq(x).numpy(), c(b(a(x))).numpy())


def test_call_records_the_module_scope_on_nodes():
    block = Block()
    out = block(np.ones((2, 3), dtype=np.float32))
    assert state.scope is None  # restored
    assert out._node.scope == (block, block.fc2)
    node = out._node.parents[0]  # tanh's output, made inside block.act
    assert node.scope == (block, block.act)


def test_scope_is_restored_when_forward_raises():
    block = Block()
    with pytest.raises(ValueError):
        block(np.ones((2, 5), dtype=np.float32))
    assert state.scope is None


def test_parameters_are_named_by_path_on_first_call():
    model = nn.MLP([2, 3, 2], rng=0)
    assert model.layers[0].weight.name is None
    model(np.zeros((1, 2), dtype=np.float32))
    assert [p.name for p in model.parameters()] == [n for n, _ in model.named_parameters()]
    model.layers[0].bias.name = "my bias"
    model.layers.append(nn.Linear(2, 2, rng=1))  # the structure changes: names are redone
    model(np.zeros((1, 2), dtype=np.float32))
    assert model.layers[0].bias.name == "my bias"  # a user's name is kept
    assert model.layers[3].weight.name == "layers.3.weight"


def test_calling_a_child_directly_keeps_root_paths():
    model = nn.MLP([2, 3, 2], rng=0)
    model(np.zeros((1, 2), dtype=np.float32))
    model.layers[0](np.zeros((1, 2), dtype=np.float32))
    assert model.layers[0].weight.name == "layers.0.weight"


def test_activation_modules_at_large_inputs_have_exact_gradients():
    x = ag.tensor([[-1000.0, 0.0, 1000.0]], requires_grad=True)
    y = nn.Sequential(nn.Tanh(), nn.Sigmoid())(x)  # d/dx = s(1 - s) (1 - tanh^2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.25, 0.0]], atol=1e-300)


# ------------------------------------------------------------------ buffers, apply, to
class WithStats(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 3, rng=0)
        self.register_buffer("running_mean", np.zeros(3, np.float32))
        self.register_buffer("count", np.zeros((), np.int64))
        self.register_buffer("scratch", np.ones(3), persistent=False)


def test_buffers_are_state_but_not_parameters():
    m = nn.Sequential(WithStats())
    assert [n for n, _ in m.named_parameters()] == ["0.fc.weight", "0.fc.bias"]
    assert [n for n, _ in m.named_buffers()] == ["0.running_mean", "0.count", "0.scratch"]
    assert not any(b.requires_grad for b in m.buffers())
    # PyTorch's order: a module's parameters and persistent buffers, then its children's
    assert list(m.state_dict()) == ["0.running_mean", "0.count", "0.fc.weight", "0.fc.bias"]
    m[0].running_mean = np.full(3, 2.0, np.float32)  # assigning replaces the buffer
    assert isinstance(m[0].running_mean, ag.Tensor)
    assert m.state_dict()["0.running_mean"].tolist() == [2.0, 2.0, 2.0]


def test_buffers_load_in_place_and_failed_loads_change_nothing():
    source, target = WithStats(), WithStats()
    source.running_mean = np.arange(3, dtype=np.float32)
    source.count = np.array(5)
    target.load_state_dict(source.state_dict())
    assert target.running_mean.tolist() == [0.0, 1.0, 2.0] and target.count.item() == 5
    bad = {**source.state_dict(), "count": np.array(1.5)}  # a float into an int buffer
    with pytest.raises(ValueError, match="'count'"):
        target.load_state_dict(bad)
    assert target.count.item() == 5


def test_register_buffer_errors():
    m = WithStats()
    with pytest.raises(KeyError, match="already a parameter"):
        m.register_buffer("fc", np.zeros(1))
    with pytest.raises(TypeError, match="Parameter"):
        m.register_buffer("w", nn.Parameter(np.zeros(1)))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", np.zeros(1))


def test_to_double_float_cast_in_place_and_apply_visits_children_first():
    m = WithStats()
    weight = m.fc.weight
    m.fc.weight.grad = np.ones((2, 3), np.float32)
    assert m.double() is m
    assert m.fc.weight is weight and weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert m.running_mean.dtype == np.float64 and m.count.dtype == np.int64
    assert m.float().fc.bias.dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        m.to(np.int32)
    visited = []
    m.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "WithStats"]


def test_a_wider_float_input_warns_once_per_layer_and_gives_numpys_result():
    # issue 17: a float64 input to a float32 layer computes in float64, as numpy promotes;
    # PyTorch raises, so say so once per layer instead of silently running at double cost
    import warnings

    model = nn.MLP([2, 3, 2], rng=0)  # float32
    x = np.ones((4, 2))  # float64
    with pytest.warns(nn.MixedDtypeWarning) as caught:
        out = model(x)
    assert out.dtype == np.float64
    assert len(caught) == 2  # each Linear once
    message = str(caught[0].message)
    assert "Linear has float32 parameters but got a float64 input" in message
    assert "the result is float64" in message and "model.to(np.float64)" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(x)  # already said
        nn.Linear(2, 3, rng=0)(x.astype(np.float32))  # same dtype
        nn.Linear(2, 3, dtype=np.float64, rng=0)(x.astype(np.float32))  # narrower input
        nn.ReLU()(x)  # no parameters: nothing to compare
    with pytest.warns(nn.MixedDtypeWarning):
        nn.Linear(2, 3, rng=0)(ag.tensor(x))  # a new layer warns again
    with pytest.warns(nn.MixedDtypeWarning, match="got a int64 input: the result is float64"):
        nn.Linear(2, 3, rng=0)(np.ones((1, 2), dtype=np.int64))  # numpy: int64 @ float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError):  # a failing forward says only its error
            nn.Embedding(6, 3)(np.array([0.0, 1.0]))
