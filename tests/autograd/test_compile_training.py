"""Compiled training steps equal eager ones bit for bit, over many steps.

Every test builds two identical set-ups from the same seeds, runs one eagerly and one
through ``ag.compile``, and compares the raw bytes of every loss, parameter, gradient and
optimizer state after every step: same numpy operations in the same order give the same
bits, so any difference is a bug (a frozen value, a missed effect, a reordered op).
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1)

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

STEPS = 55


def bits(value):
    """The raw bytes of a tensor's or array's values (None stays None)."""
    if value is None:
        return None
    return np.asarray(value.data if isinstance(value, ag.Tensor) else value).tobytes()


def batches(steps=STEPS, m=8, n=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((m, n)).astype(np.float32), rng.integers(0, k, m))
        for _ in range(steps)
    ]


def mlp_with_dropout(seed=0):
    return nn.Sequential(
        nn.Linear(4, 16, rng=seed),
        nn.ReLU(),
        nn.Dropout(0.3, rng=np.random.default_rng(seed + 100)),
        nn.Linear(16, 16, rng=seed + 1),
        nn.Tanh(),
        nn.Linear(16, 3, rng=seed + 2),
    )


def training_step(model, optimizer, loss_fn=nn.F.cross_entropy):
    def step(X, y):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def assert_same_state(model_a, model_b, opt_a=None, opt_b=None):
    for (name, p), q in zip(model_a.named_parameters(), model_b.parameters()):
        assert bits(p) == bits(q), f"parameter {name} differs"
        assert bits(p.grad) == bits(q.grad), f"gradient of {name} differs"
    if opt_a is not None:
        for p, q in zip(model_a.parameters(), model_b.parameters()):
            state_a, state_b = opt_a.state.get(p, {}), opt_b.state.get(q, {})
            assert state_a.keys() == state_b.keys()
            for key, value in state_a.items():
                assert bits(np.asarray(value)) == bits(np.asarray(state_b[key])), key


OPTIMIZERS = {
    "sgd": (nn.optim.SGD, {"lr": 0.1}),
    "sgd-momentum": (nn.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    "sgd-nesterov-weight-decay": (
        nn.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    "sgd-weight-decay": (nn.optim.SGD, {"lr": 0.1, "weight_decay": 0.05}),
    "adam": (nn.optim.Adam, {"lr": 0.01}),
    "adam-weight-decay": (nn.optim.Adam, {"lr": 0.01, "weight_decay": 0.01}),
    "adamw": (nn.optim.AdamW, {"lr": 0.01}),
}


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_optimizers_with_dropout_equal_eager_bit_for_bit(kind):
    cls, hyper = OPTIMIZERS[kind]
    model_a, model_b = mlp_with_dropout(), mlp_with_dropout()
    opt_a, opt_b = cls(model_a.parameters(), **hyper), cls(model_b.parameters(), **hyper)
    eager, compiled = training_step(model_a, opt_a), ag.compile(training_step(model_b, opt_b))
    for i, (X, y) in enumerate(batches()):
        assert bits(eager(X, y)) == bits(compiled(X, y)), f"loss differs at step {i}"
    assert_same_state(model_a, model_b, opt_a, opt_b)
    assert compiled.cache_info() == (1, STEPS - 1)


def test_the_notes_two_layer_network_equals_eager_and_the_hand_derivation():
    model_a, model_b = (nn.TwoLayerMLP(3, 16, 3, rng=0) for _ in range(2))
    opt_a, opt_b = (nn.optim.SGD(m.parameters(), lr=0.5) for m in (model_a, model_b))
    eager, compiled = training_step(model_a, opt_a), ag.compile(training_step(model_b, opt_b))
    for X, y in batches(k=3, n=3):
        W1, W2 = (w.numpy().copy() for w in (model_b.W1, model_b.W2))
        assert bits(eager(X, y)) == bits(compiled(X, y))
        _, dW1, dW2 = nn.manual.two_layer_grads(X, y, W1, W2)
        np.testing.assert_allclose(model_b.W1.grad.numpy(), dW1, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(model_b.W2.grad.numpy(), dW2, rtol=1e-5, atol=1e-7)
    assert_same_state(model_a, model_b)


def test_load_state_dict_and_a_new_learning_rate_between_calls_are_seen():
    model_a, model_b = mlp_with_dropout(), mlp_with_dropout()
    opt_a, opt_b = (nn.optim.Adam(m.parameters(), lr=0.01) for m in (model_a, model_b))
    eager, compiled = training_step(model_a, opt_a), ag.compile(training_step(model_b, opt_b))
    saved = None
    for i, (X, y) in enumerate(batches()):
        if i == 10:
            saved = (model_a.state_dict(), opt_a.state_dict())
        if i % 7 == 3:  # a scheduler's change of the learning rate
            for opt in (opt_a, opt_b):
                opt.param_groups[0]["lr"] *= 0.7
        if i == 30:  # back to the state saved at step 10
            for model, opt in ((model_a, opt_a), (model_b, opt_b)):
                model.load_state_dict(saved[0])
                opt.load_state_dict(saved[1])
        assert bits(eager(X, y)) == bits(compiled(X, y)), f"loss differs at step {i}"
    assert_same_state(model_a, model_b, opt_a, opt_b)
    assert compiled.cache_info().traces == 1


def test_switching_to_eval_retraces_and_dropout_follows_the_mode():
    model_a, model_b = mlp_with_dropout(), mlp_with_dropout()
    opt_a, opt_b = (nn.optim.SGD(m.parameters(), lr=0.1) for m in (model_a, model_b))
    eager, compiled = training_step(model_a, opt_a), ag.compile(training_step(model_b, opt_b))
    for i, (X, y) in enumerate(batches(steps=30)):
        if i in (10, 20):
            for model in (model_a, model_b):
                model.train(i == 20)
        assert bits(eager(X, y)) == bits(compiled(X, y)), f"loss differs at step {i}"
    assert compiled.cache_info().traces == 3  # train, eval, train again (a new trace)


def test_seeded_runs_draw_the_same_random_numbers_compiled_and_eager():
    def step(x):
        noise = ag.randn(*x.shape, dtype=np.float32)  # the default generator
        mask = nn.F.dropout(ag.ones(x.shape, dtype=np.float32), 0.5, rng=None)
        return (x + noise) * mask + ag.rand(3, rng=7).sum()  # an int seed: same each call

    compiled = ag.compile(step)
    x = ag.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    ag.manual_seed(3)
    eager_values = [bits(step(x)) for _ in range(6)]
    ag.manual_seed(3)
    compiled_values = [bits(compiled(x)) for _ in range(6)]
    assert compiled_values == eager_values
    assert len(set(eager_values)) == 6  # fresh numbers at every call
    assert compiled.cache_info() == (1, 5)


def test_a_step_that_differentiates_a_gradient_equals_eager():
    def make():
        w = ag.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)

        def step(X):
            out = ag.tanh(X @ w).sum()
            (g,) = ag.gradients(out, [w], create_graph=True)
            loss = out + (g * g).sum()  # a gradient penalty
            w.grad = None
            loss.backward()
            with ag.no_grad():
                w.sub_(w.grad * 0.1)
            return loss

        return w, step

    (w_a, eager), (w_b, step_b) = make(), make()
    compiled = ag.compile(step_b)
    for k in range(STEPS):
        X = np.random.default_rng(k).standard_normal((4, 3))
        assert bits(eager(X)) == bits(compiled(X)), k
        assert bits(w_a) == bits(w_b) and bits(w_a.grad) == bits(w_b.grad)


def test_hessian_inside_a_compiled_function():
    def f(x):
        return (x**3).sum() + ag.sin(x[0] * x[1])

    hessian = ag.compile(lambda x: ag.hessian(f)(x))
    for k in range(6):
        x = np.random.default_rng(k).standard_normal(3)
        expected = np.diag(6 * x)
        expected[0, 1] = expected[1, 0] = np.cos(x[0] * x[1]) - x[0] * x[1] * np.sin(x[0] * x[1])
        expected[0, 0] -= x[1] ** 2 * np.sin(x[0] * x[1])
        expected[1, 1] -= x[0] ** 2 * np.sin(x[0] * x[1])
        got = hessian(x)
        assert bits(got) == bits(ag.hessian(f)(x))
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert hessian.cache_info() == (1, 5)


def scalar_network_step(params, f=ag.sigmoid):
    """Note 003's 2-2-1 network of 0-d tensors: loss and gradients of one example."""

    def step(x1, x2, y):
        for p in params.values():
            p.grad = None
        a1 = params["w11"] * x1 + params["w12"] * x2 + params["b1"]
        a2 = params["w21"] * x1 + params["w22"] * x2 + params["b2"]
        y_hat = params["w1"] * f(a1) + params["w2"] * f(a2) + params["b"]
        loss = 0.5 * (y - y_hat) ** 2
        loss.backward()
        return loss

    return step


