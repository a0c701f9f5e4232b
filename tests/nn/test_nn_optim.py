"""Optimizers follow torch.optim's published update rules, step for step."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adam, AdamW


def run(optimizer_cls, grads, p0=1.0, **hyper):
    """Apply ``optimizer_cls`` to one scalar parameter with the given gradient sequence."""
    p = nn.Parameter(np.array(p0))
    opt = optimizer_cls([p], **hyper)
    trajectory = []
    for g in grads:
        p.grad = np.array(g)
        opt.step()
        trajectory.append(float(p.item()))
    return trajectory


# ---------------------------------------------------------------------- SGD, by hand
def test_sgd_plain():
    assert run(SGD, [1.0, 2.0], lr=0.1) == pytest.approx([0.9, 0.7], rel=1e-15)


def test_sgd_momentum_buffer_starts_at_the_first_gradient():
    # b1 = g1 = 1 -> p = 0.9;  b2 = 0.9 * 1 + 2 = 2.9 -> p = 0.9 - 0.29 = 0.61
    assert run(SGD, [1.0, 2.0], lr=0.1, momentum=0.9) == pytest.approx([0.9, 0.61], rel=1e-15)


def test_sgd_nesterov():
    # step 1: b = 1, g = 1 + 0.9 * 1 = 1.9 -> 0.81;  step 2: b = 2.9, g = 2 + 0.9 * 2.9 = 4.61
    expected = [0.81, 0.81 - 0.461]
    assert run(SGD, [1.0, 2.0], lr=0.1, momentum=0.9, nesterov=True) == pytest.approx(expected)


def test_sgd_weight_decay_adds_wd_times_p_to_the_gradient():
    # g1 = 1 + 0.1 * 1 = 1.1 -> 0.89;  g2 = 2 + 0.1 * 0.89 = 2.089 -> 0.6811
    assert run(SGD, [1.0, 2.0], lr=0.1, weight_decay=0.1) == pytest.approx([0.89, 0.6811])


# ---------------------------------------------------------------------- Adam / AdamW, by hand
def test_adam_two_steps_by_hand():
    lr, eps = 0.1, 1e-8
    # t = 1: m = 0.1, v = 0.001, m_hat = 1, v_hat = 1
    p1 = 1.0 - lr * 1.0 / (1.0 + eps)
    # t = 2 (g = 2): m = 0.09 + 0.2 = 0.29, v = 0.000999 + 0.004 = 0.004999
    m_hat, v_hat = 0.29 / (1 - 0.9**2), 0.004999 / (1 - 0.999**2)
    p2 = p1 - lr * m_hat / (math.sqrt(v_hat) + eps)
    assert run(Adam, [1.0, 2.0], lr=lr) == pytest.approx([p1, p2], rel=1e-14)


def test_adam_weight_decay_is_l2_in_the_gradient():
    lr, wd, eps = 0.1, 0.5, 1e-8
    # g = 1 + 0.5 * 1 = 1.5: m_hat = 1.5, v_hat = 2.25
    p1 = 1.0 - lr * 1.5 / (1.5 + eps)
    assert run(Adam, [1.0], lr=lr, weight_decay=wd) == pytest.approx([p1], rel=1e-14)


def test_adamw_decays_the_weight_first():
    lr, wd, eps = 0.1, 0.1, 1e-8
    p1 = 1.0 * (1 - lr * wd) - lr * 1.0 / (1.0 + eps)
    m_hat, v_hat = 0.29 / (1 - 0.9**2), 0.004999 / (1 - 0.999**2)
    p2 = p1 * (1 - lr * wd) - lr * m_hat / (math.sqrt(v_hat) + eps)
    assert run(AdamW, [1.0, 2.0], lr=lr, weight_decay=wd) == pytest.approx([p1, p2], rel=1e-14)


# ---------------------------------------------------------------------- longer sequences
def reference(kind, params, grads, lr, momentum=0.0, wd=0.0, nesterov=False, betas=(0.9, 0.999)):
    """The update rules exactly as written in torch.optim's documentation (float64 loops)."""
    p = params.copy()
    b1, b2 = betas
    buf = m = v = None
    for t, g in enumerate(grads, start=1):
        if kind == "adamw":
            p = p - lr * wd * p
        elif wd:
            g = g + wd * p
        if kind == "sgd":
            if momentum:
                buf = g if buf is None else momentum * buf + g
                g = g + momentum * buf if nesterov else buf
            p = p - lr * g
        else:
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return p


