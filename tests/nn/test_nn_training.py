"""End-to-end training with fixed seeds: the notes' networks learn the toy problems and digits."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1) are kept

import numpy as np
import pytest

import autograd as ag
import nn


def train(model, optimizer, loader, epochs):
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            nn.F.cross_entropy(model(xb), yb).backward()
            optimizer.step()


def accuracy(model, X, y):
    with ag.no_grad():
        return float(np.mean(model(X).numpy().argmax(axis=1) == y))


@pytest.mark.parametrize(
    "dataset",
    [lambda: nn.data.make_spiral(300, k=2, rng=0), lambda: nn.data.make_circles(200, rng=0)],
    ids=["spiral", "circles"],
)
def test_mlp_fits_curved_boundaries(dataset):
    X, y = dataset()
    X = X.astype(np.float32)
    model = nn.MLP([2, 32, 32, 2], rng=0)
    assert accuracy(model, X, y) < 0.8  # an untrained network does not already fit
    optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
    train(model, optimizer, nn.data.DataLoader(X, y, batch_size=len(X)), epochs=300)
    assert accuracy(model, X, y) >= 0.95


def test_two_layer_network_learns_xor_with_sgd_momentum():
    # Without biases an odd activation (tanh) cannot fit XOR: h(-x) = -h(x) would put
    # (1, 1) and (-1, -1) in different classes. ReLU features are not odd.
    X, y = nn.data.make_xor(200, rng=1)
    model = nn.TwoLayerMLP(2, 8, 2, activation="relu", dtype=np.float64, rng=1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, optimizer, nn.data.DataLoader(X, y, batch_size=20, shuffle=True, rng=1), 20)
    assert accuracy(model, X, y) == 1.0


def test_mlp_reaches_95_percent_on_held_out_digits():
    X, y = nn.data.load_digits()
    X = (X / 16).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    n_test = len(X) // 5
    test, train_idx = order[:n_test], order[n_test:]
    model = nn.MLP([64, 64, 32, 10], rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-2)
    loader = nn.data.DataLoader(X[train_idx], y[train_idx], batch_size=64, shuffle=True, rng=1)
    train(model, optimizer, loader, epochs=20)
    assert accuracy(model, X[test], y[test]) >= 0.95
