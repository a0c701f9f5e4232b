"""DLPack: zero-copy exchange of a Tensor's values with numpy and PyTorch (and any exporter)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def test_numpy_round_trip_shares_memory():
    t = ag.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    a = np.from_dlpack(t)
    assert np.shares_memory(a, t.numpy()) and a.dtype == np.float32
    back = ag.from_dlpack(np.arange(4.0))
    assert isinstance(back, ag.Tensor) and back.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert not back.requires_grad and back.is_leaf
    assert t.__dlpack_device__() == (1, 0)


def test_a_zero_d_tensor_exports_its_value():
    assert float(np.from_dlpack(ag.tensor(2.5))) == 2.5


def test_pytorch_both_ways_without_copies():
    torch = pytest.importorskip("torch")
    t = ag.tensor(np.arange(3.0))
    tt = torch.from_dlpack(t)
    tt[0] = 7.0  # the same memory
    assert t.tolist() == [7.0, 1.0, 2.0]
    source = torch.arange(4, dtype=torch.float32)
    mine = ag.from_dlpack(source)
    source[1] = 9.0
    assert mine.dtype == np.float32 and mine.tolist() == [0.0, 9.0, 2.0, 3.0]
    with pytest.raises((RuntimeError, BufferError, TypeError)):
        ag.from_dlpack(torch.ones(2, requires_grad=True))  # PyTorch refuses: detach first


def test_jax_both_ways():
    jax = pytest.importorskip("jax")
    t = ag.tensor(np.arange(3.0, dtype=np.float32))
    j = jax.dlpack.from_dlpack(t)
    assert j.tolist() == [0.0, 1.0, 2.0]
    back = ag.from_dlpack(jax.numpy.arange(3.0, dtype=jax.numpy.float32))
    assert back.dtype == np.float32 and back.tolist() == [0.0, 1.0, 2.0]