@pytest.mark.parametrize(
    "kind, make",
    [
        ("sgd", lambda ps: SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01)),
        ("sgd", lambda ps: SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
        ("adam", lambda ps: Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
        ("adamw", lambda ps: AdamW(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ],
)
def test_ten_steps_on_a_matrix_match_the_documented_rules(kind, make):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(10)]
    p = nn.Parameter(start.copy())
    opt = make([p])
    group = opt.param_groups[0]
    for g in grads:
        p.grad = g
        opt.step()
    expected = reference(
        kind,
        start,
        grads,
        group["lr"],
        group.get("momentum", 0.0),
        group["weight_decay"],
        group.get("nesterov", False),
        group.get("betas", (0.9, 0.999)),
    )
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- mechanics
def test_step_skips_missing_grads_keeps_dtype_and_bumps_versions():
    a = nn.Parameter(np.ones(2, dtype=np.float32))
    b = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = Adam([a, b], lr=0.1)
    a.grad = np.ones(2, dtype=np.float32)
    version = a._version
    opt.step()
    assert a.dtype == np.float32 and a._version > version
    np.testing.assert_array_equal(b.numpy(), np.ones(2))
    assert b not in opt.state and a in opt.state  # b never had a gradient: no state either


def test_a_graph_built_before_step_refuses_backward():
    w = nn.Parameter(np.array([1.0, 2.0]))
    opt = SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = np.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_zero_grad_and_training_loop_with_the_engine():
    w = nn.Parameter(np.array([3.0, -2.0]))
    opt = SGD([w], lr=0.25)
    for _ in range(2):
        opt.zero_grad()
        assert w.grad is None
        (w * w).sum().backward()  # grad 2w: w <- w - 0.5 w = w / 2
        opt.step()
    np.testing.assert_array_equal(w.numpy(), [0.75, -0.5])


def test_param_groups_have_their_own_hyper_parameters():
    a, b = nn.Parameter(np.array(1.0)), nn.Parameter(np.array(1.0))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = b.grad = np.array(1.0)
    opt.step()
    assert (a.item(), b.item()) == (pytest.approx(0.9), pytest.approx(0.5))


def test_constructor_validation():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="invalid learning rate -1"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum > 0"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="invalid beta parameter at index 1: 1.0"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(p, lr=0.1)
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) \['momentum'\]"):
        Adam([{"params": [p], "momentum": 0.9}])
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([ag.tensor([1.0], requires_grad=True) * 2], lr=0.1)


# ---------------------------------------------------------------------- state dicts
@pytest.mark.parametrize(
    "make",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1), lambda ps: AdamW(ps)],
)
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(1)
    start = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    grads = [[rng.standard_normal(s.shape) for s in start] for _ in range(5)]

    def steps(opt, params, chunk):
        for gs in chunk:
            for p, g in zip(params, gs):
                p.grad = g
            opt.step()

    ps = [nn.Parameter(s.copy()) for s in start]
    opt = make(ps)
    steps(opt, ps, grads[:3])
    saved, middle = opt.state_dict(), [p.numpy().copy() for p in ps]
    steps(opt, ps, grads[3:])

    qs = [nn.Parameter(m) for m in middle]  # a new run resumed from the checkpoint
    resumed = make(qs)
    resumed.load_state_dict(saved)
    steps(resumed, qs, grads[3:])
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.numpy(), q.numpy())

    unresumed = [nn.Parameter(m.copy()) for m in middle]
    steps(make(unresumed), unresumed, grads[3:])  # without the state the run differs
    assert not np.array_equal(unresumed[0].numpy(), ps[0].numpy())


def test_state_dict_is_a_copy_and_restores_hyper_parameters():
    p = nn.Parameter(np.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0]
    saved["state"][0]["momentum_buffer"][...] = 99.0
    assert not np.any(opt.state[p]["momentum_buffer"] == 99.0)
    saved["param_groups"][0]["lr"] = 0.5
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"] == [p]


