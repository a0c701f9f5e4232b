"""Pictures of graphs: the notes' network, a backward walkthrough, an explorer, real models.

The notes' network is ``loss = softmax_cross_entropy(relu(X @ W1) @ W2, y)`` (``X: 4×3``,
``W1: 3×5``, ``W2: 5×2``, no bias), built from plain ``ag`` ops with named tensors,
after ``backward(retain_graph=True)`` so the picture shows both the values of every
tensor and the gradients of ``W1`` and ``W2``. It is written to
``examples/images/two_layer_graph.svg`` and ``.dot`` (the README picture).

Into the output folder (default ``examples/output/draw_graphs/``, not tracked by git)
go a walkthrough of its backward pass (``walkthrough/``: one SVG per VJP the engine runs
and an ``index.html`` to step through them; it replays the notes' hand derivation,
``G = (S - I_y)/m`` at the loss, ``∇W2 = σ(XW1)ᵀ G``, the ReLU, ``∇W1 = Xᵀ (...)``), an
explorer page of a one-block GPT (``explorer.html``: pan, zoom, click), and one SVG per
model in :data:`MODELS` with the default, screen-fitting options, printing each
picture's size and time. The models are written from today's ops (attention as
``matmul``/``softmax``, a convolution as an index gather and a ``matmul``, an LSTM
cell unrolled in Python) in the shapes of the project's coming layers.

Run: ``python examples/draw_graphs.py [OUT_DIR]``.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn
from autograd.viz import backward_steps, draw, explore, to_dot

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
OUTPUT = HERE / "output" / "draw_graphs"


def named(tensor: ag.Tensor, name: str) -> ag.Tensor:
    """Give ``tensor`` the label shown in pictures, and return it."""
    tensor.name = name
    return tensor


def two_layer_loss(seed: int = 0) -> ag.Tensor:
    """The notes' two-layer network's loss on a 4-example batch, tensors named."""
    rng = np.random.default_rng(seed)
    x = named(ag.tensor(rng.normal(size=(4, 3))), "X")
    w1 = named(ag.tensor(rng.normal(size=(3, 5)) * 0.5, requires_grad=True), "W1")
    w2 = named(ag.tensor(rng.normal(size=(5, 2)) * 0.5, requires_grad=True), "W2")
    y = named(ag.tensor(np.array([0, 1, 1, 0])), "y")
    z2 = named(ag.relu(named(x @ w1, "XW1")), "Z2 = σ(XW1)")
    logits = named(z2 @ w2, "Z3 (logits)")
    return named(ag.softmax_cross_entropy(logits, y), "loss")


# ------------------------------------------------------------------ chains
def chain_loss(n_ops: int = 600) -> ag.Tensor:
    """``n_ops`` ops in a chain, ``tanh`` then ``* 1.01`` repeated, then a sum."""
    x = named(ag.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True), "x")
    y = x
    for _ in range(n_ops // 2):
        y = ag.tanh(y) * 1.01
    return named(y.sum(), "loss")


def twelve_op_chain() -> ag.Tensor:
    """Twelve different elementwise ops on a 4-vector, then a sum."""
    x = named(ag.tensor(np.linspace(0.1, 1.0, 4), requires_grad=True), "x")
    y = ag.log(ag.exp(x) + 1.0)
    y = ag.tanh(ag.sin(y) * 2.0)
    y = ag.sigmoid(y) - 0.5
    y = ag.cos(ag.sqrt(y * y + 1.0))
    return named(y.sum(), "loss")


# ------------------------------------------------------------------ layers
class Embedding(nn.Module):
    """``weight[indices]``."""

    def __init__(self, count: int, dim: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.weight = nn.Parameter((rng.normal(size=(count, dim)) * 0.02).astype(np.float32))

    def forward(self, indices: Any) -> ag.Tensor:
        return self.weight[indices]


class LayerNorm(nn.Module):
    """``(x - mean) / sqrt(var + 1e-5) * weight + bias`` over the last axis."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.ones(dim, np.float32))
        self.bias = nn.Parameter(np.zeros(dim, np.float32))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        centred = x - x.mean(axis=-1, keepdims=True)
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / ag.sqrt(var + 1e-5) * self.weight + self.bias


