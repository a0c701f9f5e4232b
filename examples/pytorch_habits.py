"""A training script written with PyTorch habits, run on topograd.

The model holds its blocks in an ``nn.ModuleList`` and a centring buffer; it trains
with ``Adam`` and a ``OneCycleLR`` schedule stepped every batch, with gradients
clipped by ``clip_grad_norm_``, on mini-batches from ``TensorDataset`` +
``DataLoader``; ``torch.manual_seed`` makes it reproducible. At the end,
``functional_call`` turns the trained model into a function of its output bias and
``hessian`` differentiates the loss twice with respect to it; the result is checked
against the closed form of softmax cross-entropy, ``mean_i (diag(s_i) - s_i s_iᵀ)``.

Only the import block differs from the PyTorch version: ``tests/test_examples.py``
swaps the imports and runs this very file with PyTorch too.

Run: ``python examples/pytorch_habits.py`` (about a second).
"""

import sys

import numpy as np

# --- imports: the only lines that differ from the PyTorch version ---
import autograd as ag
import nn
from autograd import hessian
from nn import functional_call, optim
from nn.data import DataLoader, TensorDataset

# --- end of imports ---


def spiral(n_per_class, classes=3, seed=0):
    """Interleaved spiral arms, one class each (numpy data, the same for any framework)."""
    rng = np.random.default_rng(seed)
    X, y = [], []  # noqa: N806
    for k in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = 2 * np.pi * k / classes + 4 * r + 0.3 * rng.standard_normal(n_per_class)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)


class Net(nn.Module):
    """Residual MLP: ``x -> stem -> [x + relu(block(x))] * depth -> dropout -> head``."""

    def __init__(self, mean, width=64, depth=3, classes=3):
        super().__init__()
        self.register_buffer("mean", mean)  # input centring: state, not a parameter
        self.stem = nn.Linear(2, width)
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = ag.relu(self.stem(x - self.mean))
        for block in self.blocks:
            h = h + ag.relu(block(h))
        return self.head(self.dropout(h))


def main(epochs=15, batch_size=32, max_lr=0.01, max_norm=1.0):
    """Train, evaluate, and take the Hessian of the loss w.r.t. the output bias."""
    ag.manual_seed(0)
    X_train, y_train = spiral(200, seed=0)  # noqa: N806
    X_test, y_test = spiral(100, seed=1)  # noqa: N806
    X_train, y_train = ag.tensor(X_train), ag.tensor(y_train)  # noqa: N806
    X_test, y_test = ag.tensor(X_test), ag.tensor(y_test)  # noqa: N806

    model = Net(X_train.mean(0))
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    optimizer = optim.Adam(model.parameters(), lr=max_lr)
    scheduler = optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=epochs * len(loader)
    )

    losses, rates, norms = [], [], []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr()[0])
            total += loss.item() * len(yb)
        losses.append(total / len(loader.dataset))

    model.eval()
    with ag.no_grad():
        logits = model(X_test)
        accuracy = (logits.argmax(dim=1) == y_test).sum().item() / len(y_test)
        probs = nn.functional.softmax(model(X_train), dim=1).numpy()

    def loss_of_bias(bias):
        return nn.functional.cross_entropy(
            functional_call(model, {"head.bias": bias}, X_train), y_train
        )

    bias_hessian = hessian(loss_of_bias)(model.head.bias.detach())
    closed_form = np.mean([np.diag(s) - np.outer(s, s) for s in probs.astype(np.float64)], 0)
    return {
        "losses": losses,
        "accuracy": accuracy,
        "rates": rates,
        "grad_norms": norms,
        "bias_hessian": bias_hessian.detach().numpy(),
        "closed_form": closed_form,
        "state_keys": list(model.state_dict()),
    }


if __name__ == "__main__":
    result = main(epochs=int(sys.argv[1]) if len(sys.argv) > 1 else 15)
    print(f"loss {result['losses'][0]:.3f} -> {result['losses'][-1]:.3f}, "
          f"test accuracy {result['accuracy']:.1%}")  # fmt: skip
    print(f"learning rate: start {result['rates'][0]:.2e}, peak {max(result['rates']):.2e}, "
          f"end {result['rates'][-1]:.2e} (OneCycleLR)")  # fmt: skip
    gap = np.abs(result["bias_hessian"] - result["closed_form"]).max()
    print(f"Hessian of the loss w.r.t. head.bias (functional_call + hessian):\n"
          f"{np.array2string(result['bias_hessian'], precision=4)}\n"
          f"largest difference from mean(diag(s) - s sᵀ): {gap:.1e}")  # fmt: skip
