"""PyTorch ops: one function written as PyTorch code runs on ``torch`` and, passed
``autograd`` in its place, on topograd, unchanged; both give the same loss, indices
and gradients.

The function uses ``x.size()``, ``einsum``, ``softmax(dim=)``, ``norm(dim=, keepdim=)``,
``clamp(min=)``, ``x.max(dim=)`` (values and indices), ``std(dim=)`` (unbiased),
``view``, ``cat(dim=)``, ``unsqueeze``, ``permute``, ``flatten(1)``, ``split(n, dim=)``,
``cumsum(dim=)``, ``cummax``, ``prod(dim=)``, ``roll``, ``flip(dims=)``, ``tril``,
``atan2``, ``floor`` and ``%``. Without PyTorch installed, only topograd runs.

Run: ``python examples/pytorch_ops.py``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

import autograd as ag


def attention_features(torch: ModuleType, q0: np.ndarray, k0: np.ndarray, v0: np.ndarray) -> dict:
    """PyTorch code, with ``torch`` the ``torch`` module or ``autograd``."""
    q, k, v = (torch.tensor(a, requires_grad=True) for a in (q0, k0, v0))
    b, n, d = q.size()
    weights = torch.softmax(torch.einsum("bqd,bkd->bqk", q, k) / d**0.5, dim=-1)
    out = weights @ v
    pooled = out.mean(dim=1)
    normed = pooled / pooled.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    best, index = normed.max(dim=1)
    rows = (
        torch.cat([normed, out.view(b, -1)[:, :d]], dim=1).unsqueeze(0).permute(1, 0, 2).flatten(1)
    )
    first, second = rows.split(d, dim=1)
    running = first.cumsum(dim=1).cummax(dim=1).values * second.tril().roll(1, 0).flip(dims=(1,))
    angle = torch.atan2(second, first.abs() + 1)
    wrapped = (angle * 10).floor() * 0.01 + angle % 0.5
    loss = best.sum() + out.std(dim=1).sum() + running.prod(dim=1).sum() + wrapped.sum()
    loss.backward()
    return {
        "loss": loss.item(),
        "index": index.tolist(),
        "grads": [t.grad.numpy() for t in (q, k, v)],
    }


def main(seed: int = 0) -> dict[str, Any]:
    """Run the PyTorch code on topograd (and on PyTorch when installed); compare."""
    rng = np.random.default_rng(seed)
    q0, k0, v0 = (rng.standard_normal((2, 5, 4)) for _ in range(3))
    ours = attention_features(ag, q0, k0, v0)
    print(f"topograd: loss {ours['loss']:.12f}, argmax {ours['index']}")
    result: dict[str, Any] = {"topograd": ours, "torch": None, "max_difference": None}
    try:
        import torch as pytorch
    except ImportError:
        print("PyTorch is not installed: only topograd ran")
        return result
    theirs = attention_features(pytorch, q0, k0, v0)
    print(f"torch:    loss {theirs['loss']:.12f}, argmax {theirs['index']}")
    difference = max(
        abs(ours["loss"] - theirs["loss"]),
        *(float(np.max(np.abs(a - b))) for a, b in zip(ours["grads"], theirs["grads"])),
    )
    print(f"largest difference of the loss and of every gradient: {difference:.1e}")
    result.update(torch=theirs, max_difference=difference)
    return result


if __name__ == "__main__":
    main()
