"""The smooth activation modules call their engine primitive with their options."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

X = np.linspace(-30.0, 30.0, 13)


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (nn.GELU(), lambda x: ag.gelu(x)),
        (nn.GELU(approximate="tanh"), lambda x: ag.gelu(x, approximate="tanh")),
        (nn.SiLU(), lambda x: x * ag.sigmoid(x)),
        (nn.Softplus(beta=2.0, threshold=5.0), lambda x: ag.softplus(x, beta=2.0, threshold=5.0)),
        (nn.ELU(alpha=0.5), lambda x: ag.elu(x, alpha=0.5)),
        (nn.LogSigmoid(), lambda x: -ag.softplus(-x)),
    ],
    ids=["gelu", "gelu-tanh", "silu", "softplus", "elu", "logsigmoid"],
)
def test_each_module_is_its_function(module, function):
    np.testing.assert_allclose(module(X).numpy(), function(ag.tensor(X)).numpy(), rtol=1e-12)
    assert list(module.parameters()) == []  # no weights


def test_bad_options_name_the_module():
    with pytest.raises(ValueError, match="GELU: approximate must be one of"):
        nn.GELU(approximate="fast")