def test_bad_state_dicts_are_rejected_and_change_nothing():
    p = nn.Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    good = opt.state_dict()
    before = opt.state_dict()

    wrong_shape = opt.state_dict()
    wrong_shape["state"][0]["exp_avg"] = np.zeros(3)
    wrong_shape["param_groups"][0]["lr"] = 7.0
    with pytest.raises(ValueError, match=r"parameter 0: 'exp_avg' has shape \(3,\)"):
        opt.load_state_dict(wrong_shape)
    two_groups = {**good, "param_groups": good["param_groups"] * 2}
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        opt.load_state_dict(two_groups)
    from_sgd = SGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.5)
    with pytest.raises(ValueError, match=r"lacks the hyper-parameter\(s\) \['amsgrad', 'betas'"):
        opt.load_state_dict(from_sgd.state_dict())
    bad_key = {**good, "state": {5: good["state"][0]}}
    with pytest.raises(ValueError, match=r"state key 5 is not a parameter index in \[0, 1\)"):
        opt.load_state_dict(bad_key)

    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0]["step"] == before["state"][0]["step"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_incomplete_state_is_refused_before_anything_changes():
    # issue 13 item 16: {0: {"step": 3}} was accepted for Adam, then step() raised KeyError
    p = nn.Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    groups = opt.state_dict()["param_groups"]
    groups[0]["lr"] = 0.5
    with pytest.raises(ValueError, match=r"state of parameter 0 lacks \['exp_avg', 'exp_avg_sq'\]"):
        opt.load_state_dict({"state": {0: {"step": 3}}, "param_groups": groups})
    assert opt.param_groups[0]["lr"] == 0.1 and not opt.state
    p.grad = np.ones(2)
    opt.step()  # still usable


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda sd: sd["state"][0].pop("exp_avg_sq"), r"lacks \['exp_avg_sq'\]"),
        (lambda sd: sd["state"][0].update(speed=np.zeros(2)), r"unknown entries \['speed'\]"),
        (lambda sd: sd["state"][0].update(exp_avg="fast"), r"'exp_avg' holds <U4 values"),
        (lambda sd: sd["state"][0].update(exp_avg=np.zeros((2, 1))), r"has shape \(2, 1\)"),
        (lambda sd: sd["state"][0].update(step=-1), r"'step' must be a step count"),
        (lambda sd: sd["state"][0].update(step=2.5), r"'step' must be a step count"),
        (lambda sd: sd["state"].update({0: [1, 2]}), r"state of parameter 0 must be a dict"),
        (lambda sd: sd["state"].update({True: {}}), r"state key True is not a parameter index"),
        (lambda sd: sd["param_groups"][0].update(lr="fast"), r"Adam: invalid learning rate 'fast'"),
        (lambda sd: sd["param_groups"][0].update(amsgrad=1), r"amsgrad must be True or False"),
        (lambda sd: sd["param_groups"][0].update(amsgrad=True), r"lacks \['max_exp_avg_sq'\]"),
        (lambda sd: sd["param_groups"][0].pop("eps"), r"lacks the hyper-parameter\(s\) \['eps'\]"),
        (lambda sd: sd["param_groups"][0].update(params=[0, 1]), r"group 0 has 2 parameters"),
        (lambda sd: sd.update(extra=1), r"expected a dict with keys 'state' and 'param_groups'"),
    ],
)  # fmt: skip
def test_every_part_of_a_state_dict_is_checked_before_loading(damage, message):
    p = nn.Parameter(np.ones(2))
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["betas"] = (0.5, 0.5)  # a change that must not be applied
    damage(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for name, value in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][name], value)


def test_loaded_state_is_cast_to_the_parameter_and_torch_style_steps_are_accepted():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = Adam([p])
    saved = {"state": {0: {"step": np.float32(3.0), "exp_avg": [0.1, 0.2], "exp_avg_sq": [1, 2]}},
             "param_groups": opt.state_dict()["param_groups"]}  # fmt: skip
    opt.load_state_dict(saved)
    state = opt.state[p]
    assert state["step"].dtype == np.int64 and int(state["step"]) == 3
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg_sq"].dtype == np.float32
    p.grad = np.zeros(2, dtype=np.float32)
    opt.step()
    assert int(state["step"]) == 4


def test_state_is_keyed_by_parameter_and_an_option_switched_on_later_gets_its_entry():
    w = nn.Parameter(np.ones(3))
    opt = Adam([w], lr=0.1)
    w.grad = np.ones(3)
    opt.step()
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    opt.param_groups[0]["amsgrad"] = True
    opt.step()
    np.testing.assert_array_equal(opt.state[w]["max_exp_avg_sq"], opt.state[w]["exp_avg_sq"])


def test_step_runs_a_closure_with_grad_enabled_and_returns_its_loss():
    w = nn.Parameter(np.array([2.0]))
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and w.item() == 1.0
