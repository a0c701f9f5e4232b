"""``Embedding``, ``one_hot`` and ``LayerNorm``: values, gradients, PyTorch's init and
errors, and PyTorch's outputs with copied weights when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

RNG = np.random.default_rng(0)


def test_embedding_looks_up_rows_and_scatter_adds_repeated_indices():
    emb = nn.Embedding(6, 3, dtype=np.float64, rng=0)
    indices = np.array([[1, 4, 1], [0, 1, 5]])
    out = emb(indices)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[indices])
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    expected = np.zeros((6, 3))
    np.add.at(expected, indices, g)
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected, rtol=1e-14)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 4, padding_idx=-1, rng=0)
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.numpy()[4], 0)
    out = emb(np.array([4, 2, 4, 0]))
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[4], 0)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[2], 1)
    assert emb.weight.grad.dtype == np.float32


def test_embedding_init_is_standard_normal_from_rng():
    a, b = nn.Embedding(200, 50, rng=3), nn.Embedding(200, 50, rng=3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    values = a.weight.numpy()
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


def test_embedding_from_pretrained_freezes_by_default():
    table = RNG.standard_normal((4, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    np.testing.assert_array_equal(frozen(np.array([3])).numpy(), table[[3]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


@pytest.mark.parametrize("sizes", [(0, 3), (4, 0), (True, 3), (4, 2.0)])
def test_embedding_sizes_must_be_positive_ints_never_bools(sizes):
    with pytest.raises(ValueError, match="Embedding: .* must be a positive int"):
        nn.Embedding(*sizes)


@pytest.mark.parametrize("bad", [np.array([0, 6]), np.array([-1, 2])])
def test_embedding_indices_out_of_range_raise_index_error_naming_the_shapes(bad):
    emb = nn.Embedding(6, 3)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 6\) .*\(6, 3\)"):
        emb(bad)
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([0.0, 1.0]))


def test_one_hot_follows_pytorch():
    out = nn.F.one_hot(np.array([[0, 2], [1, 0]]))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy()[0, 1], [0, 0, 1])
    assert nn.F.one_hot(np.array([1]), num_classes=5).shape == (1, 5)
    with pytest.raises(IndexError, match=r"one_hot: labels must lie in \[0, 2\)"):
        nn.F.one_hot(np.array([2]), num_classes=2)


def test_layer_norm_normalizes_the_trailing_axes_and_has_the_closed_form_gradient():
    x = RNG.standard_normal((3, 2, 4)) * 3 + 1
    ln = nn.LayerNorm((2, 4), dtype=np.float64)
    with ag.no_grad():
        ln.weight.copy_(RNG.standard_normal((2, 4)))
        ln.bias.copy_(RNG.standard_normal((2, 4)))
    t = ag.tensor(x, requires_grad=True)
    out = ln(t)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    xhat = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(out.numpy(), xhat * ln.weight.numpy() + ln.bias.numpy(), rtol=1e-12)
    g = RNG.standard_normal(x.shape)
    out.backward(g)
    gw = g * ln.weight.numpy()
    n = 8
    dx = n * gw - gw.sum((1, 2), keepdims=True) - xhat * (gw * xhat).sum((1, 2), keepdims=True)
    dx /= n * np.sqrt(var + 1e-5)
    np.testing.assert_allclose(t.grad.numpy(), dx, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ln.weight.grad.numpy(), (g * xhat).sum(0), rtol=1e-12)
    np.testing.assert_allclose(ln.bias.grad.numpy(), g.sum(0), rtol=1e-12)


def test_layer_norm_without_affine_parameters_and_errors():
    ln = nn.LayerNorm(4, elementwise_affine=False)
    assert list(ln.parameters()) == [] and repr(ln) == (
        "LayerNorm((4,), eps=1e-05, elementwise_affine=False)"
    )
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    out = ln(np.arange(8.0).reshape(2, 4))
    np.testing.assert_allclose(out.numpy().mean(axis=1), 0, atol=1e-7)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) .* \(4, 3\)"):
        ln(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(3,\)"):
        nn.F.layer_norm(np.zeros((2, 4)), (4,), weight=np.ones(3))


def test_layer_norm_stays_float32_and_is_stable_for_large_offsets():
    x = (RNG.standard_normal((4, 16)) + 1e4).astype(np.float32)
    out = nn.LayerNorm(16)(x)
    assert out.dtype == np.float32
    assert np.abs(out.numpy().std(axis=1) - 1).max() < 1e-2


def test_embedding_and_layer_norm_match_pytorch():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(7, 4, padding_idx=2, dtype=np.float64, rng=1)
    ln = nn.LayerNorm(4, eps=1e-6, dtype=np.float64)
    with ag.no_grad():
        ln.weight.copy_(RNG.standard_normal(4))
        ln.bias.copy_(RNG.standard_normal(4))
    t_emb = torch.nn.Embedding(7, 4, padding_idx=2).double()
    t_ln = torch.nn.LayerNorm(4, eps=1e-6).double()
    t_emb.load_state_dict({k: torch.tensor(v) for k, v in emb.state_dict().items()})
    t_ln.load_state_dict({k: torch.tensor(v) for k, v in ln.state_dict().items()})
    indices = np.array([[2, 0, 6], [6, 6, 1]])
    g = RNG.standard_normal((2, 3, 4))
    ours = ln(emb(indices))
    theirs = t_ln(t_emb(torch.tensor(indices)))
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    for module, t_module in ((emb, t_emb), (ln, t_ln)):
        for (name, p), t_p in zip(module.named_parameters(), t_module.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), t_p.grad.numpy(), rtol=1e-10, err_msg=name)