class CausalSelfAttention(nn.Module):
    """Multi-head attention with a causal mask, from ``linear``, ``matmul``, ``softmax``."""

    def __init__(self, dim: int, heads: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, rng=rng)
        self.proj = nn.Linear(dim, dim, rng=rng)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        b, t, d = x.shape
        h = self.heads
        qkv = self.qkv(x).reshape(b, t, 3, h, d // h).transpose((2, 0, 3, 1, 4))
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose((0, 1, 3, 2))) * (1.0 / (d // h) ** 0.5)
        scores = ag.where(np.tril(np.ones((t, t), dtype=bool)), scores, -1e9)
        mixed = ag.softmax(scores, axis=-1) @ v
        return self.proj(mixed.transpose((0, 2, 1, 3)).reshape(b, t, d))


class GELU(nn.Module):
    """The tanh approximation of GELU."""

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return 0.5 * x * (1.0 + ag.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


class FeedForward(nn.Module):
    """``Linear → GELU → Linear``, four times wider inside."""

    def __init__(self, dim: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, 4 * dim, rng=rng)
        self.act = GELU()
        self.out = nn.Linear(4 * dim, dim, rng=rng)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.out(self.act(self.fc(x)))


class Block(nn.Module):
    """A pre-norm transformer block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``."""

    def __init__(self, dim: int, heads: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.ln1 = LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads, rng)
        self.ln2 = LayerNorm(dim)
        self.mlp = FeedForward(dim, rng)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Token and position embeddings, ``layers`` blocks, a final norm, a vocabulary head."""

    def __init__(self, vocab: int = 16, context: int = 8, dim: int = 16, heads: int = 2,
                 layers: int = 1, seed: int = 0) -> None:  # fmt: skip
        super().__init__()
        rng = np.random.default_rng(seed)
        self.tok = Embedding(vocab, dim, rng)
        self.pos = Embedding(context, dim, rng)
        self.blocks = nn.Sequential(*[Block(dim, heads, rng) for _ in range(layers)])
        self.ln_f = LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, rng=rng)

    def forward(self, indices: np.ndarray) -> ag.Tensor:
        x = self.tok(indices) + self.pos(np.arange(indices.shape[1]))
        return self.head(self.ln_f(self.blocks(x)))


def gpt_loss(layers: int = 1) -> ag.Tensor:
    """Next-token cross-entropy of a small GPT on a batch of 2 sequences of 8 tokens."""
    rng = np.random.default_rng(1)
    logits = GPT(layers=layers)(rng.integers(0, 16, size=(2, 8)))
    return ag.softmax_cross_entropy(logits.reshape(-1, 16), rng.integers(0, 16, size=16))


class Conv2d(nn.Module):
    """A valid ``k×k`` convolution as unfold (an index gather) and one ``matmul``."""

    def __init__(self, c_in: int, c_out: int, k: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.k = k
        fan_in = c_in * k * k
        self.weight = nn.Parameter(
            (rng.normal(size=(fan_in, c_out)) / fan_in**0.5).astype(np.float32)
        )
        self.bias = nn.Parameter(np.zeros(c_out, np.float32))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        n, c, h, w = x.shape
        k = self.k
        oh, ow = h - k + 1, w - k + 1
        rows = np.arange(oh)[:, None, None, None] + np.arange(k)[None, None, :, None]
        cols = np.arange(ow)[None, :, None, None] + np.arange(k)[None, None, None, :]
        patches = x[:, :, rows, cols].transpose((0, 2, 3, 1, 4, 5)).reshape(n, oh * ow, -1)
        out = patches @ self.weight + self.bias
        return out.transpose((0, 2, 1)).reshape(n, -1, oh, ow)


class MaxPool2(nn.Module):
    """2×2 max pooling by a reshape and a ``max`` over the window axes."""

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def conv_net_loss() -> ag.Tensor:
    """Two conv → ReLU → pool stages and a linear classifier on 2 images of 10×10."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        Conv2d(1, 4, 3, rng), nn.ReLU(), MaxPool2(),
        Conv2d(4, 8, 3, rng), nn.ReLU(), MaxPool2(),
        nn.Flatten(), nn.Linear(8, 10, rng=rng),
    )  # fmt: skip
    x = ag.tensor(rng.normal(size=(2, 1, 10, 10)).astype(np.float32))
    return ag.softmax_cross_entropy(model(x), np.array([3, 7]))


class LSTMCell(nn.Module):
    """One LSTM step: four gates from ``x W_ih + h W_hh + b``."""

    def __init__(self, n_in: int, hidden: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(
            (rng.normal(size=(n_in, 4 * hidden)) * 0.2).astype(np.float32)
        )
        self.weight_hh = nn.Parameter(
            (rng.normal(size=(hidden, 4 * hidden)) * 0.2).astype(np.float32)
        )
        self.bias = nn.Parameter(np.zeros(4 * hidden, np.float32))

    def forward(self, x: Any, h: ag.Tensor, c: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
        gates = x @ self.weight_ih + h @ self.weight_hh + self.bias
        n = h.shape[1]
        i, f, g, o = (gates[:, k * n : (k + 1) * n] for k in range(4))
        c = ag.sigmoid(f) * c + ag.sigmoid(i) * ag.tanh(g)
        return ag.sigmoid(o) * ag.tanh(c), c


class LSTM(nn.Module):
    """An LSTM cell unrolled over the sequence; returns the last hidden state."""

    def __init__(self, n_in: int, hidden: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.hidden = hidden
        self.cell = LSTMCell(n_in, hidden, rng)

    def forward(self, xs: ag.Tensor) -> ag.Tensor:
        h = c = ag.zeros((xs.shape[1], self.hidden), dtype=np.float32)
        for x in xs:
            h, c = self.cell(x, h, c)
        return h


def lstm_loss(steps: int = 8) -> ag.Tensor:
    """A classifier on the last hidden state of an LSTM over ``steps`` time steps."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(LSTM(3, 8, rng), nn.Linear(8, 4, rng=rng))
    xs = ag.tensor(rng.normal(size=(steps, 2, 3)).astype(np.float32))
    return ag.softmax_cross_entropy(model(xs), np.array([1, 2]))


def deep_mlp_loss(layers: int = 20) -> ag.Tensor:
    """``nn.MLP`` with ``layers`` layers of width 16 on a batch of 8."""
    model = nn.MLP([16] * (layers + 1), rng=0)
    x = ag.tensor(np.random.default_rng(0).normal(size=(8, 16)).astype(np.float32))
    return ag.softmax_cross_entropy(model(x), np.arange(8) % 16)


#: The example models: name -> (what it is, a function returning its loss).
MODELS: dict[str, tuple[str, Callable[[], ag.Tensor]]] = {
    "two_layer": ("the notes' σ(XW1)W2", two_layer_loss),
    "chain12": ("12 different elementwise ops", twelve_op_chain),
    "chain600": ("600 ops: (tanh, ×1.01) repeated", chain_loss),
    "mlp20": ("nn.MLP, 20 layers", deep_mlp_loss),
    "conv": ("2 conv (unfold + matmul), ReLU, pool stages", conv_net_loss),
    "lstm8": ("LSTM cell unrolled over 8 steps", lstm_loss),
    "gpt1": ("one-block GPT", gpt_loss),
    "gpt4": ("four-block GPT", lambda: gpt_loss(4)),
}


def picture_size(svg: str) -> tuple[int, int]:
    """Width and height in pixels (96 dpi) of an SVG that Graphviz wrote (in points)."""
    match = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg)
    assert match is not None, "not an SVG written by Graphviz"
    return round(int(match.group(1)) * 4 / 3), round(int(match.group(2)) * 4 / 3)


def main(out: str | Path = OUTPUT) -> dict[str, dict[str, Any]]:
    """Write the pictures; return each model's picture size (px) and drawing time (s)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loss = two_layer_loss()
    loss.backward(retain_graph=True)  # keep intermediate values for the picture
    for suffix in (".svg", ".dot"):
        path = draw(loss, IMAGES / f"two_layer_graph{suffix}", legend=True)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    files = backward_steps(two_layer_loss(), out / "walkthrough")
    print(f"wrote {len(files) - 2} backward steps (+ the start frame) and {files[-1]}")
    page = explore(gpt_loss(), out / "explorer.html")
    print(f"wrote {page} ({page.stat().st_size:,} bytes)")
    report = {}
    for name, (what, build) in MODELS.items():
        start = time.perf_counter()
        graph = to_dot(build())
        svg = graph.pipe(format="svg", encoding="utf-8")
        seconds = time.perf_counter() - start
        (out / f"{name}.svg").write_text(svg, encoding="utf-8")
        width, height = picture_size(svg)
        report[name] = {"size": (width, height), "seconds": seconds}
        print(f"{name:10s} {what:45s} {width:5d}×{height:<5d} px  {seconds:.2f} s")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=OUTPUT, help="output folder")
    main(parser.parse_args().out)
