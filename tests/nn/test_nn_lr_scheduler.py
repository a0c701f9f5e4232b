"""Learning-rate schedulers: closed forms, PyTorch's rates bit for bit, state dicts."""

import math
import warnings

import numpy as np
import pytest

import nn
from nn.optim import SGD, Adagrad, Adam, RMSprop
from nn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    OneCycleLR,
    StepLR,
)


def optimizer(cls=SGD, groups=1, **hyper):
    params = [nn.Parameter(np.zeros(2)) for _ in range(groups)]
    for p in params:
        p.grad = np.zeros(2)
    hyper = {"lr": 0.1, **hyper}
    if groups == 1:
        return cls(params, **hyper)
    return cls([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **hyper)


def rates(scheduler, steps):
    """The rate of group 0 at epochs 0 .. steps (each after an optimizer step)."""
    out = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
    return out


# ---------------------------------------------------------------------- closed forms
def test_step_lr_decays_every_step_size_epochs():
    got = rates(StepLR(optimizer(), step_size=3, gamma=0.5), 7)
    assert got == pytest.approx([0.1 * 0.5 ** (e // 3) for e in range(8)], rel=1e-15)


def test_exponential_lambda_and_cosine_closed_forms():
    assert rates(ExponentialLR(optimizer(), gamma=0.9), 5) == pytest.approx(
        [0.1 * 0.9**e for e in range(6)], rel=1e-14
    )
    assert rates(LambdaLR(optimizer(), lambda e: 1 / (e + 1)), 4) == pytest.approx(
        [0.1 / (e + 1) for e in range(5)], rel=1e-15
    )
    got = rates(CosineAnnealingLR(optimizer(), T_max=10, eta_min=0.01), 20)
    closed = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(21)]
    assert got == pytest.approx(closed, rel=1e-12)  # and past T_max it rises again
    assert got[10] == pytest.approx(0.01) and got[20] == pytest.approx(0.1)


def test_one_cycle_defaults_follow_the_1cycle_policy():
    opt = optimizer(SGD, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=100)
    group = opt.param_groups[0]
    assert group["initial_lr"] == 1.0 / 25 and group["min_lr"] == 1.0 / 25 / 1e4
    lrs, momenta = [scheduler.get_last_lr()[0]], [group["momentum"]]
    for _ in range(99):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(group["momentum"])
    assert lrs[0] == pytest.approx(0.04) and lrs[29] == pytest.approx(1.0)  # pct_start 0.3
    assert lrs[-1] == pytest.approx(0.04 / 1e4) and max(lrs) == lrs[29]
    assert momenta[0] == pytest.approx(0.95) and momenta[29] == pytest.approx(0.85)
    assert momenta[-1] == pytest.approx(0.95)
    opt.step()
    scheduler.step()  # step 100 is the last allowed
    with pytest.raises(ValueError, match="Tried to step 101 times.*total steps is 100"):
        scheduler.step()


def test_one_cycle_cycles_adams_beta1():
    opt = optimizer(Adam, betas=(0.9, 0.99))
    OneCycleLR(opt, max_lr=0.01, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)


# ---------------------------------------------------------------------- against PyTorch
def torch_pair(torch, cls_name, groups, opt_cls, opt_kwargs, sched_kwargs):
    ours_opt = optimizer(getattr(nn.optim, opt_cls), groups, **opt_kwargs)
    params = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
    for p in params:
        p.grad = torch.zeros(2)
    torch_opt_cls = getattr(torch.optim, opt_cls)
    hyper = {"lr": 0.1, **opt_kwargs}
    if groups == 1:
        theirs_opt = torch_opt_cls(params, **hyper)
    else:
        theirs_opt = torch_opt_cls(
            [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **hyper
        )
    ours = getattr(nn.optim.lr_scheduler, cls_name)(ours_opt, **sched_kwargs)
    theirs = getattr(torch.optim.lr_scheduler, cls_name)(theirs_opt, **sched_kwargs)
    return ours, theirs


SCHEDULES = [
    ("StepLR", "SGD", {}, {"step_size": 7, "gamma": 0.3}),
    ("LambdaLR", "SGD", {}, {"lr_lambda": lambda e: 0.97**e + 0.01 * e}),
    ("ExponentialLR", "Adam", {}, {"gamma": 0.93}),
    ("CosineAnnealingLR", "SGD", {}, {"T_max": 13, "eta_min": 0.002}),
    ("CosineAnnealingLR", "RMSprop", {}, {"T_max": 7}),
    ("OneCycleLR", "SGD", {"momentum": 0.9}, {"max_lr": 0.5, "total_steps": 60}),
    ("OneCycleLR", "Adam", {}, {"max_lr": [0.3, 0.6], "total_steps": 60,
                                "anneal_strategy": "linear", "three_phase": True}),
    ("OneCycleLR", "RMSprop", {"momentum": 0.5}, {"max_lr": 1.0, "epochs": 6,
                                                   "steps_per_epoch": 10, "pct_start": 0.25,
                                                   "div_factor": 10.0,
                                                   "final_div_factor": 100.0}),
    ("OneCycleLR", "Adagrad", {}, {"max_lr": 0.2, "total_steps": 60, "cycle_momentum": False}),
]  # fmt: skip


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("name, opt_cls, opt_kwargs, sched_kwargs", SCHEDULES)
def test_sixty_epochs_equal_torch_bit_for_bit(name, opt_cls, opt_kwargs, sched_kwargs, groups):
    torch = pytest.importorskip("torch")
    if groups == 1 and isinstance(sched_kwargs.get("max_lr"), list):
        sched_kwargs = {**sched_kwargs, "max_lr": sched_kwargs["max_lr"][0]}
    ours, theirs = torch_pair(torch, name, groups, opt_cls, opt_kwargs, sched_kwargs)
    for _ in range(60):
        assert ours.get_last_lr() == theirs.get_last_lr()
        for mine, their in zip(ours.optimizer.param_groups, theirs.optimizer.param_groups):
            for key in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr"):
                if key in their:
                    assert mine[key] == (tuple(their[key]) if key == "betas" else their[key])
        assert ours.last_epoch == theirs.last_epoch
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()


# ---------------------------------------------------------------------- mechanics
def test_state_dict_round_trip_resumes_the_schedule():
    opt = optimizer(SGD, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=20)
    rates(scheduler, 8)
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    rest = rates(scheduler, 6)

    opt2 = optimizer(SGD, momentum=0.9)
    scheduler2 = OneCycleLR(opt2, max_lr=1.0, total_steps=20)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved)
    assert scheduler2.last_epoch == 8 and rates(scheduler2, 6) == rest
    with pytest.raises(ValueError, match="expected the keys"):
        scheduler2.load_state_dict(StepLR(optimizer(), 2).state_dict())


def test_lambda_lr_saves_callable_objects_not_functions():
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    opt = optimizer(groups=2)
    scheduler = LambdaLR(opt, [Warmup(4), lambda e: 0.5])
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"epochs": 4}, None]
    other = LambdaLR(optimizer(groups=2), [Warmup(10), lambda e: 0.5])
    other.load_state_dict(saved)
    assert other.lr_lambdas[0].epochs == 4 and callable(other.lr_lambdas[1])


def test_resuming_needs_initial_lr_and_warnings_follow_pytorch():
    with pytest.raises(KeyError, match="'initial_lr' is not specified in param_groups\\[0\\]"):
        StepLR(optimizer(), step_size=2, last_epoch=3)
    scheduler = StepLR(optimizer(), step_size=2)
    with pytest.warns(UserWarning, match="lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)"):
        scheduler.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        scheduler.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rates(StepLR(optimizer(), step_size=2), 3)  # the right order: no warning


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected an nn.optim optimizer"):
        StepLR(object(), 2)
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        StepLR(optimizer(), 0)
    with pytest.raises(ValueError, match="T_max must be a positive int"):
        CosineAnnealingLR(optimizer(), T_max=True)
    with pytest.raises(ValueError, match="either total_steps OR"):
        OneCycleLR(optimizer(), max_lr=1.0)
    with pytest.raises(ValueError, match="momentum or beta1.*cycle_momentum=False"):
        OneCycleLR(optimizer(Adagrad), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        OneCycleLR(optimizer(groups=2), max_lr=[1.0], total_steps=10)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        OneCycleLR(optimizer(), max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(TypeError, match="lr_lambda must be callable"):
        LambdaLR(optimizer(), 0.5)


def test_a_scheduler_and_an_optimizer_checkpoint_in_either_order():
    # PyTorch's advice: build the scheduler, then load the optimizer's state (which holds
    # initial_lr); loading into an optimizer without a scheduler keeps initial_lr too
    opt = optimizer(RMSprop)
    StepLR(opt, step_size=2)
    saved = opt.state_dict()
    fresh = optimizer(RMSprop)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["initial_lr"] == 0.1
    assert StepLR(fresh, step_size=2, last_epoch=0).base_lrs == [0.1]
