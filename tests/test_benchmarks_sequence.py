"""The sequence-model benchmarks check what they compare: every implementation's first
step (float64) gives the engine's loss, gradients and update, and a different
computation is caught (no timings here)."""

from __future__ import annotations

import pytest

from benchmarks import bench_lstm, bench_transformer, numpy_lstm, numpy_transformer
from benchmarks.common import torch_or_none


@pytest.mark.parametrize("bench", [bench_lstm, bench_transformer], ids=["lstm", "transformer"])
def test_first_steps_agree_with_the_hand_written_numpy_and_pytorch(bench):
    assert bench.check_first_step(torch_or_none()) < 1e-10


def test_lstm_check_catches_a_wrong_hand_written_gradient(monkeypatch):
    real = numpy_lstm.fused_step

    def doubled_recurrent_grad(params, tokens, targets, lr):
        loss, grads = real(params, tokens, targets, lr)
        grads["weight_hh"] = 2 * grads["weight_hh"]
        return loss, grads

    monkeypatch.setattr(numpy_lstm, "fused_step", doubled_recurrent_grad)
    with pytest.raises(AssertionError, match="gradient of weight_hh differs .* fused numpy"):
        bench_lstm.check_first_step(None)


def test_transformer_check_catches_a_different_block(monkeypatch):
    monkeypatch.setattr(numpy_transformer, "EPS", 1e-3)  # another layer-norm epsilon
    with pytest.raises(AssertionError, match="engine loss .* != numpy loss"):
        bench_transformer.check_first_step(None)


def test_step_profile_splits_the_step_by_primitive_and_restores_them():
    from autograd.primitive import REGISTRY
    from benchmarks import profile_steps

    before = {name: (p.forward, p.vjps, p.vjp) for name, p in REGISTRY.items()}
    result = profile_steps.profile("lstm", steps=1, quick=True)
    names = [name for name, _, _ in result["rows"]]
    assert {"lstm_scan", "linear", "embedding", "softmax_cross_entropy"} <= set(names)
    assert names[-2:] == ["optimizer step", "other"]
    parts = sum(f + b for _, f, b in result["rows"])
    assert abs(parts - result["total"]) < 1e-6 * max(result["total"], 1)
    assert {name: (p.forward, p.vjps, p.vjp) for name, p in REGISTRY.items()} == before
