"""Every primitive of the sequence-model families (the records of ``opinfo_sequence.py``):

- its ``saves=`` lists all its rules read: with every unlisted input released at record
  time (not only arrays above 64 KiB), first-order and ``create_graph`` backward still
  give the same gradients;
- its two backward modes agree: the first-order rule (ndarrays, often a fast path with
  the forward's residuals) and the ``create_graph`` rule (differentiable ops) give the
  same gradient, so ``gradgradcheck`` differentiates the right function.
"""

from __future__ import annotations

import numpy as np
import opinfo  # noqa: F401 - loads the families (opinfo_sequence among them) first
import opinfo_sequence
import pytest

import autograd as ag
from autograd import node, primitive

CASES = [(info, sample) for info in opinfo_sequence.OPINFOS for sample in info.samples]
IDS = [f"{info.name}-{sample.id}" for info, sample in CASES]


def _gradients(info, sample, create_graph: bool):
    leaves = [ag.Tensor(a, requires_grad=True) for a in info.inputs(sample)]
    out = info(*leaves, **sample.kwargs)
    cotangent = np.random.default_rng(3).standard_normal(out.shape)
    grads = ag.gradients(out, leaves, cotangent, create_graph=create_graph)
    return [
        np.zeros(leaf.shape) if g is None else np.asarray(g.data) for g, leaf in zip(grads, leaves)
    ]


@pytest.mark.parametrize(("info", "sample"), CASES, ids=IDS)
def test_first_order_and_create_graph_gradients_agree(info, sample):
    for first, second in zip(_gradients(info, sample, False), _gradients(info, sample, True)):
        np.testing.assert_allclose(first, second, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("info", "sample"), CASES, ids=IDS)
def test_saves_lists_everything_the_rules_read(info, sample, monkeypatch):
    expected = _gradients(info, sample, False)
    every_array = lambda data: type(data) is np.ndarray  # noqa: E731
    monkeypatch.setattr(primitive, "is_large", every_array)
    monkeypatch.setattr(node, "is_large", every_array)
    for create_graph in (False, True):
        for got, want in zip(_gradients(info, sample, create_graph), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
