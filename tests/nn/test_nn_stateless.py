"""nn.functional_call: a module as a function of its parameters and buffers, for the transforms."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W, H) are kept

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional_call


class Scaled(nn.Module):
    """``(x @ W) * scale`` with ``scale`` a buffer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2, bias=False, dtype=np.float64, rng=0)
        self.register_buffer("scale", np.array([1.0, 2.0]))

    def forward(self, x, shift=0.0):
        return self.fc(x) * self.scale + shift


def test_given_tensors_replace_parameters_and_buffers_for_the_call_only():
    model = Scaled()
    W0, scale0 = model.fc.weight, model.scale
    x = np.ones((1, 3))
    W, scale = np.arange(6.0).reshape(3, 2), np.array([10.0, -1.0])
    out = functional_call(model, {"fc.weight": W, "scale": scale}, x, shift=0.5)
    np.testing.assert_array_equal(out.numpy(), (x @ W) * scale + 0.5)
    assert model.fc.weight is W0 and model.scale is scale0
    assert model.fc._parameters["weight"] is W0 and model._buffers["scale"] is scale0
    partial = functional_call(model, {"scale": scale}, x)  # the weight stays the module's
    np.testing.assert_array_equal(partial.numpy(), (x @ W0.numpy()) * scale)


def test_module_is_restored_when_forward_raises():
    model = Scaled()
    W0 = model.fc.weight
    with pytest.raises(ValueError, match="matmul"):
        functional_call(model, {"fc.weight": np.zeros((3, 2))}, np.ones((1, 4)))
    assert model.fc.weight is W0 and model.fc._parameters["weight"] is W0


def test_gradients_flow_to_the_given_tensors_not_the_parameters():
    model = Scaled()
    W = ag.tensor(np.ones((3, 2)), requires_grad=True)
    functional_call(model, {"fc.weight": W}, np.ones((2, 3))).sum().backward()
    np.testing.assert_array_equal(W.grad.numpy(), np.tile([[2.0, 4.0]], (3, 1)))  # 2 rows, scale
    assert model.fc.weight.grad is None


def test_hessian_of_a_loss_with_respect_to_a_weight_is_the_closed_form():
    # L(W) = mean((X W - Y)²) over m x k entries: d²L / dW_ij dW_kl = 2/(m k) (XᵀX)_ik δ_jl
    rng = np.random.default_rng(0)
    m, n, k = 5, 3, 2
    X, Y = rng.standard_normal((m, n)), rng.standard_normal((m, k))
    layer = nn.Linear(n, k, bias=False, dtype=np.float64, rng=1)
    loss = lambda W: nn.F.mse_loss(functional_call(layer, {"weight": W}, X), Y)  # noqa: E731
    H = ag.hessian(loss)(layer.weight.numpy())
    expected = 2 / (m * k) * np.einsum("ik,jl->ijkl", X.T @ X, np.eye(k))
    np.testing.assert_allclose(H.numpy(), expected, rtol=1e-12, atol=1e-15)
    grad = ag.grad(loss)(layer.weight.numpy())
    layer.zero_grad()
    nn.F.mse_loss(layer(X), Y).backward()
    np.testing.assert_allclose(grad.numpy(), layer.weight.grad.numpy(), rtol=1e-12)


def test_float64_values_gradcheck_a_float32_model():
    model = nn.MLP([3, 4, 2], activation="tanh", rng=0)  # float32 parameters
    x = np.random.default_rng(1).standard_normal((2, 3))
    names = [name for name, _ in model.named_parameters()]
    start = [p.numpy().astype(np.float64) for p in model.parameters()]

    def f(*params):
        return functional_call(model, dict(zip(names, params)), x).sum()

    assert f(*start).dtype == np.float64
    assert ag.gradcheck(f, start) and ag.gradgradcheck(f, start)


def test_tied_weights_are_replaced_everywhere():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(2, 2, bias=False, dtype=np.float64, rng=0)
            self.dec = nn.Linear(2, 2, bias=False, dtype=np.float64, rng=1)
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(self.enc(x))

    model = Tied()
    W, x = np.array([[2.0, 0.0], [0.0, 3.0]]), np.ones((1, 2))
    for name in ("enc.weight", "dec.weight"):  # either path of the tied tensor
        np.testing.assert_array_equal(functional_call(model, {name: W}, x).numpy(), x @ W @ W)
    same = ag.tensor(W)
    functional_call(model, {"enc.weight": same, "dec.weight": same}, x)
    with pytest.raises(ValueError, match="'enc.weight' and 'dec.weight' are the same \\(tied\\)"):
        functional_call(model, {"enc.weight": W, "dec.weight": W.copy()}, x)


