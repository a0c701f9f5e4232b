"""Every optimizer and option against torch.optim: 50-step trajectories, two parameter groups."""

import numpy as np
import pytest

import nn

torch = pytest.importorskip("torch")

STEPS = 50
SHAPES = [(3, 4), (4,)]


def gradient(p, t, k):
    """A gradient that depends on the parameter's value (so differences would compound)."""
    rng = np.random.default_rng(1000 * t + k)
    return np.sin(3 * p) + 0.5 * rng.standard_normal(p.shape)


def trajectories(ours_cls, theirs_cls, hyper, dtype, groups=None):
    """Run both optimizers ``STEPS`` steps on the same start; yield both params each step."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [nn.Parameter(s.copy()) for s in start]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in start]
    if groups is None:
        opt_ours, opt_theirs = ours_cls(ours, **hyper), theirs_cls(theirs, **hyper)
    else:
        opt_ours = ours_cls([{"params": [p], **g} for p, g in zip(ours, groups)], **hyper)
        opt_theirs = theirs_cls([{"params": [p], **g} for p, g in zip(theirs, groups)], **hyper)
    for t in range(STEPS):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            p.grad = gradient(p.numpy(), t, k).astype(dtype)
            q.grad = torch.from_numpy(gradient(q.detach().numpy(), t, k).astype(dtype))
        opt_ours.step()
        opt_theirs.step()
        yield t, ours, theirs, opt_ours, opt_theirs


CASES = [
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05}),
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    (nn.optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    (nn.optim.Adam, torch.optim.Adam, {"lr": 0.01}),
    (nn.optim.Adam, torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    (nn.optim.Adam, torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (nn.optim.Adam, torch.optim.Adam, {"lr": 0.01, "maximize": True}),
    (nn.optim.Adam, torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1,
                                       "decoupled_weight_decay": True}),
    (nn.optim.AdamW, torch.optim.AdamW, {"lr": 0.01}),
    (nn.optim.AdamW, torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}),
    (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.5}),
    (nn.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "centered": True, "maximize": True}),
    (nn.optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1}),
    (nn.optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    (nn.optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.5,
                                             "eps": 1e-6, "maximize": True}),
]  # fmt: skip


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize(
    "ours_cls, theirs_cls, hyper", CASES, ids=lambda v: getattr(v, "__name__", "")
)
def test_fifty_steps_match_torch(ours_cls, theirs_cls, hyper, dtype, rtol):
    for _t, ours, theirs, *_ in trajectories(ours_cls, theirs_cls, hyper, dtype):
        for p, q in zip(ours, theirs):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    "ours_cls, theirs_cls, groups",
    [
        (nn.optim.SGD, torch.optim.SGD, [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.01}]),
        (nn.optim.Adam, torch.optim.Adam, [{"amsgrad": True}, {"lr": 0.05, "betas": (0.5, 0.9)}]),
        (nn.optim.RMSprop, torch.optim.RMSprop, [{"centered": True}, {"momentum": 0.3}]),
        (nn.optim.Adagrad, torch.optim.Adagrad, [{"lr_decay": 0.1}, {"lr": 0.5}]),
    ],
)
def test_parameter_groups_match_torch(ours_cls, theirs_cls, groups):
    for _t, ours, theirs, *_ in trajectories(
        ours_cls, theirs_cls, {"lr": 0.02}, np.float64, groups
    ):
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "ours_cls, theirs_cls, hyper", CASES[1:], ids=lambda v: getattr(v, "__name__", "")
)
def test_state_matches_torch_and_is_arrays_updated_in_place(ours_cls, theirs_cls, hyper):
    first = None
    for t, ours, theirs, opt, opt_theirs in trajectories(ours_cls, theirs_cls, hyper, np.float64):
        state, their_state = opt.state[ours[0]], opt_theirs.state[theirs[0]]
        assert set(state) == {k for k, v in their_state.items() if v is not None}
        identities = {name: id(value) for name, value in state.items()}
        first = first or identities
        assert identities == first  # the same arrays at every step: updated in place
        for name, value in state.items():
            assert isinstance(value, np.ndarray)
            np.testing.assert_allclose(value, their_state[name].numpy(), rtol=1e-11, atol=1e-12)
        if "step" in state:
            assert state["step"].shape == () and state["step"].dtype == np.int64
            assert int(state["step"]) == t + 1
