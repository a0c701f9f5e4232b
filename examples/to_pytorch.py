"""Train in topograd, leave for PyTorch and ONNX Runtime: the three predict the same.

A small CNN (conv, batch norm, relu, max pool, conv, relu, global average pool, linear)
is trained for a few epochs on the shipped 8x8 digits. Then:

1. ``nn.to_torch_state_dict(model)`` gives its weights in PyTorch's names and layouts;
   ``torch.nn.Sequential`` of the same layers loads them with ``load_state_dict``;
2. ``ag.export_onnx(model, example, "digits_cnn.onnx")`` writes the forward pass as an
   ONNX model with a dynamic batch axis, and ONNX Runtime runs it;
3. the engine, PyTorch and ONNX Runtime score the held-out images: the report gives the
   largest difference of their logits and whether every predicted label agrees.

Each route is skipped with a message when its package is missing (``pip install torch``
for the CPU, ``pip install 'topograd[onnx]' onnxruntime``).

Run: ``python examples/to_pytorch.py [--epochs 8] [--out DIR]``.
"""

# ruff: noqa: N803, N806 - X for the images, as in the notes

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn

OUT = Path(__file__).resolve().parent / "output" / "to_pytorch"


def digit_images(seed: int = 0) -> tuple[np.ndarray, ...]:
    """``X_train, y_train, X_test, y_test``: the digits as ``(N, 1, 8, 8)`` float32 images
    in [0, 1], split 80/20 by a seeded shuffle."""
    X, y = nn.data.load_digits()
    order = np.random.default_rng(seed).permutation(len(X))
    X = (X[order] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = y[order]
    n_test = len(X) // 5
    return X[n_test:], y[n_test:], X[:n_test], y[:n_test]


def make_cnn(rng: int = 0) -> nn.Sequential:
    """The CNN, as layers whose ``torch.nn`` twins take the same arguments."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=rng),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=rng + 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10, rng=rng + 2),
    )


def make_torch_cnn(torch: Any) -> Any:
    """The same network in ``torch.nn`` (the layers of :func:`make_cnn`, one for one)."""
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, 8, 3, padding=1),
        t.BatchNorm2d(8),
        t.ReLU(),
        t.MaxPool2d(2),
        t.Conv2d(8, 16, 3, padding=1),
        t.ReLU(),
        t.AdaptiveAvgPool2d(1),
        t.Flatten(),
        t.Linear(16, 10),
    )


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    """Adam on shuffled mini-batches of 64; the mean loss of each epoch."""
    optimizer = nn.optim.Adam(model.parameters(), lr=2e-2)
    losses = []
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for images, labels in nn.data.DataLoader(X, y, batch_size=64, shuffle=True, rng=epoch):
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        losses.append(total / len(X))
    return losses


def optional(name: str, say: Any = print) -> Any:
    """The module ``name``, or None (and a message) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        say(f"  {name} is not installed: skipping that route")
        return None


def main(epochs: int = 8, out: str | Path = OUT, verbose: bool = True) -> dict[str, Any]:
    say = print if verbose else (lambda *a, **k: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X_train, y_train, X_test, y_test = digit_images()
    model = make_cnn()
    losses = train(model, X_train, y_train, epochs)
    model.eval()
    logits = model(X_test).numpy()
    accuracy = float((logits.argmax(axis=1) == y_test).mean())
    say(f"topograd: {epochs} epochs, loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
        f"test accuracy {accuracy:.2%}")  # fmt: skip
    result: dict[str, Any] = {"losses": losses, "accuracy": accuracy, "torch": None, "onnx": None}

    torch = optional("torch", say)
    if torch is not None:
        twin = make_torch_cnn(torch).eval()
        state = nn.to_torch_state_dict(model)
        twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        with torch.no_grad():
            theirs = twin(torch.from_numpy(X_test)).numpy()
        result["torch"] = compare(logits, theirs)
        say(f"PyTorch {torch.__version__}: {len(state)} tensors loaded; "
            f"{describe(result['torch'])}")  # fmt: skip

    if optional("onnx", say) is not None:
        path = out / "digits_cnn.onnx"
        start = time.perf_counter()
        ag.export_onnx(model, X_test[:2], path, input_names=["images"], output_names=["logits"])
        seconds = time.perf_counter() - start
        runtime = optional("onnxruntime", say)
        result["onnx"] = {"path": str(path), "bytes": path.stat().st_size, "seconds": seconds}
        say(f"ONNX: wrote {path} ({path.stat().st_size / 1024:.1f} KiB) in {seconds:.2f} s")
        if runtime is not None:
            session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            (theirs,) = session.run(None, {"images": X_test})
            result["onnx"].update(compare(logits, theirs))
            say(f"ONNX Runtime {runtime.__version__}: {describe(result['onnx'])}")
    return result


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, Any]:
    """The largest logit difference and whether every predicted label agrees."""
    return {
        "max_difference": float(np.abs(ours - theirs).max()),
        "same_labels": bool((ours.argmax(axis=1) == theirs.argmax(axis=1)).all()),
    }


def describe(agreement: dict[str, Any]) -> str:
    labels = "every label the same" if agreement["same_labels"] else "labels DIFFER"
    return f"largest logit difference {agreement['max_difference']:.1e}, {labels}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default=str(OUT))
    main(**vars(parser.parse_args()))
