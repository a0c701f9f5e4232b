"""Flat buffers (nn/optim/flat.py): an elementwise rule run once over a group gives the
bits of one run per parameter, and moving the arrays into the buffers cannot be seen."""

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nn.optim.flat import MAX_MEAN_SIZE

SHAPES = [(3, 4), (4,), (4, 2), (2,), ()]
STEPS = 30

CONFIGS = {
    "sgd": (SGD, {"lr": 0.1}),
    "sgd-momentum-wd": (SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    "sgd-nesterov-maximize": (
        SGD,
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True},
    ),
    "sgd-dampening": (SGD, {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    "adam": (Adam, {"lr": 0.01}),
    "adam-amsgrad-l2": (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    "adamw": (AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    "rmsprop-centered-momentum": (
        RMSprop,
        {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.01},
    ),
    "rmsprop": (RMSprop, {"lr": 0.01}),
    "adagrad": (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
}


def parameters(dtype=np.float32, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]


def gradients(params, step, seed=1):
    rng = np.random.default_rng((seed, step))
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def is_flat(params):
    """Whether the parameters' arrays are views of one buffer."""
    bases = {id(p.data.base) for p in params}
    return len(bases) == 1 and params[0].data.base is not None


def train(cls, hyper, steps=STEPS, fused=True, dtype=np.float32, between=None):
    """``steps`` steps of ``cls`` on fresh parameters; with ``fused=False`` a reference to
    every array is kept, so nothing may be moved and each step runs per parameter."""
    params = parameters(dtype)
    opt = cls(params, **hyper)
    held = []
    for k in range(steps):
        if not fused:
            held = [p.data for p in params]
        for p, g in zip(params, gradients(params, k)):
            p.grad = g
        opt.step()
        if between is not None:
            between(k, params, opt)
    del held
    return params, opt


def assert_same_bits(a, b):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.numpy().tobytes() == y.numpy().tobytes()


def assert_same_state(opt_a, opt_b):
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for key in sa:
        assert sa[key].keys() == sb[key].keys()
        for name in sa[key]:
            assert np.asarray(sa[key][name]).tobytes() == np.asarray(sb[key][name]).tobytes()


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_pass_over_the_group_gives_the_bits_of_one_pass_per_parameter(config, dtype):
    cls, hyper = CONFIGS[config]
    fused, opt = train(cls, hyper, dtype=dtype)
    apart, ref = train(cls, hyper, dtype=dtype, fused=False)
    assert is_flat(fused) and opt._flat_groups
    assert not is_flat(apart) and not ref._flat_groups
    assert_same_bits(fused, apart)
    assert_same_state(opt, ref)


def test_the_state_entries_are_views_of_the_buffers_and_state_dict_copies_them():
    params, opt = train(Adam, {"lr": 0.01}, steps=3)
    state = opt.state[params[0]]
    assert state["exp_avg"].base is opt.state[params[1]]["exp_avg"].base is not None
    assert state["step"].shape == () and int(state["step"]) == 3
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"][...] = 7.0
    assert not np.any(opt.state[params[0]]["exp_avg"] == 7.0)


def test_an_array_someone_holds_is_not_moved_and_sees_every_update():
    params = parameters()
    held = params[2].data
    opt = SGD(params, lr=0.1)
    for k in range(3):
        for p, g in zip(params, gradients(params, k)):
            p.grad = g
        opt.step()
    assert params[2].data is held and not opt._flat_groups
    start = parameters()[2].numpy()
    expected = start - np.float32(0.1) * sum(gradients(params, k)[2] for k in range(3))
    np.testing.assert_allclose(held, expected, rtol=1e-6)


def test_a_view_taken_after_the_move_sees_later_updates():
    params, opt = train(SGD, {"lr": 0.1}, steps=1)
    view = params[0].numpy()
    for p, g in zip(params, gradients(params, 5)):
        p.grad = g
    opt.step()
    assert np.shares_memory(view, params[0].data)
    assert view.tobytes() == params[0].numpy().tobytes()


def test_a_missing_gradient_steps_that_step_per_parameter_with_the_same_result():
    def run(fused):
        params = parameters()
        opt = Adam(params, lr=0.01)
        for k in range(12):
            if not fused:
                held = [p.data for p in params]  # noqa: F841 - keeps every array in place
            for i, (p, g) in enumerate(zip(params, gradients(params, k))):
                p.grad = None if (k == 5 and i == 1) else g
            opt.step()
        return params, opt

    fused, opt = run(True)
    apart, ref = run(False)
    assert_same_bits(fused, apart)
    assert_same_state(opt, ref)
    counts = [int(opt.state[p]["step"]) for p in fused]
    assert counts == [12, 11, 12, 12, 12]  # the skipped parameter counts one step fewer


@pytest.mark.parametrize("config", ["adam", "sgd-momentum-wd", "rmsprop-centered-momentum"])
def test_a_state_loaded_mid_training_is_taken_into_the_buffers(config):
    cls, hyper = CONFIGS[config]
    saved = {}

    def save_then_load(k, params, opt):
        if k == 5:
            saved["state"] = opt.state_dict()
        if k == 9:
            opt.load_state_dict(saved["state"])

    fused, opt = train(cls, hyper, between=save_then_load, steps=16)
    apart, ref = train(cls, hyper, between=save_then_load, steps=16, fused=False)
    assert_same_bits(fused, apart)
    assert_same_state(opt, ref)
    assert is_flat(fused) and opt._flat_groups
    flat_state = opt._flat_groups[0].flat_state
    for p in fused:
        assert all(opt.state[p][k].base is flat_state[k] for k in flat_state if k != "step")


def test_a_parameter_array_replaced_by_assignment_is_taken_in_or_the_group_is_let_go():
    params, opt = train(SGD, {"lr": 0.1, "momentum": 0.9}, steps=2)
    params[0].data = np.full(params[0].shape, 2.0, np.float32)  # nobody else holds it
    for p, g in zip(params, gradients(params, 2)):
        p.grad = g
    opt.step()
    assert is_flat(params) and opt._flat_groups
    held = np.full(params[1].shape, 3.0, np.float32)
    params[1].data = held  # held here: it cannot move, the group steps per parameter
    for p, g in zip(params, gradients(params, 3)):
        p.grad = g
    opt.step()
    assert params[1].data is held and not opt._flat_groups
    buf = opt.state[params[1]]["momentum_buffer"]
    np.testing.assert_allclose(held, 3.0 - np.float32(0.1) * buf, rtol=1e-6)


def test_large_mixed_or_single_parameter_groups_and_other_rules_are_not_fused():
    big = parameters(shapes=[(MAX_MEAN_SIZE + 1,), (MAX_MEAN_SIZE + 1,)])
    mixed = parameters(shapes=[(3,), (2,)])
    mixed[1].data = mixed[1].data.astype(np.float64)
    single = parameters(shapes=[(3,)])

    class Sign(nn.optim.Optimizer):  # not declared elementwise: stepped per parameter
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        def _state_names(self, group):
            return ()

        def _update(self, param, grad, state, group):
            param.sub_(np.sign(grad) * group["lr"])

    for params, cls in ((big, SGD), (mixed, SGD), (single, SGD), (parameters(), Sign)):
        opt = cls(params) if cls is Sign else cls(params, lr=0.1)
        for p in params:
            p.grad = np.ones(p.shape, p.dtype)
        opt.step()
        assert not opt._flat_groups and not is_flat(params)


def test_a_graph_that_saved_a_parameter_refuses_backward_after_a_fused_step():
    params, opt = train(SGD, {"lr": 0.1}, steps=1)
    x = ag.tensor(np.ones(4, np.float32), requires_grad=True)
    loss = (params[1] * x).sum()
    for p, g in zip(params, gradients(params, 1)):
        p.grad = g
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_an_option_switched_on_later_gets_a_flat_entry_with_the_same_bits():
    def switch(k, params, opt):
        if k == 6:
            opt.param_groups[0]["amsgrad"] = True

    fused, opt = train(Adam, {"lr": 0.01}, between=switch, steps=14)
    apart, ref = train(Adam, {"lr": 0.01}, between=switch, steps=14, fused=False)
    assert_same_bits(fused, apart)
    assert_same_state(opt, ref)
    assert "max_exp_avg_sq" in opt._flat_groups[0].flat_state
    assert (
        opt.state[fused[0]]["max_exp_avg_sq"].base
        is opt._flat_groups[0].flat_state["max_exp_avg_sq"]
    )


def test_a_compiled_training_step_replays_the_fused_update_and_keeps_no_traced_arrays():
    model = nn.MLP([3, 8, 8, 2])
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    inputs = ag.tensor(np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32))
    y = np.arange(16) % 2

    @ag.compile
    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step()
    params = list(model.parameters())
    assert step.cache_info() == (1, 2)
    assert is_flat(params) and opt._flat_groups
    traced = [s.value for s in step.program().slots if isinstance(s.value, np.ndarray)]
    assert not any(np.shares_memory(v, p.data) for v in traced for p in params)


def test_a_parameter_added_to_or_swapped_in_the_group_list_is_updated():
    params, opt = train(SGD, {"lr": 0.1}, steps=2)
    extra = nn.Parameter(np.ones(3, np.float32))
    opt.param_groups[0]["params"].append(extra)
    for p in params:
        p.grad = np.zeros(p.shape, np.float32)
    extra.grad = np.ones(3, np.float32)
    opt.step()
    np.testing.assert_array_equal(extra.numpy(), np.float32(1) - np.float32(0.1))
    swapped = nn.Parameter(np.ones(3, np.float32))
    opt.param_groups[0]["params"][-1] = swapped
    swapped.grad = np.ones(3, np.float32)
    opt.step()
    np.testing.assert_array_equal(swapped.numpy(), np.float32(1) - np.float32(0.1))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimizer_and_its_parameters_keep_training_like_the_original(how):
    import copy
    import pickle

    params, opt = train(Adam, {"lr": 0.01}, steps=3)
    if how == "deepcopy":
        params_2, opt_2 = copy.deepcopy((params, opt))
    else:
        params_2, opt_2 = pickle.loads(pickle.dumps((params, opt)))
    for k in range(3, 8):
        for ps, o in ((params, opt), (params_2, opt_2)):
            for p, g in zip(ps, gradients(ps, k)):
                p.grad = g
            o.step()
    assert_same_bits(params, params_2)
    assert is_flat(params_2) and opt_2._flat_groups
