"""OpInfo: the one list of every public differentiable function and how to sample it.

Each :class:`OpInfo` names a public callable, the argument shapes to try it on
(0-d, 1-d, n-d and broadcasting pairs), the non-differentiable arguments (axis,
keepdims, an index, a condition, labels...) and the input domain: positive for
``log``/``sqrt``, away from the kink for ``relu``/``abs``, all-distinct values for
``max``/``maximum`` (so central differences never straddle a tie). The parametrised
tests in ``test_opinfo.py`` run every record through gradcheck (float64),
second-order gradcheck, float32 preservation and broadcasting, and check that
every primitive in ``autograd.REGISTRY`` is reached by some record (PyTorch's
OpInfo lesson: a new primitive cannot land untested). A family of ops added later
keeps its records in ``opinfo_<family>.py`` beside this file (a tuple ``OPINFOS``
built with the helpers here); they are collected into :data:`OPINFOS` automatically.
"""

from __future__ import annotations

import importlib
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
from autograd import ops

Shape = tuple[int, ...]
Sampler = Callable[[np.random.Generator, Sequence[Shape]], list[np.ndarray]]


# ------------------------------------------------------------------ input domains
def normal(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Standard normal values: for ops that are smooth everywhere."""
    return [np.asarray(rng.standard_normal(s)) for s in shapes]


def positive(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Values in [0.5, 2]: the domain of log, sqrt, and of a base with a real exponent."""
    return [np.asarray(rng.uniform(0.5, 2.0, s)) for s in shapes]


def away_from_zero(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Values with 0.2 <= |x| <= 1.5: relu, abs and leaky_relu away from their kink."""
    return [np.asarray(rng.choice([-1.0, 1.0], s) * rng.uniform(0.2, 1.5, s)) for s in shapes]


def distinct(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Values at least 0.1 apart across all inputs: max/min/maximum/minimum have no ties."""
    sizes = [int(np.prod(s)) for s in shapes]
    total = sum(sizes)
    values = (rng.permutation(total) - total / 2) * 0.1 + rng.uniform(0, 0.01)
    bounds = np.cumsum([0, *sizes])
    return [values[lo:hi].reshape(s) for lo, hi, s in zip(bounds[:-1], bounds[1:], shapes)]


def probabilities(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Values in [0.1, 0.9]: probabilities away from the clamps of binary cross-entropy."""
    return [np.asarray(rng.uniform(0.1, 0.9, s)) for s in shapes]


CLIP_LO, CLIP_HI = -0.5, 0.5


def away_from_clip_bounds(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Values at least 0.1 from the clip bounds -0.5 and 0.5, on both sides of each."""
    centres = np.array([-1.2, -0.8, -0.2, 0.1, 0.3, 0.8, 1.3])
    return [np.asarray(rng.choice(centres, s) + rng.uniform(-0.1, 0.1, s)) for s in shapes]


def per_input(*samplers: Sampler) -> Sampler:
    """A sampler drawing input ``i`` from ``samplers[i]`` (e.g. a positive divisor)."""

    def sample(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
        return [s(rng, [shape])[0] for s, shape in zip(samplers, shapes)]

    return sample


# ------------------------------------------------------------------ records
@dataclass(frozen=True)
class Sample:
    """One way to call an op: the shapes of its differentiable inputs plus fixed kwargs."""

    shapes: tuple[Shape, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A short readable test id, e.g. ``(2,3)x(3,)-axis=0``."""
        shapes = "x".join(str(s).replace(" ", "") for s in self.shapes)
        params = ",".join(f"{k}={_short(v)}" for k, v in self.kwargs.items())
        return f"{shapes}-{params}" if params else shapes


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype.kind}{value.shape}".replace(" ", "")
    if isinstance(value, tuple):
        return "(" + ",".join(_short(v) for v in value) + ")"
    if isinstance(value, slice):
        return f"{value.start}:{value.stop}:{value.step}"
    return str(value).replace(" ", "")


@dataclass(frozen=True)
class OpInfo:
    """A public differentiable function and how to test it.

    ``func`` is the public callable; ``op`` (default ``func``) is called as
    ``op(*tensors, **sample.kwargs)`` when the public signature takes the
    differentiable inputs in another order or inside a list. ``broadcasts`` marks ops
    whose inputs broadcast against each other elementwise (numpy's rules).
    ``gradcheck_kwargs`` loosens tolerances where float64 cannot resolve ``eps``.
    """

    name: str
    func: Callable[..., Any]
    samples: tuple[Sample, ...]
    op: Callable[..., Any] | None = None
    sampler: Sampler = normal
    broadcasts: bool = False
    gradcheck_kwargs: dict[str, float] = field(default_factory=dict)

    def __call__(self, *tensors: Any, **kwargs: Any) -> Any:
        return (self.op or self.func)(*tensors, **kwargs)

    def inputs(self, sample: Sample, seed: int = 0) -> list[np.ndarray]:
        """Float64 inputs of the sample's shapes, drawn from this op's domain."""
        return self.sampler(np.random.default_rng(seed), sample.shapes)


def samples(*shape_tuples: tuple[Shape, ...], **grid: Sequence[Any]) -> tuple[Sample, ...]:
    """Every combination of the given input shapes with the keyword values in ``grid``."""
    keys = list(grid)
    return tuple(
        Sample(shapes, dict(zip(keys, values)))
        for shapes in shape_tuples
        for values in itertools.product(*(grid[k] for k in keys))
    )


def every_axis(ndim: int) -> list[Any]:
    """None, every single axis (positive and negative), and every tuple of >= 2 axes."""
    axes: list[Any] = [None]
    axes += list(range(ndim)) + [-1] * (ndim > 0)
    axes += [c for r in range(2, ndim + 1) for c in itertools.combinations(range(ndim), r)]
    return axes


def reduction_samples() -> tuple[Sample, ...]:
    """Every axis/keepdims combination on a 0-d, 1-d, 2-d and 3-d input.

    A 0-d input also takes ``axis=()`` and, like numpy and torch, ``axis=0`` or ``-1``.
    """
    return tuple(
        Sample((shape,), {"axis": axis, "keepdims": keepdims})
        for shape in [(), (4,), (2, 3), (2, 3, 2)]
        for axis in every_axis(len(shape)) + ([(), 0, -1] if shape == () else [])
        for keepdims in (False, True)
    )


UNARY_SHAPES = (((),), ((4,),), ((2, 3),), ((2, 1, 3),))
BINARY_SHAPES = (
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((4, 1, 3), (2, 1)),
)
# an ndarray on the left of an operator: numpy must defer to the Tensor's reflected method
ROW_SAMPLES = samples(((),), ((3,),), ((2, 3),), ((2, 1, 1),), row=[np.linspace(-1.0, 1.0, 3)])
WHERE_COND = np.array([[True, False, True], [False, False, True]])
INDEXES = (
    2,
    -1,
    slice(1, None),
    (slice(None), 1),
    (Ellipsis, slice(None, None, -2)),
    (None, 1, slice(0, 2)),
    np.array([0, 2, 0, 0, 1]),  # repeated indices: the gradient accumulates
    (np.array([1, 0, 1]), np.array([2, 2, 0])),
    np.array([True, False, True, False]),
    np.array([[True, False, True], [False, True, True], [True, True, False], [False] * 3]),
)
SOFTMAX_SAMPLES = (
    samples(((2, 3),), axis=[-1, 0, 1])
    + samples(((4,),), axis=[0])
    + samples(((2, 3, 2),), axis=[1])
    + samples(((),), axis=[-1])
)
SCATTER_SAMPLES = (
    Sample(((3,),), {"index": np.array([0, 2, 0]), "shape": (4,)}),
    Sample(((2, 2),), {"index": (slice(None), slice(1, 3)), "shape": (2, 3)}),
    Sample(((2,),), {"index": np.array([True, False, True]), "shape": (3,)}),
)

SETITEM_SAMPLES = (
    Sample(((4, 3), (3,)), {"index": 1}),
    Sample(((4, 3), ()), {"index": (slice(None), 1)}),
    Sample(((4, 3), (2, 1)), {"index": (np.array([0, 2]), slice(0, 2))}),
    Sample(((4,), ()), {"index": np.array([True, False, True, False])}),
)


def assign(x: ag.Tensor, value: ag.Tensor, index: Any) -> ag.Tensor:
    """``y = x * 1; y[index] = value``: an assignment into an op result is recorded."""
    y = x * 1.0
    y[index] = value
    return y


def _unary(name: str, func: Callable[..., Any], sampler: Sampler = normal, **kw: Any) -> OpInfo:
    return OpInfo(name, func, samples(*UNARY_SHAPES), sampler=sampler, **kw)


def _binary(name: str, func: Callable[..., Any], sampler: Sampler = normal) -> OpInfo:
    return OpInfo(name, func, samples(*BINARY_SHAPES), sampler=sampler, broadcasts=True)


def _reduction(name: str, func: Callable[..., Any], sampler: Sampler = normal) -> OpInfo:
    return OpInfo(name, func, reduction_samples(), sampler=sampler)


def _astype_round_trip(x: Any) -> Any:
    """float -> float32 -> the input's dtype: both casts are differentiable."""
    return ag.astype(ag.astype(x, np.float32), x.dtype)


OPINFOS: tuple[OpInfo, ...] = (
    # elementwise, unary
    _unary("exp", ag.exp),
    _unary("log", ag.log, positive),
    _unary("log1p", ag.log1p, positive),
    _unary("sqrt", ag.sqrt, positive),
    _unary("sin", ag.sin),
    _unary("cos", ag.cos),
    _unary("tanh", ag.tanh),
    _unary("sigmoid", ag.sigmoid),
    _unary("relu", ag.relu, away_from_zero),
    _unary("abs", ag.abs, away_from_zero),
    _unary("abs_operator", operator.abs, away_from_zero),
    _unary("negative", ag.negative),
    _unary("positive", ag.positive),
    _unary("neg_operator", operator.neg),
    OpInfo(
        "leaky_relu",
        ag.leaky_relu,
        samples(*UNARY_SHAPES, negative_slope=[0.01, 0.3]),
        sampler=away_from_zero,
    ),
    OpInfo(
        "clip",
        ag.clip,
        tuple(
            Sample((shape,), {"lo": lo, "hi": hi})
            for shape in [(), (4,), (3, 4)]
            for lo, hi in [(CLIP_LO, CLIP_HI), (None, CLIP_HI), (CLIP_LO, None)]
        )
        + samples(((3, 4),), lo=[np.full(4, CLIP_LO)], hi=[np.full((3, 1), CLIP_HI)]),
        sampler=away_from_clip_bounds,
    ),
    _unary(
        "astype",
        ag.astype,
        op=_astype_round_trip,
        gradcheck_kwargs={"eps": 1e-3, "atol": 1e-3},  # float32 rounds at ~1e-7 relative
    ),
    # elementwise, binary (broadcasting)
    _binary("add", ag.add),
    _binary("subtract", ag.subtract),
    _binary("multiply", ag.multiply),
    _binary("divide", ag.divide, per_input(normal, positive)),
    _binary("pow", ag.pow, per_input(positive, normal)),
    _binary("maximum", ag.maximum, distinct),
    _binary("minimum", ag.minimum, distinct),
    _binary("add_operator", operator.add),
    _binary("sub_operator", operator.sub),
    _binary("mul_operator", operator.mul),
    _binary("truediv_operator", operator.truediv, per_input(normal, positive)),
    _binary("pow_operator", operator.pow, per_input(positive, normal)),
    _unary("rsub_scalar", lambda x: 2.0 - x),
    _unary("rtruediv_scalar", lambda x: 2.0 / x, positive),
    _unary("rpow_scalar", lambda x: 2.0**x),
    _unary("pow_int_exponent", lambda x: x**3),
    _unary("pow_half_exponent", lambda x: x**0.5, positive),
    OpInfo("radd_ndarray", operator.add, ROW_SAMPLES, op=lambda x, row: row + x),
    OpInfo("rmul_ndarray", operator.mul, ROW_SAMPLES, op=lambda x, row: row * x),
    OpInfo(
        "where",
        ag.where,
        samples(((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 3)), ((2, 1), ())),
        op=lambda a, b, cond=WHERE_COND: ag.where(cond, a, b),
        broadcasts=True,
    ),
    # reductions: every axis/keepdims combination
    _reduction("sum", ag.sum),
    _reduction("mean", ag.mean),
    _reduction("max", ag.max, distinct),
    _reduction("min", ag.min, distinct),
    _reduction("logsumexp", ag.logsumexp),
    # linear algebra
    OpInfo(
        "matmul",
        ag.matmul,
        samples(
            ((3,), (3,)),
            ((2, 3), (3,)),
            ((3,), (3, 4)),
            ((2, 3), (3, 4)),
            ((2, 2, 3), (3, 4)),
            ((2, 3), (2, 3, 4)),
            ((2, 2, 3), (2, 3, 4)),
            ((2, 1, 2, 3), (3, 3, 2)),
            ((3,), (2, 3, 4)),
            ((2, 2, 3), (3,)),
        ),
    ),
    OpInfo(
        "linear",
        ag.linear,
        samples(
            ((4, 3), (3, 2), (2,)),
            ((3,), (3, 2), (2,)),
            ((2, 4, 3), (3, 2), (2,)),
            ((4, 3), (3, 2), ()),
            ((4, 3), (3, 2)),
            ((3,), (3, 2)),
        ),
    ),
    OpInfo("matmul_operator", operator.matmul, samples(((2, 3), (3, 4)), ((3,), (3, 2)))),
    # shape
    OpInfo(
        "reshape",
        ag.reshape,
        samples(((2, 3),), shape=[(3, 2), (-1,), (6, 1), (1, 2, 3)])
        + samples(((),), shape=[(1, 1), ()]),
    ),
    OpInfo(
        "transpose",
        ag.transpose,
        samples(((2, 3, 4),), axes=[None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)])
        + samples(((2, 3),), ((),), ((4,),), axes=[None]),
    ),
    OpInfo("swapaxes", ag.swapaxes, samples(((2, 3, 4),), axis1=[0, -1], axis2=[1, 2])),
    OpInfo(
        "broadcast_to",
        ag.broadcast_to,
        samples(((3,),), ((2, 1),), ((1, 3),), ((),), shape=[(2, 3)])
        + samples(((2, 1, 3),), shape=[(4, 2, 5, 3)]),
    ),
    OpInfo(
        "expand_dims",
        ag.expand_dims,
        samples(((2, 3),), axis=[0, -1, 1, (0, 2)]) + samples(((),), axis=[0]),
    ),
    OpInfo(
        "squeeze",
        ag.squeeze,
        samples(((1, 3, 1),), axis=[None, 0, -1, (0, 2)]) + samples(((),), axis=[None]),
    ),
    OpInfo("flatten", ag.flatten, samples(((2, 3),), ((),), ((2, 1, 2),))),
    OpInfo(
        "concatenate",
        ag.concatenate,
        samples(((2, 3), (1, 3)), axis=[0])
        + samples(((2, 3), (2, 1), (2, 2)), axis=[1, -1])
        + samples(((2,),), axis=[0]),
        op=lambda *xs, axis: ag.concatenate(list(xs), axis=axis),
    ),
    OpInfo(
        "stack",
        ag.stack,
        samples(((2, 3), (2, 3)), axis=[0, 1, -1])
        + samples(((), (), ()), axis=[0])
        + samples(((3,),), axis=[0]),
        op=lambda *xs, axis: ag.stack(xs, axis=axis),
    ),
    OpInfo(
        "getitem",
        ag.getitem,
        samples(((4, 3),), index=list(INDEXES)),
        op=lambda x, index: x[index],
    ),
    OpInfo("scatter_add", ops.scatter_add, SCATTER_SAMPLES),
    OpInfo("setitem", assign, SETITEM_SAMPLES),
    OpInfo(
        "binary_cross_entropy",
        ag.binary_cross_entropy,
        samples(*BINARY_SHAPES),
        sampler=probabilities,
        broadcasts=True,
    ),
    # neural
    OpInfo(
        "softmax",
        ag.softmax,
        SOFTMAX_SAMPLES,
    ),
    OpInfo(
        "log_softmax",
        ag.log_softmax,
        SOFTMAX_SAMPLES,
    ),
    OpInfo(
        "softmax_cross_entropy",
        ag.softmax_cross_entropy,
        samples(
            ((4, 3),),
            target=[
                np.array([0, 2, 1, 2]),
                np.eye(3)[[1, 1, 0, 2]],
                np.array([[0.2, 0.3, 0.5], [1, 0, 0], [0.1, 0.1, 0.8], [0.5, 0.5, 0]]),
            ],
            reduction=["mean", "sum", "none"],
        )
        + samples(((1, 5),), target=[np.array([3])], reduction=["mean"]),
    ),
)


#: Names of family records whose ops need n-d inputs (no 0-d sample): each family
#: module's ``NEEDS_NDIM``, if it has one.
FAMILY_NEEDS_NDIM: set[str] = set()


def _family_opinfos() -> tuple[OpInfo, ...]:
    """The ``OPINFOS`` of every ``opinfo_<family>.py`` beside this file (the records of
    op families added later: convolutions, sequence layers, ...), in file-name order."""
    records: list[OpInfo] = []
    for path in sorted(Path(__file__).parent.glob("opinfo_*.py")):
        family = importlib.import_module(path.stem)
        records += family.OPINFOS
        FAMILY_NEEDS_NDIM.update(getattr(family, "NEEDS_NDIM", ()))
    return tuple(records)


OPINFOS += _family_opinfos()

#: Every (OpInfo, Sample) pair, with readable ids, for ``pytest.mark.parametrize``.
CASES = [(info, sample) for info in OPINFOS for sample in info.samples]
CASE_IDS = [f"{info.name}-{sample.id}" for info, sample in CASES]