def test_nested_calls_restore_in_order():
    model = Scaled()
    W0 = model.fc.weight
    x = np.ones((1, 3))

    class Outer(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return functional_call(self.inner, {"scale": np.zeros(2)}, x)

    outer = Outer(model)
    out = functional_call(outer, {"inner.fc.weight": np.ones((3, 2))}, x)
    np.testing.assert_array_equal(out.numpy(), np.zeros((1, 2)))
    assert model.fc.weight is W0 and model.scale.numpy().tolist() == [1.0, 2.0]


def test_bad_names_and_shapes_are_clear_errors():
    model = Scaled()
    with pytest.raises(KeyError, match="'fc.weigth' is not a parameter or buffer of Scaled; "):
        functional_call(model, {"fc.weigth": np.zeros((3, 2))}, np.ones((1, 3)))
    with pytest.raises(KeyError, match="did you mean \\['fc.weight'\\]"):
        functional_call(model, {"fc.weigth": np.zeros((3, 2))}, np.ones((1, 3)))
    with pytest.raises(ValueError, match="'fc.weight' was given a tensor of shape \\(2, 3\\)"):
        functional_call(model, {"fc.weight": np.zeros((2, 3))}, np.ones((1, 3)))
    with pytest.raises(TypeError, match="parameters must be a dict"):
        functional_call(model, [np.zeros((3, 2))], np.ones((1, 3)))
    with pytest.raises(TypeError, match="expected an nn.Module"):
        functional_call(lambda x: x, {}, 1.0)


def test_parameter_labels_survive_a_first_call_through_functional_call():
    model = nn.MLP([2, 2], rng=0)
    functional_call(model, {"layers.0.bias": np.zeros(2, np.float32)}, np.ones((1, 2), np.float32))
    model(np.ones((1, 2), np.float32))
    assert [p.name for p in model.parameters()] == ["layers.0.weight", "layers.0.bias"]


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_hessians_match_torch_func():
    torch = pytest.importorskip("torch")
    from torch.func import functional_call as torch_call
    from torch.func import hessian as torch_hessian

    rng = np.random.default_rng(3)
    ours = nn.MLP([3, 4, 2], activation="tanh", dtype=np.float64, rng=0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    with torch.no_grad():
        for i in (0, 2):
            theirs[i].weight.copy_(torch.from_numpy(ours.layers[i].weight.numpy().T))
            theirs[i].bias.copy_(torch.from_numpy(ours.layers[i].bias.numpy()))
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    W, b = ours.layers[0].weight.numpy(), ours.layers[0].bias.numpy()

    def our_loss(W, b):
        logits = functional_call(ours, {"layers.0.weight": W, "layers.0.bias": b}, X)
        return nn.F.cross_entropy(logits, y)

    def their_loss(Wt, b):
        logits = torch_call(theirs, {"0.weight": Wt, "0.bias": b}, (torch.from_numpy(X),))
        return torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))

    (H_ww, H_wb), (H_bw, H_bb) = ag.hessian(our_loss, argnums=(0, 1))(W, b)
    (T_ww, T_wb), (T_bw, T_bb) = (
        (t.detach().numpy() for t in row)
        for row in torch_hessian(their_loss, argnums=(0, 1))(
            torch.from_numpy(W.T.copy()), torch.from_numpy(b)
        )
    )
    # ours holds W as (in, out), torch as (out, in): transpose each W axis pair
    np.testing.assert_allclose(H_ww.numpy(), T_ww.transpose(1, 0, 3, 2), atol=1e-13)
    np.testing.assert_allclose(H_wb.numpy(), T_wb.transpose(1, 0, 2), atol=1e-13)
    np.testing.assert_allclose(H_bw.numpy(), T_bw.transpose(0, 2, 1), atol=1e-13)
    np.testing.assert_allclose(H_bb.numpy(), T_bb, atol=1e-13)
    assert np.abs(H_ww.numpy()).max() > 1e-3  # not a vacuous comparison
