"""Character-level language models on CPython's own help pages: an LSTM and a small
causal transformer, each trained for a few seconds, then scored and sampled.

The text is ``pydoc_data.topics`` (the pages ``help()`` shows, shipped with every
Python: 465,000 characters of 103 kinds), split 90/10 into training and validation
text. Both models read 64 characters and predict each next one:

- ``CharLSTM``: ``Embedding(103, 48) -> LSTM(48, 128) -> Linear(128, 103)``;
- ``CharTransformer``: token embeddings plus learned position embeddings (64 of them),
  two pre-norm ``TransformerEncoderLayer``s (``d_model`` 64, 4 heads, GELU feed-forward
  of 256) with the causal mask, a final LayerNorm and ``Linear(64, 103)``.

Both train with AdamW on random 64-character windows and are scored on the same fixed
validation windows in bits per character, the cross-entropy in base 2 (the text's
unigram entropy, a model that ignores context, is 4.69 bits). Each then writes a
paragraph, one character at a time, from the prompt "The ". ``--plot`` draws both
loss curves (matplotlib), ``--graph`` the transformer's graph with its modules as
clusters (Graphviz; ``.dot`` needs nothing).

Run: ``python examples/char_lm.py [--steps 200] [--plot curves.png] [--graph graph.svg]``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn

CONTEXT = 64  # characters a model reads (and the transformer's learned positions)
PROMPT = "The "


def load_text(validation_fraction: float = 0.1) -> tuple[str, np.ndarray, np.ndarray]:
    """``(alphabet, train ids, validation ids)`` of ``pydoc_data.topics``'s pages."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[name] for name in sorted(topics))
    alphabet = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(alphabet)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    split = int(len(ids) * (1 - validation_fraction))
    return alphabet, ids[:split], ids[split:]


def windows(ids: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)`` ``(B, CONTEXT)``: the windows at ``starts`` and the next characters."""
    index = starts[:, None] + np.arange(CONTEXT + 1)
    chunk = ids[index]
    return chunk[:, :-1], chunk[:, 1:]


class CharLSTM(nn.Module):
    """Characters ``(B, T)`` -> next-character logits ``(B, T, V)`` through an LSTM."""

    def __init__(self, vocab: int, embed: int = 48, hidden: int = 128, rng: Any = None) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, rng=rng)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, rng=rng)
        self.head = nn.Linear(hidden, vocab, rng=rng)

    def forward(self, ids: Any, state: Any = None) -> tuple[ag.Tensor, Any]:
        """Logits and the LSTM's final ``(h, c)`` (to continue the text from)."""
        out, state = self.lstm(self.embedding(ids), state)
        return self.head(out), state


class CharTransformer(nn.Module):
    """Characters ``(B, T <= CONTEXT)`` -> logits ``(B, T, V)``: causal self-attention over
    token plus learned position embeddings."""

    def __init__(
        self, vocab: int, d_model: int = 64, heads: int = 4, layers: int = 2, rng: Any = None
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model, rng=rng)
        self.positions = nn.Embedding(CONTEXT, d_model, rng=rng)
        block = nn.TransformerEncoderLayer(
            d_model, heads, 4 * d_model, dropout=0.0, activation="gelu", batch_first=True,
            norm_first=True, rng=rng,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab, rng=rng)

    def forward(self, ids: Any) -> ag.Tensor:
        """Next-character logits at every position (each sees only its past)."""
        length = np.shape(ids)[-1]
        if length > CONTEXT:
            raise ValueError(
                f"CharTransformer: a sequence of {length} characters (shape {np.shape(ids)}) is "
                f"longer than its {CONTEXT} learned positions"
            )
        x = self.embedding(ids) + self.positions(np.arange(length))
        causal = np.triu(np.ones((length, length), bool), 1)  # True: may not look
        return self.head(self.encoder(x, mask=causal, is_causal=True))


def logits_of(model: nn.Module, ids: np.ndarray) -> ag.Tensor:
    out = model(ids)
    return out[0] if isinstance(out, tuple) else out


def loss_of(model: nn.Module, inputs: np.ndarray, targets: np.ndarray) -> ag.Tensor:
    """Mean cross-entropy (nats) of the next characters (logits as ``(B T, V)`` rows)."""
    logits = logits_of(model, inputs)
    return nn.F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def bits_per_character(model: nn.Module, ids: np.ndarray, starts: np.ndarray) -> float:
    """Cross-entropy in bits of every next character of the validation windows."""
    with ag.no_grad():
        return loss_of(model, *windows(ids, starts)).item() / math.log(2)


