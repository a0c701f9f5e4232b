"""PyTorch's spellings on Tensor where they do not clash with numpy's: ``size()``,
``numel``, ``clone``, ``view``, ``unsqueeze``, ``cat``, ``clamp``, ``dim=``/``keepdim=``,
``x.max(dim=...)``, and ``AttributeError`` messages that name topograd's spelling."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

import autograd as ag
from autograd.ops.spellings import TORCH_SPELLINGS

X = np.arange(24.0).reshape(2, 3, 4) / 10


def leaf(values=X) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_size_is_numpys_int_and_pytorchs_call():
    x = leaf()
    assert x.size == 24 and isinstance(x.size, int)  # numpy: the element count
    assert x.size + 1 == 25 and np.zeros(x.size).shape == (24,) and json.dumps(x.size) == "24"
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.size(dim=0) == 2
    assert pickle.loads(pickle.dumps(x.size))() == (2, 3, 4)
    assert copy.deepcopy(x.size) == 24 and ag.tensor(5.0).size() == ()
    assert x.numel() == ag.numel(x) == 24


def test_clone_is_a_recorded_copy():
    x = leaf()
    y = x.clone()
    assert y.grad_fn is not None and not np.shares_memory(y.numpy(), x.numpy())
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2)


ALIASES = [
    ("view", "reshape"),
    ("unsqueeze", "expand_dims"),
    ("cat", "concatenate"),
    ("clamp", "clip"),
    ("ravel", "flatten"),
    ("mod", "remainder"),
    ("asin", "arcsin"),
    ("acos", "arccos"),
    ("atan", "arctan"),
    ("atan2", "arctan2"),
    ("asinh", "arcsinh"),
    ("acosh", "arccosh"),
    ("atanh", "arctanh"),
]


@pytest.mark.parametrize(("alias", "name"), ALIASES)
def test_aliases_are_the_same_function(alias, name):
    assert getattr(ag, alias) is getattr(ag, name)
    if alias != "cat":
        assert getattr(ag.Tensor, alias) is getattr(ag.Tensor, name)


def test_view_unsqueeze_cat_clamp_flatten_permute():
    x = leaf()
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(dim=-1).shape == (2, 3, 4, 1)
    assert ag.cat([x, x], dim=2).shape == (2, 3, 8) and ag.stack([x, x], dim=1).shape == (
        2,
        2,
        3,
        4,
    )
    np.testing.assert_array_equal(x.clamp(min=0.5, max=1.0).numpy(), np.clip(X, 0.5, 1.0))
    np.testing.assert_array_equal(x.clamp(max=1.0).numpy(), np.minimum(X, 1.0))
    assert x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert x.permute(2, 0, 1).shape == x.permute((2, 0, 1)).shape == (4, 2, 3)
    assert x.squeeze(dim=0).shape == (2, 3, 4)  # PyTorch: a length other than 1 stays
    with pytest.raises(ValueError):
        x.squeeze(axis=0)  # numpy: it must be 1


REDUCTIONS = ["sum", "mean", "prod", "logsumexp", "norm", "argmax", "argmin", "any", "all"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_dim_and_keepdim_are_axis_and_keepdims(name):
    x = leaf()
    by_numpy = getattr(x, name)(axis=1, keepdims=True)
    by_torch = getattr(x, name)(dim=1, keepdim=True)
    np.testing.assert_array_equal(by_numpy.numpy(), by_torch.numpy())
    with pytest.raises(TypeError, match="one argument"):
        getattr(x, name)(axis=1, dim=2)


@pytest.mark.parametrize(
    "both",
    [
        lambda x: ag.clip(x, 0.0, min=0.5),
        lambda x: ag.roll(x, 1, shifts=2),
        lambda x: ag.tril(x, 1, diagonal=2),
        lambda x: ag.concatenate([x, x], 1, dim=2),
        lambda x: ag.flip(x, 0, dims=1),
    ],
)
def test_an_argument_by_both_its_names_is_refused(both):
    with pytest.raises(TypeError, match="one argument"):
        both(leaf())


def test_softmax_cumsum_split_take_dim():
    x = leaf()
    np.testing.assert_array_equal(x.softmax(dim=1).numpy(), ag.softmax(x, axis=1).numpy())
    np.testing.assert_array_equal(x.log_softmax(dim=0).numpy(), ag.log_softmax(x, 0).numpy())
    np.testing.assert_array_equal(x.cumsum(dim=2).numpy(), np.cumsum(X, axis=2))
    np.testing.assert_array_equal(x.cumprod(dim=2).numpy(), np.cumprod(X, axis=2))


def test_var_and_std_take_pytorchs_unbiased_default_with_dim():
    x = leaf()
    np.testing.assert_allclose(x.var(dim=2).numpy(), np.var(X, axis=2, ddof=1))
    np.testing.assert_allclose(x.var(axis=2).numpy(), np.var(X, axis=2))
    np.testing.assert_allclose(x.std(dim=2, unbiased=False).numpy(), np.std(X, axis=2))
    np.testing.assert_allclose(x.std(dim=2, correction=0).numpy(), np.std(X, axis=2))
    np.testing.assert_allclose(x.var(correction=1).numpy(), np.var(X, ddof=1))


def test_max_and_min_with_dim_return_values_and_indices():
    x = leaf()
    result = x.max(dim=1)
    values, indices = result
    assert isinstance(result, ag.ValuesIndices) and result.values is values
    np.testing.assert_array_equal(values.numpy(), X.max(axis=1))
    np.testing.assert_array_equal(indices.numpy(), X.argmax(axis=1))
    assert x.min(dim=-1, keepdim=True).indices.shape == (2, 3, 1)
    assert isinstance(x.max(axis=1), ag.Tensor)  # numpy's spelling: the values
    assert isinstance(x.max(1), ag.Tensor)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("mm", r"x @ w \(or ag.matmul"),
        ("t", "x.T"),
        ("gather", "take_along_axis"),
        ("repeat_interleave", "repeat"),
        ("masked_fill", "ag.where"),
        ("cuda", "CPU"),
        ("clamp_", "has no attribute 'clamp_'$"),  # Python adds "Did you mean: 'clamp'?"
        ("summ", "has no attribute 'summ'$"),  # Python's traceback adds "Did you mean: 'sum'?"
        ("no_such_thing_at_all", "has no attribute 'no_such_thing_at_all'$"),
        ("__array_interface__", "has no attribute '__array_interface__'$"),
    ],
)
def test_missing_attributes_name_topograds_spelling(name, words):
    x = leaf()
    with pytest.raises(AttributeError, match=words) as caught:
        getattr(x, name)
    if name not in TORCH_SPELLINGS:  # Python's own error, which suggests close names
        assert caught.value.name == name and caught.value.obj is x
    assert not hasattr(x, name)
