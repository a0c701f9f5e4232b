"""erf and the smooth activations: values against closed forms and ``math``, stability at
+-1000, float32, and PyTorch's definitions when it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag

EXTREMES = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])


def test_erf_matches_math_erf_to_two_ulps_over_every_range():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.standard_normal(20_000) * 3,
            np.linspace(-7, 7, 20_001),
            [0.46875, -0.46875, 4.0, -4.0, 5.9, 26.5, 27.0, 1e-300, 5e-324],
        ]
    )
    expected = np.array([math.erf(v) for v in x])
    relative = np.abs(ag.erf(x).numpy() - expected) / np.maximum(np.abs(expected), 1e-300)
    assert relative.max() < 5e-16


@given(st.floats(-40, 40, allow_nan=False))
def test_erf_of_any_float_agrees_with_math(value):
    assert ag.erf(value).item() == pytest.approx(math.erf(value), rel=5e-16, abs=1e-300)


def test_erf_edge_values_and_float32():
    out = ag.erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan])).numpy()
    assert out[0] == 0 and np.signbit(out[1]) and out[2] == 1 and out[3] == -1
    assert np.isnan(out[4])
    x32 = np.linspace(-5, 5, 1001, dtype=np.float32)
    got = ag.erf(x32).numpy()
    assert got.dtype == np.float32
    expected = np.array([math.erf(v) for v in x32.astype(np.float64)])
    assert np.abs(got - expected).max() < 2e-7
    assert type(ag.erf(np.float32(0.5)).data) is np.float32


def test_erf_gradient_is_the_gaussian():
    x = ag.tensor(np.linspace(-3, 3, 13), requires_grad=True)
    ag.erf(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 / np.sqrt(np.pi) * np.exp(-(x.numpy() ** 2)))


def _closed_forms(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(value, derivative) of every activation, written out with numpy and math.erf."""
    erf = np.vectorize(math.erf)
    cdf, pdf = 0.5 * (1 + erf(x / math.sqrt(2))), np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    s = 1 / (1 + np.exp(-x))
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    t = np.tanh(u)
    du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
    return {
        "gelu": (x * cdf, cdf + x * pdf),
        "gelu_tanh": (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),
        "silu": (x * s, s * (1 + x * (1 - s))),
        "softplus": (np.log1p(np.exp(x)), s),
        "elu": (np.where(x > 0, x, np.expm1(x)), np.where(x > 0, 1.0, np.exp(x))),
        "logsigmoid": (np.log(s), 1 - s),
    }


ACTIVATIONS = {
    "gelu": ag.gelu,
    "gelu_tanh": lambda x: ag.gelu(x, approximate="tanh"),
    "silu": ag.silu,
    "softplus": ag.softplus,
    "elu": ag.elu,
    "logsigmoid": ag.logsigmoid,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_value_and_derivative_equal_the_closed_form(name):
    x = np.linspace(-6, 6, 97)
    value, slope = _closed_forms(x)[name]
    t = ag.tensor(x, requires_grad=True)
    out = ACTIVATIONS[name](t)
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(t.grad.numpy(), slope, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_is_finite_with_finite_gradients_at_1000(name):
    t = ag.tensor(EXTREMES, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ACTIVATIONS[name](t)
        (g,) = ag.gradients(out.sum(), [t], create_graph=True)
        (gg,) = ag.gradients(g.sum(), [t])
    for values in (out, g, gg):
        assert np.isfinite(values.numpy()).all()


def test_softplus_beta_and_threshold_follow_pytorch():
    x = np.array([-3.0, 0.5, 4.0, 30.0])
    out = ag.softplus(x, beta=2.0, threshold=5.0).numpy()
    smooth = np.log1p(np.exp(2 * x)) / 2
    np.testing.assert_allclose(out, np.where(2 * x > 5, x, smooth), rtol=1e-14)
    with pytest.raises(ValueError, match="beta must be nonzero"):
        ag.softplus(x, beta=0)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be one of"):
        ag.gelu(1.0, approximate="erf")


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("gelu", lambda fn, x: fn.gelu(x)),
        ("gelu_tanh", lambda fn, x: fn.gelu(x, approximate="tanh")),
        ("silu", lambda fn, x: fn.silu(x)),
        ("softplus", lambda fn, x: fn.softplus(x, beta=1.5, threshold=3.0)),
        ("elu", lambda fn, x: fn.elu(x, alpha=0.7)),
        ("logsigmoid", lambda fn, x: fn.logsigmoid(x)),
    ],
)
def test_activations_match_pytorch(name, call):
    torch = pytest.importorskip("torch")
    import nn

    x = np.concatenate([np.linspace(-8, 8, 161), [-1000.0, 1000.0]])
    ours = ag.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = call(nn.functional, ours), call(torch.nn.functional, theirs)
    out.backward(np.cos(x))
    expected.backward(torch.tensor(np.cos(x)))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)