def train(
    model: nn.Module, ids: np.ndarray, steps: int, batch: int, lr: float, rng: np.random.Generator
) -> tuple[list[float], float]:
    """AdamW on random windows; returns the loss of each step (bits) and the seconds taken."""
    optimizer = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    losses = []
    start = time.perf_counter()
    for _ in range(steps):
        loss = loss_of(model, *windows(ids, rng.integers(0, len(ids) - CONTEXT - 1, batch)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / math.log(2))
    return losses, time.perf_counter() - start


def sample(
    model: nn.Module, alphabet: str, length: int, rng: np.random.Generator, temperature: float
) -> str:
    """``PROMPT`` and ``length`` more characters, each drawn from the model's prediction
    (the LSTM carries its state; the transformer rereads its last ``CONTEXT``)."""
    ids = [alphabet.index(c) for c in PROMPT]
    state = None
    with ag.no_grad():
        for _ in range(length):
            if isinstance(model, CharLSTM):
                fed = ids if state is None else ids[-1:]
                logits, state = model(np.array([fed]), state)
            else:
                logits = model(np.array([ids[-CONTEXT:]]))
            scores = logits.numpy()[0, -1].astype(np.float64) / temperature
            p = np.exp(scores - scores.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return "".join(alphabet[i] for i in ids)


def plot_curves(
    curves: dict[str, list[float]], validation: dict[str, float], batch: int, path: Path
) -> None:
    """Both training-loss curves (smoothed) and the validation scores, as a PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=110)
    axes = figure.add_subplot()
    for (name, losses), color in zip(curves.items(), ("#4c72b0", "#dd8452")):
        window = max(1, len(losses) // 30)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes.plot(np.arange(len(smooth)) + window, smooth, color=color, label=f"{name}: training")
        axes.axhline(validation[name], color=color, linestyle="--", label=f"{name}: validation")
    axes.set_xlabel(f"training step ({batch} windows of {CONTEXT} characters)")
    axes.set_ylabel("bits per character")
    axes.set_title("Character language models on pydoc_data.topics")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def main(
    steps: int = 200,
    batch: int = 32,
    sample_length: int = 300,
    seed: int = 0,
    temperature: float = 0.8,
    plot: str | None = None,
    graph: str | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train, score and sample both models; returns per model its training ``losses``
    (bits), ``bits_per_character`` on validation, ``seconds`` of training and ``sample``."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    alphabet, train_ids, valid_ids = load_text()
    valid_starts = np.random.default_rng(1).integers(0, len(valid_ids) - CONTEXT - 1, 256)
    say = print if verbose else lambda *args: None
    say(f"{len(train_ids):,} training and {len(valid_ids):,} validation characters, "
        f"{len(alphabet)} kinds")  # fmt: skip
    results: dict[str, Any] = {"alphabet": alphabet}
    models = {
        "LSTM": CharLSTM(len(alphabet), rng=rng),
        "transformer": CharTransformer(len(alphabet), rng=rng),
    }
    for name, model in models.items():
        losses, seconds = train(model, train_ids, steps, batch, 3e-3, rng)
        bpc = bits_per_character(model, valid_ids, valid_starts)
        text = sample(model, alphabet, sample_length, rng, temperature)
        results[name] = {
            "losses": losses,
            "bits_per_character": bpc,
            "seconds": seconds,
            "sample": text,
        }
        say(f"\n{name}: {model.num_parameters():,} parameters, {steps} steps in {seconds:.1f} s; "
            f"validation {bpc:.3f} bits per character")  # fmt: skip
        say("-" * 72 + "\n" + text + "\n" + "-" * 72)
    if plot:
        curves = {name: results[name]["losses"] for name in models}
        scores = {name: results[name]["bits_per_character"] for name in models}
        plot_curves(curves, scores, batch, Path(plot))
        say(f"wrote {plot}")
    if graph:
        inputs, targets = windows(valid_ids, valid_starts[:1])
        small = loss_of(models["transformer"], inputs[:, :8], targets[:, :8])  # 8 positions
        picture = ag.draw(small, graph, modules="cluster", rankdir="TB", show_data=False)
        say(f"wrote {picture}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per model")
    parser.add_argument("--batch", type=int, default=32, help="windows per step")
    parser.add_argument("--sample-length", type=int, default=300, help="characters to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--plot", help="write both loss curves to this PNG")
    parser.add_argument("--graph", help="draw the transformer's graph (.svg .png .pdf .dot)")
    args = parser.parse_args()
    main(
        args.steps,
        args.batch,
        args.sample_length,
        args.seed,
        args.temperature,
        args.plot,
        args.graph,
    )
