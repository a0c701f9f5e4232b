"""Compiled training steps of every optimizer, scheduler and layer family equal eager
ones bit for bit.

As in ``test_compile_training``: two identical set-ups from the same seeds, one run
eagerly and one through ``ag.compile``, compared byte for byte after every step (loss,
parameters, gradients, optimizer state, buffers such as batch norm's running statistics).
"""

# ruff: noqa: N803, N806 - the notes' matrix names (X)

from __future__ import annotations

import math

import numpy as np
import pytest
from test_compile_training import (
    assert_same_state,
    batches,
    bits,
    mlp_with_dropout,
    training_step,
)

import autograd as ag
import nn

STEPS = 55

OPTIMIZERS = {
    "sgd-dampening-maximize": (
        nn.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "maximize": True},
    ),
    "adam-amsgrad": (nn.optim.Adam, {"lr": 0.01, "amsgrad": True}),
    "adamw-amsgrad": (nn.optim.AdamW, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    "adam-maximize": (nn.optim.Adam, {"lr": 0.01, "maximize": True}),
    "rmsprop": (nn.optim.RMSprop, {"lr": 0.01}),
    "rmsprop-centered-momentum": (
        nn.optim.RMSprop,
        {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01},
    ),
    "adagrad": (nn.optim.Adagrad, {"lr": 0.1}),
    "adagrad-decay": (
        nn.optim.Adagrad,
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
}

SCHEDULERS = {
    "step": lambda opt: nn.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5),
    "exponential": lambda opt: nn.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95),
    "cosine": lambda opt: nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20),
    "one-cycle": lambda opt: nn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=STEPS),
    "lambda": lambda opt: nn.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / math.sqrt(1 + e)),
}


def run_both(make_model, make_optimizer, data, make_scheduler=None, loss_fn=nn.F.cross_entropy):
    """Train two copies, eagerly and compiled, comparing after every step."""
    model_a, model_b = make_model(), make_model()
    opt_a, opt_b = make_optimizer(model_a), make_optimizer(model_b)
    sched = [make_scheduler(o) for o in (opt_a, opt_b)] if make_scheduler else []
    eager = training_step(model_a, opt_a, loss_fn)
    compiled = ag.compile(training_step(model_b, opt_b, loss_fn))
    for i, (X, y) in enumerate(data):
        assert bits(eager(X, y)) == bits(compiled(X, y)), f"loss differs at step {i}"
        for s in sched:
            s.step()
        assert_same_state(model_a, model_b, opt_a, opt_b)
        for (name, a), b in zip(model_a.named_buffers(), model_b.buffers()):
            assert bits(a) == bits(b), f"buffer {name} differs at step {i}"
    assert compiled.cache_info() == (1, len(data) - 1)
    if sched:
        assert sched[0].get_last_lr() == sched[1].get_last_lr()
    return compiled


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_every_optimizer_compiled_equals_eager_bit_for_bit(kind):
    cls, hyper = OPTIMIZERS[kind]
    run_both(mlp_with_dropout, lambda m: cls(m.parameters(), **hyper), batches(STEPS))


@pytest.mark.parametrize("kind", SCHEDULERS)
def test_every_scheduler_changes_the_compiled_learning_rate_as_eager(kind):
    def optimizer(model):
        return nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    run_both(mlp_with_dropout, optimizer, batches(STEPS), SCHEDULERS[kind])


@pytest.mark.parametrize("kind", ["step", "one-cycle"])
def test_a_scheduler_stepped_inside_the_compiled_function(kind):
    model_a, model_b = mlp_with_dropout(), mlp_with_dropout()
    opt_a, opt_b = (nn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in (model_a, model_b))
    sched_a, sched_b = SCHEDULERS[kind](opt_a), SCHEDULERS[kind](opt_b)

    def step_of(model, optimizer, scheduler):
        def step(X, y):
            loss = training_step(model, optimizer)(X, y)
            scheduler.step()
            return loss

        return step

    eager, compiled = step_of(model_a, opt_a, sched_a), ag.compile(step_of(model_b, opt_b, sched_b))
    for i, (X, y) in enumerate(batches(STEPS)):
        assert bits(eager(X, y)) == bits(compiled(X, y)), f"loss differs at step {i}"
        assert sched_a.get_last_lr() == sched_b.get_last_lr()
    assert_same_state(model_a, model_b, opt_a, opt_b)


