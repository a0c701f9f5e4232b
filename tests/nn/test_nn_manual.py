"""The engine's gradients equal the notes' hand-derived ones (``nn.manual``), and
``nn.manual`` itself agrees with finite differences (``ag.gradcheck``)."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1) are kept

import ast
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn

ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu"]
RTOL = 1e-10  # float64: the two derivations differ only by rounding


def batch(m=16, n=5, k=3, seed=0, one_hot=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = rng.integers(0, k, m)
    return X, (np.eye(k)[y] if one_hot else y)


def assert_same(engine, manual):
    np.testing.assert_allclose(np.asarray(engine), np.asarray(manual), rtol=RTOL, atol=0)


def engine_loss(model, X, y, lam):
    loss = nn.F.cross_entropy(model(X), y)
    if lam:
        loss = loss + nn.F.l2_penalty(model.parameters(), lam)
    loss.backward()
    return loss.item()


@pytest.mark.parametrize("lam", [0.0, 0.3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_two_layer_engine_equals_notes(activation, lam):
    X, y = batch()
    model = nn.TwoLayerMLP(5, 7, 3, activation=activation, dtype=np.float64, rng=1)
    loss = engine_loss(model, X, y, lam)
    ref_loss, dW1, dW2 = nn.manual.two_layer_grads(
        X, y, model.W1.numpy(), model.W2.numpy(), activation, lam=lam
    )
    assert_same(loss, ref_loss)
    assert_same(model.W1.grad.numpy(), dW1)
    assert_same(model.W2.grad.numpy(), dW2)


@pytest.mark.parametrize("lam", [0.0, 0.1])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_engine_equals_notes(activation, bias, lam):
    X, y = batch(m=12, n=4, k=3, seed=3)
    model = nn.MLP([4, 8, 6, 3], activation=activation, bias=bias, dtype=np.float64, rng=2)
    loss = engine_loss(model, X, y, lam)
    layers = model.linears
    weights = [layer.weight.numpy() for layer in layers]
    biases = [layer.bias.numpy() for layer in layers] if bias else None
    ref_loss, dWs, dbs = nn.manual.mlp_grads(X, y, weights, biases, activation, lam=lam)
    assert_same(loss, ref_loss)
    for layer, dW in zip(layers, dWs):
        assert_same(layer.weight.grad.numpy(), dW)
    if bias:
        for layer, db in zip(layers, dbs):
            assert_same(layer.bias.grad.numpy(), db)
    else:
        assert dbs is None


def test_one_hot_targets_give_the_same_gradients_as_labels():
    X, y = batch(seed=4)
    _, Y = batch(seed=4, one_hot=True)
    model = nn.TwoLayerMLP(5, 6, 3, dtype=np.float64, rng=5)
    engine_loss(model, X, Y, 0.0)
    ref = nn.manual.two_layer_grads(X, y, model.W1.numpy(), model.W2.numpy())
    ref_one_hot = nn.manual.two_layer_grads(X, Y, model.W1.numpy(), model.W2.numpy())
    for engine, a, b in zip((model.W1.grad, model.W2.grad), ref[1:], ref_one_hot[1:]):
        assert_same(engine.numpy(), a)
        assert_same(a, b)


@pytest.mark.parametrize("activation, slope", [("relu", 0.0), ("leaky_relu", 0.01)])
def test_derivative_at_the_kink_matches_the_engine(activation, slope):
    # A zero column of W1 makes hidden unit 0's pre-activation exactly 0 for every example.
    X, y = batch(m=6, seed=6)
    model = nn.TwoLayerMLP(5, 4, 3, activation=activation, dtype=np.float64, rng=7)
    with ag.no_grad():
        model.W1[:, 0] = 0.0
    engine_loss(model, X, y, 0.0)
    _, dW1, dW2 = nn.manual.two_layer_grads(X, y, model.W1.numpy(), model.W2.numpy(), activation)
    assert_same(model.W1.grad.numpy(), dW1)
    assert_same(model.W2.grad.numpy(), dW2)
    # sigma'(0) is the slope on the left: 0 for relu (as PyTorch), 0.01 for leaky_relu
    _, G = nn.manual.softmax_cross_entropy(model(X).numpy(), y)  # (S - I_y) / m
    column = slope * X.T @ (G @ model.W2.numpy().T)[:, 0]
    assert np.any(X.T @ (G @ model.W2.numpy().T)[:, 0] != 0)
    np.testing.assert_allclose(model.W1.grad.numpy()[:, 0], column, rtol=1e-12, atol=0)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_two_layer_formula_is_the_two_layer_case_of_the_recursion(activation):
    X, y = batch(seed=8)
    rng = np.random.default_rng(9)
    W1, W2 = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    loss, dW1, dW2 = nn.manual.two_layer_grads(X, y, W1, W2, activation, lam=0.2)
    loss_l, (dW1_l, dW2_l), _ = nn.manual.mlp_grads(X, y, [W1, W2], None, activation, lam=0.2)
    assert_same(loss, loss_l)
    assert_same(dW1, dW1_l)
    assert_same(dW2, dW2_l)


def manual_op(activation, n_layers, lam):
    """``nn.manual.mlp_grads`` as an engine op whose backward is the hand derivation."""

    class ManualMLP(ag.Function):
        @staticmethod
        def forward(ctx, X, y, *params):
            weights, biases = params[:n_layers], params[n_layers:] or None
            loss, dWs, dbs = nn.manual.mlp_grads(X, y, weights, biases, activation, lam=lam)
            ctx.save_for_backward(*dWs, *(dbs or ()))
            return np.asarray(loss)

        @staticmethod
        def backward(ctx, grad_output):
            return (None, None, *(grad_output * d for d in ctx.saved_tensors))

    return ManualMLP.apply


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_manual_mlp_grads_pass_gradcheck(activation, bias):
    X, y = batch(m=7, n=3, k=3, seed=10)
    rng = np.random.default_rng(11)
    shapes = [(3, 4), (4, 5), (5, 3)]
    params = [rng.standard_normal(s) for s in shapes]
    if bias:
        params += [rng.standard_normal(s[1]) for s in shapes]
    op = manual_op(activation, len(shapes), lam=0.05)
    assert ag.gradcheck(lambda *ps: op(X, y, *ps), params, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_manual_two_layer_grads_pass_gradcheck(activation):
    X, y = batch(m=6, n=3, k=4, seed=12)
    rng = np.random.default_rng(13)
    W1, W2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 4))

    class ManualTwoLayer(ag.Function):
        @staticmethod
        def forward(ctx, W1, W2):
            loss, dW1, dW2 = nn.manual.two_layer_grads(X, y, W1, W2, activation)
            ctx.save_for_backward(dW1, dW2)
            return np.asarray(loss)

        @staticmethod
        def backward(ctx, grad_output):
            return tuple(grad_output * d for d in ctx.saved_tensors)

    assert ag.gradcheck(ManualTwoLayer.apply, [W1, W2], atol=1e-7, rtol=1e-6)


def test_gradcheck_catches_a_wrong_manual_formula():
    # Guard for the test above: a deliberately wrong backward must be rejected.
    X, y = batch(m=5, n=3, k=3, seed=14)
    W1, W2 = np.random.default_rng(15).standard_normal((2, 3, 3))

    class Wrong(ag.Function):
        @staticmethod
        def forward(ctx, W1, W2):
            loss, dW1, dW2 = nn.manual.two_layer_grads(X, y, W1, W2, "tanh")
            ctx.save_for_backward(dW1, dW2)
            return np.asarray(loss)

        @staticmethod
        def backward(ctx, grad_output):
            dW1, dW2 = ctx.saved_tensors
            return grad_output * dW1, 2 * grad_output * dW2

    with pytest.raises(ag.GradcheckError, match="input 1"):
        ag.gradcheck(Wrong.apply, [W1, W2])


def test_manual_imports_nothing_from_the_engine():
    tree = ast.parse(Path(nn.manual.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "collections", "numpy"}


def test_manual_rejects_mismatched_shapes():
    X, y = batch()
    with pytest.raises(ValueError, match=r"weight 1 has shape \(6, 3\), expected \(7,"):
        nn.manual.two_layer_grads(X, y, np.ones((5, 7)), np.ones((6, 3)))
    with pytest.raises(ValueError, match="biases have shapes"):
        nn.manual.mlp_grads(X, y, [np.ones((5, 3))], [np.ones(4)])
    with pytest.raises(ValueError, match="unknown activation 'step'"):
        nn.manual.two_layer_grads(X, y, np.ones((5, 7)), np.ones((7, 3)), "step")
