"""Recurrent layers and cells: PyTorch's parameter names, shapes, init and return values,
a step by hand, gradcheck through the modules, dropout, errors, and PyTorch's outputs
and gradients with copied weights when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

RNG = np.random.default_rng(0)
KINDS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_parameter_names_and_shapes_are_pytorchs():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    expected = {}
    for layer, inputs in ((0, 3), (1, 10)):
        for suffix in ("", "_reverse"):
            expected |= {
                f"weight_ih_l{layer}{suffix}": (20, inputs),
                f"weight_hh_l{layer}{suffix}": (20, 5),
                f"bias_ih_l{layer}{suffix}": (20,),
                f"bias_hh_l{layer}{suffix}": (20,),
            }
    assert list(shapes) == list(expected) and shapes == expected
    assert [n for n, _ in nn.GRU(2, 3, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]
    cell = {n: p.shape for n, p in nn.GRUCell(2, 3).named_parameters()}
    assert cell == {"weight_ih": (9, 2), "weight_hh": (9, 3), "bias_ih": (9,), "bias_hh": (9,)}
    assert repr(nn.LSTM(3, 5, 2, batch_first=True)) == "LSTM(3, 5, num_layers=2, batch_first=True)"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_init_is_uniform_within_one_over_sqrt_hidden_and_reproducible(kind):
    a, b = KINDS[kind](16, 64, rng=3), KINDS[kind](16, 64, rng=3)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
        assert p.dtype == np.float32 and np.abs(p.numpy()).max() <= 1 / 8
    weights = a.weight_hh_l0.numpy()
    assert abs(weights.std() - 1 / 8 / np.sqrt(3)) < 0.005  # U(-b, b) has std b / sqrt(3)


def test_lstm_step_equals_the_equations_by_hand():
    lstm = nn.LSTM(3, 4, dtype=np.float64, rng=1)
    x, h0, c0 = (
        RNG.standard_normal((2, 5, 3)),
        RNG.standard_normal((1, 5, 4)),
        RNG.standard_normal((1, 5, 4)),
    )
    out, (h_n, c_n) = lstm(x, (h0, c0))
    w_ih, w_hh = lstm.weight_ih_l0.numpy(), lstm.weight_hh_l0.numpy()
    b = lstm.bias_ih_l0.numpy() + lstm.bias_hh_l0.numpy()
    h, c = h0[0], c0[0]
    for t in range(2):
        i, f, g, o = np.split(x[t] @ w_ih.T + h @ w_hh.T + b, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(out.numpy()[t], h, rtol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[0], h, rtol=1e-12)
    np.testing.assert_allclose(c_n.numpy()[0], c, rtol=1e-12)


def test_gru_step_equals_the_equations_by_hand():
    gru = nn.GRU(3, 4, dtype=np.float64, rng=2)
    x, h = RNG.standard_normal((1, 2, 3)), RNG.standard_normal((1, 2, 4))
    out, _ = gru(x, h)
    gi = x[0] @ gru.weight_ih_l0.numpy().T + gru.bias_ih_l0.numpy()
    gh = h[0] @ gru.weight_hh_l0.numpy().T + gru.bias_hh_l0.numpy()
    r = _sigmoid(gi[:, :4] + gh[:, :4])
    z = _sigmoid(gi[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gi[:, 8:] + r * gh[:, 8:])
    np.testing.assert_allclose(out.numpy()[0], (1 - z) * n + z * h[0], rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_layers_pass_gradcheck_for_input_and_initial_state(kind):
    layer = KINDS[kind](2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=0)
    x, h0 = RNG.standard_normal((3, 2, 2)), RNG.standard_normal((4, 2, 3))

    def f(x, h0):
        out, state = layer(x, (h0, h0 * 0.5) if kind == "LSTM" else h0)
        final = state[1] if kind == "LSTM" else state
        return (out * out).sum() + final.sum()

    assert ag.gradcheck(f, [x, h0])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cell_is_one_step_of_the_layer(kind):
    cell = CELLS[kind](3, 4, dtype=np.float64, rng=5)
    layer = KINDS[kind](3, 4, dtype=np.float64)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    hx = (h, h * 2) if kind == "LSTM" else h
    layer_hx = (h[None], 2 * h[None]) if kind == "LSTM" else h[None]
    step, (_, state) = cell(x, hx), layer(x[None], layer_hx)
    mine = step if kind != "LSTM" else step[1]
    theirs = state if kind != "LSTM" else state[1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy()[0], rtol=1e-13)
    unbatched = cell(x[0], (h[0], 2 * h[0]) if kind == "LSTM" else h[0])
    first = unbatched[0] if kind == "LSTM" else unbatched
    np.testing.assert_allclose(first.numpy(), (step[0] if kind == "LSTM" else step).numpy()[0])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_shapes_of_outputs_and_final_states(kind):
    layer = KINDS[kind](3, 4, num_layers=2, bidirectional=True, batch_first=True)
    out, state = layer(np.zeros((5, 7, 3), np.float32))
    assert out.shape == (5, 7, 8) and out.dtype == np.float32
    for s in state if kind == "LSTM" else (state,):
        assert s.shape == (4, 5, 4)
    out, state = layer(np.zeros((7, 3), np.float32))  # unbatched: batch_first does not apply
    assert out.shape == (7, 8)
    assert (state[0] if kind == "LSTM" else state).shape == (4, 4)


def test_bidirectional_final_states_are_each_directions_last_step():
    gru = nn.GRU(2, 3, bidirectional=True, dtype=np.float64, rng=0)
    out, h_n = gru(RNG.standard_normal((4, 1, 2)))
    np.testing.assert_array_equal(h_n.numpy()[0], out.numpy()[-1, :, :3])  # forward: step T-1
    np.testing.assert_array_equal(h_n.numpy()[1], out.numpy()[0, :, 3:])  # reverse: step 0


def test_dropout_between_layers_only_while_training():
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5, dtype=np.float64, rng=0)
    x = RNG.standard_normal((4, 2, 3))
    first, second = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    assert not np.allclose(first, second)
    lstm.eval()
    plain = nn.LSTM(3, 8, num_layers=2, dtype=np.float64)
    plain.load_state_dict(lstm.state_dict())
    np.testing.assert_array_equal(lstm(x)[0].numpy(), plain(x)[0].numpy())


ZEROS = np.zeros((2, 1, 3))
BAD_INPUTS = [
    (lambda: nn.LSTM(3, 4)(np.zeros((2, 1, 5))), ValueError, "LSTM: input has 5 features"),
    (lambda: nn.GRU(3, 4)(np.zeros((2, 1, 2, 3))), ValueError, "GRU: expected a 2-d"),
    (
        lambda: nn.RNN(3, 4, 2)(ZEROS, np.zeros((1, 1, 4))),
        ValueError,
        r"h0 must have shape \(2, 1, 4",
    ),
    (
        lambda: nn.LSTM(3, 4)(ZEROS, np.zeros((1, 1, 4))),
        TypeError,
        r"hx must be the tuple \(h0, c0",
    ),
    (
        lambda: nn.LSTMCell(3, 4)(ZEROS[0], (ZEROS[0, :, :1], ZEROS)),
        ValueError,
        "h0 must have shape",
    ),
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "nonlinearity must be one of"),
    (lambda: nn.GRU(3, 0), ValueError, "hidden_size must be a positive int"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), ValueError, r"dropout must be in \[0, 1\]"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_INPUTS)
def test_bad_input_raises_naming_the_layer_and_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()


TORCH_CASES = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False, "num_layers": 3}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"batch_first": True, "bias": False}),
]


@pytest.mark.parametrize(("kind", "options"), TORCH_CASES)
@pytest.mark.parametrize("initial", [True, False], ids=["hx", "zeros"])
def test_layers_match_pytorch_with_copied_weights(kind, options, initial):
    torch = pytest.importorskip("torch")
    ours = KINDS[kind](3, 4, **options, dtype=np.float64, rng=0)
    theirs = getattr(torch.nn, kind)(3, 4, **options).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    batch_first = options.get("batch_first", False)
    x = RNG.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    count = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    states = [RNG.standard_normal((count, 2, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    hx = (tuple(states) if kind == "LSTM" else states[0]) if initial else None
    t_hx = None
    if initial:
        t_hx = tuple(map(torch.tensor, states)) if kind == "LSTM" else torch.tensor(states[0])
    xs, t_xs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out, state), (t_out, t_state) = ours(xs, hx), theirs(t_xs, t_hx)
    weights = RNG.standard_normal(out.shape)
    finals, t_finals = (state, t_state) if kind == "LSTM" else ((state,), (t_state,))
    loss = (out * weights).sum() + sum((s * s).sum() for s in finals)
    t_loss = (t_out * torch.tensor(weights)).sum() + sum((s * s).sum() for s in t_finals)
    loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-11, atol=1e-14)
    for s, t_s in zip(finals, t_finals):
        np.testing.assert_allclose(s.numpy(), t_s.detach().numpy(), rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(xs.grad.numpy(), t_xs.grad.numpy(), rtol=1e-10, atol=1e-13)
    for (name, p), (t_name, t_p) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == t_name
        np.testing.assert_allclose(p.grad.numpy(), t_p.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cells_match_pytorch(kind):
    torch = pytest.importorskip("torch")
    ours = CELLS[kind](3, 4, dtype=np.float64, rng=0)
    theirs = getattr(torch.nn, f"{kind}Cell")(3, 4).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    hx = (h, h * 0.5) if kind == "LSTM" else h
    t_hx = (torch.tensor(h), torch.tensor(h * 0.5)) if kind == "LSTM" else torch.tensor(h)
    for got, want in (
        (ours(x, hx), theirs(torch.tensor(x), t_hx)),
        (ours(x), theirs(torch.tensor(x))),
    ):
        got = got if kind == "LSTM" else (got,)
        want = want if kind == "LSTM" else (want,)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=1e-12)