def test_a_scheduler_on_adam_and_parameter_groups():
    def optimizer(model):
        first, *rest = model.parameters()
        return nn.optim.Adam([{"params": [first], "lr": 0.02}, {"params": rest}], lr=0.01)

    def schedule(opt):
        return nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=1e-4)

    run_both(mlp_with_dropout, optimizer, batches(STEPS), schedule)


def small_cnn(seed=0):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=seed),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, rng=seed + 1),
        nn.BatchNorm2d(6, momentum=0.2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.2, rng=np.random.default_rng(seed + 7)),
        nn.Linear(6 * 2 * 2, 3, rng=seed + 2),
    )


def test_a_small_cnn_with_batch_norm_and_max_pool():
    rng = np.random.default_rng(1)
    data = [
        (rng.standard_normal((5, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 5))
        for _ in range(STEPS)
    ]
    compiled = run_both(
        small_cnn, lambda m: nn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9), data
    )
    assert compiled.cache_info().traces == 1


def test_batch_norm_cumulative_average_keeps_counting_in_a_compiled_step():
    # momentum=None: the factor 1/num_batches_tracked changes every step; a replay must
    # read it afresh, not keep the traced step's 1/1
    def model(seed=0):
        return nn.Sequential(
            nn.Conv2d(1, 3, 3, rng=seed), nn.BatchNorm2d(3, momentum=None), nn.Flatten(),
            nn.Linear(3 * 6 * 6, 2, rng=seed + 1),
        )  # fmt: skip

    rng = np.random.default_rng(3)
    data = [
        (rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 2, 4))
        for _ in range(6)
    ]
    run_both(model, lambda m: nn.optim.SGD(m.parameters(), lr=0.05), data)


def test_batch_norm_eval_after_compiled_training_sees_the_running_statistics():
    model_a, model_b = small_cnn(), small_cnn()
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 5)
    opt_a, opt_b = (nn.optim.Adam(m.parameters(), lr=0.01) for m in (model_a, model_b))
    eager, compiled = training_step(model_a, opt_a), ag.compile(training_step(model_b, opt_b))
    for _ in range(5):
        eager(X, y), compiled(X, y)
    model_a.eval(), model_b.eval()
    evaluate = ag.compile(lambda X: model_b(X))
    with ag.no_grad():
        assert bits(model_a(X)) == bits(evaluate(X))
    assert model_b[1].num_batches_tracked.item() == 5


class LanguageModel(nn.Module):
    def __init__(self, recurrent=nn.LSTM, seed=0):
        super().__init__()
        self.embedding = nn.Embedding(11, 6, rng=seed)
        self.recurrent = recurrent(6, 8, num_layers=2, dropout=0.25, rng=seed)
        self.head = nn.Linear(8, 11, rng=seed)

    def forward(self, tokens):
        out, _ = self.recurrent(self.embedding(tokens))
        return self.head(out).reshape(-1, 11)


@pytest.mark.parametrize("recurrent", [nn.LSTM, nn.GRU, nn.RNN], ids=lambda c: c.__name__)
def test_a_recurrent_language_model_with_dropout_between_layers(recurrent):
    rng = np.random.default_rng(3)
    data = []
    for _ in range(STEPS):
        tokens = rng.integers(0, 11, (7, 3))
        data.append((tokens, np.roll(tokens, -1, 0).reshape(-1)))
    run_both(
        lambda: LanguageModel(recurrent), lambda m: nn.optim.Adam(m.parameters(), lr=0.01), data
    )


def test_a_transformer_encoder_layer_with_dropout_and_a_causal_mask():
    def block():
        return nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.2, batch_first=True, rng=np.random.default_rng(5)
        )

    def loss_fn(out, target):
        return nn.F.mse_loss(out, target)

    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = block()

        def forward(self, x):
            mask = np.triu(np.ones((x.shape[1], x.shape[1]), bool), 1)
            return self.layer(x, mask, is_causal=True)

    rng = np.random.default_rng(4)
    data = [
        (rng.standard_normal((2, 5, 8)).astype(np.float32), rng.standard_normal((2, 5, 8)))
        for _ in range(STEPS)
    ]
    data = [(x, t.astype(np.float32)) for x, t in data]
    run_both(Causal, lambda m: nn.optim.AdamW(m.parameters(), lr=0.01), data, loss_fn=loss_fn)


def test_attention_dropout_is_drawn_afresh_at_every_call():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 4, 8)).astype(np.float32)
    compiled = ag.compile(lambda x: mha(x, x, x)[0])
    first, second = compiled(x), compiled(x)
    assert bits(first) != bits(second)