def test_the_scalar_network_of_note_003_equals_eager():
    from examples.scalar_network import PARAMS, START

    def make():
        return {k: ag.tensor(START[k], requires_grad=True) for k in PARAMS}

    for f in (ag.sigmoid, ag.tanh, ag.relu):
        params_a, params_b = make(), make()
        eager, compiled = (
            scalar_network_step(params_a, f),
            ag.compile(scalar_network_step(params_b, f)),
        )
        rng = np.random.default_rng(0)
        for _ in range(20):
            x1, x2, y = rng.standard_normal(3)
            assert bits(eager(x1, x2, y)) == bits(compiled(x1, x2, y))
            for k in PARAMS:
                assert bits(params_a[k].grad) == bits(params_b[k].grad), k
        assert compiled.cache_info() == (1, 19)


def test_gradients_accumulate_across_calls_when_they_are_not_zeroed():
    def make():
        w = ag.tensor(np.arange(3.0), requires_grad=True)
        return w, lambda x: (w * x).sum().backward()

    (w_a, eager), (w_b, step) = make(), make()
    compiled = ag.compile(step)
    for k in range(5):
        x = np.full(3, k + 1.0)
        eager(x)
        compiled(x)
        assert bits(w_a.grad) == bits(w_b.grad)
    np.testing.assert_array_equal(w_b.grad.numpy(), [15.0, 15.0, 15.0])
    assert compiled.cache_info().traces == 2  # a None gradient, then one to add to
