"""OpInfo records of the second phase's ops (issue 17): reductions, cumulative ops,
einsum and linear algebra, shape ops, rounding, trigonometry, PyTorch spellings and
numpy's functions on tensors. Samples are few and small (the suite has a time
budget); each record still covers 0-d inputs (where the op allows them), negative
axes and broadcasting.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np
from opinfo import (
    UNARY_SHAPES,
    OpInfo,
    Sample,
    Shape,
    _binary,
    _unary,
    away_from_zero,
    distinct,
    normal,
    per_input,
    positive,
    samples,
)

import autograd as ag


# ------------------------------------------------------------------ input domains
def uniform(lo: float, hi: float):
    """Values in ``[lo, hi]``: an op's domain (arcsin's, arccosh's...)."""

    def sample(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
        return [np.asarray(rng.uniform(lo, hi, s)) for s in shapes]

    return sample


def with_zeros(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Normal values with exact zeros at flat positions 0, n//2 and n//2 + 1: on a
    (2, 3) input, one zero in row 0, two in row 1, and columns with 2, 1 and 0 zeros."""
    out = []
    for x in normal(rng, shapes):
        flat = x.reshape(-1)
        flat[sorted({0, flat.size // 2, flat.size // 2 + 1} & set(range(flat.size)))] = 0.0
        out.append(x)
    return out


def between_jumps(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """``k/10 + [0.01, 0.04]``: at least 0.01 from every integer, half-integer and
    multiple of 0.05, where floor, ceil, trunc and round (to 0 or 1 decimals) jump."""
    return [np.asarray(rng.integers(-30, 30, s) / 10 + rng.uniform(0.01, 0.04, s)) for s in shapes]


def dividend(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """``k + [0.2, 0.4]``: divided by +-1 or +-2, at least 0.1 from an integer quotient."""
    return [np.asarray(rng.integers(-3, 3, s) + rng.uniform(0.2, 0.4, s)) for s in shapes]


def divisor(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Divisors +-1 and +-2 (see :func:`dividend`)."""
    return [np.asarray(rng.choice([-2.0, -1.0, 1.0, 2.0], s)) for s in shapes]


def distinct_magnitudes(rng: np.random.Generator, shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Random signs times magnitudes 0.2 and more, 0.1 apart across all inputs: no ties
    of ``|x|`` (the max and min of ``|x|``, and sums of them, are unique)."""
    return [
        rng.choice([-1.0, 1.0], v.shape) * (np.abs(v - v.min()) + 0.2)
        for v in distinct(rng, shapes)
    ]


# ------------------------------------------------------------------ helpers
def concatenate_scaled(x: ag.Tensor, **kwargs) -> ag.Tensor:
    """``split``'s pieces joined again, piece ``i`` scaled by ``i + 1``: each piece must
    carry its own gradient back."""
    axis = kwargs.get("axis", kwargs.get("dim", 0))
    pieces = ag.split(x, **kwargs)
    return ag.concatenate([p * float(i + 1) for i, p in enumerate(pieces)], axis=axis)


DIVISION = per_input(dividend, divisor)
REDUCED = ((4,),), ((2, 3),)

OPINFOS: tuple[OpInfo, ...] = (
    # ---------------------------------------------------------- reductions
    OpInfo(
        "var",
        ag.var,
        samples(((),), axis=[None], ddof=[0])
        + samples(*REDUCED, axis=[None, -1], ddof=[0, 1])
        + samples(((2, 3, 2),), axis=[(0, 2)], ddof=[1], keepdims=[True])
        + samples(((2, 3),), dim=[0]),  # PyTorch's spelling: unbiased
    ),
    OpInfo(
        "std",
        ag.std,
        samples(((),), axis=[None])
        + samples(*REDUCED, axis=[None, -1], ddof=[0, 1])
        + samples(((2, 3, 2),), axis=[(0, 2)], keepdims=[True])
        + samples(((2, 3),), dim=[1], keepdim=[True]),
    ),
    OpInfo(
        "prod",
        ag.prod,
        samples(((),), *REDUCED, axis=[None, 0])
        + samples(((2, 3),), axis=[(0, 1)], keepdims=[True]),
    ),
    OpInfo(
        "prod_with_zeros",
        ag.prod,
        samples(((),), *REDUCED, axis=[None, 0, -1]) + samples(((2, 3, 2),), axis=[(0, 2)]),
        sampler=with_zeros,
    ),
    OpInfo(
        "norm",
        ag.norm,
        samples(((),), ((4,),), ((2, 3),), axis=[None])
        + samples(((2, 3),), axis=[-1, (0, 1)], keepdims=[False, True])
        + samples(((2, 3, 2),), axis=[(0, 2)])
        + samples(((2, 3),), ord=[3, 1.5], axis=[1])
        + samples(((2, 3),), p=[2], dim=[0]),
        sampler=away_from_zero,
    ),
    OpInfo(
        "norm_l1_inf",
        ag.norm,
        samples(((5,),), ord=[1, math.inf, -math.inf])
        + samples(((2, 3),), ord=[-math.inf], axis=[0]),
        sampler=distinct_magnitudes,
    ),
    OpInfo(
        "norm_matrix",
        ag.norm,
        samples(((3, 4),), ord=["fro", 1, -1, math.inf, -math.inf])
        + samples(((2, 3, 4),), ord=[1], axis=[(2, 0)], keepdims=[True]),
        sampler=distinct_magnitudes,
    ),
    OpInfo(
        "max_dim",
        ag.max,
        samples(((2, 3),), dim=[1, -2], keepdim=[False, True]),
        op=lambda x, **kw: ag.max(x, **kw).values,
        sampler=distinct,
    ),
    OpInfo(
        "min_dim",
        ag.min,
        samples(((3, 2),), dim=[0]),
        op=lambda x, **kw: ag.min(x, **kw).values,
        sampler=distinct,
    ),
    # ---------------------------------------------------------- cumulative
    OpInfo(
        "cumsum",
        ag.cumsum,
        samples(((),), ((4,),), axis=[None]) + samples(((2, 3),), axis=[None, 0, -1]),
    ),
    OpInfo(
        "cumprod",
        ag.cumprod,
        samples(((),), ((4,),), axis=[None]) + samples(((2, 3),), axis=[0, -1]),
    ),
    OpInfo(
        "cumprod_with_zeros",
        ag.cumprod,
        samples(((5,),), axis=[0]) + samples(((2, 3),), axis=[None, 0, 1]),
        sampler=with_zeros,
    ),
    OpInfo(
        "cummax",
        ag.cummax,
        samples(((),), ((5,),), axis=[None]) + samples(((2, 3),), axis=[0, -1]),
        op=lambda x, **kw: ag.cummax(x, **kw).values,
        sampler=distinct,
    ),
    OpInfo(
        "cummin",
        ag.cummin,
        samples(((5,),), axis=[0]) + samples(((2, 3),), dim=[1]),
        op=lambda x, **kw: ag.cummin(x, **kw).values,
        sampler=distinct,
    ),
    # ---------------------------------------------------------- einsum, linear algebra
    OpInfo(
        "einsum",
        ag.einsum,
        tuple(
            Sample(shapes, {"subscripts": subscripts})
            for subscripts, shapes in [
                ("ij,jk->ik", ((2, 3), (3, 4))),
                ("ij,jk", ((2, 3), (3, 2))),  # implicit output
                ("ii->i", ((3, 3),)),  # the diagonal
                ("ii", ((3, 3),)),  # the trace
                ("iij->ji", ((2, 2, 3),)),
                ("ij->", ((2, 3),)),
                ("ij->i", ((2, 3),)),  # a label summed inside one operand
                ("ij->ji", ((2, 3),)),
                ("i,i->", ((3,), (3,))),
                ("i,j->ij", ((2,), (3,))),
                ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2))),
                ("...ij,...jk->...ik", ((2, 2, 3), (3, 4))),  # '...' broadcasts
                ("...i,...i", ((2, 1, 3), (4, 3))),
                ("ij,ij->ij", ((1, 3), (2, 3))),  # a length-1 axis broadcasts
                ("ij,jk,kl->il", ((2, 3), (3, 2), (2, 2))),
                (",ij->ij", ((), (2, 3))),
                (",", ((), ())),
            ]
        )
        + (Sample(((2, 3), (3, 2), (2, 2)), {"subscripts": "ij,jk,kl", "optimize": True}),),
        op=lambda *xs, subscripts, **kw: ag.einsum(subscripts, *xs, **kw),
    ),
    OpInfo("outer", ag.outer, samples(((3,), (4,)), ((2, 2), (3,)), ((), (2,)))),
    OpInfo(
        "tensordot",
        ag.tensordot,
        samples(((2, 3, 4), (3, 4, 2)), axes=[2])
        + samples(((2, 3), (3, 4)), axes=[1])
        + samples(((2, 3), (2, 4)), axes=[([0], [0])])
        + samples(((3, 2), (2, 4, 3)), axes=[((-1, 0), (0, -1))])
        + samples(((), (2,)), axes=[0]),
    ),
    OpInfo(
        "dot",
        ag.dot,
        samples(
            ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (4, 3, 2)), ((), (2, 3))
        ),
    ),
    OpInfo(
        "tril",
        ag.tril,
        samples(((3, 3),), k=[0, -1, 1])
        + samples(((2, 3, 4),), ((3,),), k=[0])
        + samples(((3, 4),), diagonal=[1]),
    ),
    OpInfo("triu", ag.triu, samples(((3, 3),), k=[0, 1]) + samples(((2, 3, 4),), k=[-1])),
    OpInfo(
        "diagonal",
        ag.diagonal,
        samples(((3, 3),), offset=[0, 1, -1])
        + samples(((2, 3, 4),), axis1=[1, -1], axis2=[0])
        + samples(((3, 4),), offset=[5]),  # beyond the matrix: empty
    ),
    OpInfo(
        "trace",
        ag.trace,
        samples(((3, 3),), ((3, 4),)) + samples(((2, 3, 4),), offset=[1], axis1=[1], axis2=[2]),
    ),
    # ---------------------------------------------------------- shape
    OpInfo(
        "split",
        ag.split,
        samples(((6,),), indices_or_sections=[3, [1, 4], [2, 2]])
        + samples(((2, 6),), indices_or_sections=[2], axis=[-1])
        + samples(((5, 2),), indices_or_sections=[2, [3, 2]], dim=[0]),  # PyTorch's: lengths
        op=concatenate_scaled,
    ),
    OpInfo(
        "flip",
        ag.flip,
        samples(((),), axis=[None]) + samples(((2, 3),), axis=[None, 0, (0, 1), -1]),
    ),
    OpInfo(
        "roll",
        ag.roll,
        samples(((),), ((5,),), shift=[2])
        + samples(((2, 3),), shift=[1, -4], axis=[1])
        + samples(((2, 3),), shift=[(1, -1)], axis=[(0, -1)])
        + samples(((2, 3),), shift=[4]),
    ),
    OpInfo(
        "tile",
        ag.tile,
        samples(((),), ((2,),), reps=[3, (2, 2)]) + samples(((2, 3),), reps=[(2, 1), (2, 1, 2)]),
    ),
    OpInfo(
        "repeat",
        ag.repeat,
        samples(((),), ((3,),), repeats=[2])
        + samples(((2, 3),), repeats=[2, np.array([1, 0, 2])], axis=[1])
        + samples(((2, 3),), repeats=[np.array([3, 1])], axis=[0]),
    ),
    OpInfo(
        "take_along_axis",
        ag.take_along_axis,
        (
            Sample(((3, 4),), {"indices": np.array([[0, 2, 2], [1, 1, 3], [3, 0, 0]]), "axis": 1}),
            Sample(((3, 2),), {"indices": np.array([[0, 1], [0, 0], [2, 2], [1, 0]]), "axis": 0}),
            Sample(((4,),), {"indices": np.array([3, 3, 0]), "axis": None}),
            Sample(((2, 3),), {"indices": np.array([[2], [0]]), "axis": -1}),
        ),
    ),
    OpInfo(
        "permute",
        ag.permute,
        samples(((2, 3, 4),), axes=[(2, 0, 1), (-1, 0, 1)]) + samples(((),), axes=[()]),
        op=lambda x, axes: ag.permute(x, *axes),
    ),
    OpInfo(
        "flatten_start_dim",
        ag.flatten,
        samples(((2, 3, 4),), start_dim=[1, -2])
        + samples(((2, 3, 4),), start_dim=[0], end_dim=[1]),
    ),
    OpInfo(
        "squeeze_dim",
        ag.squeeze,
        samples(((1, 3, 1),), dim=[(0, 1), -1, 1]),  # PyTorch's rule: length 3 stays
    ),
    _unary("clone", ag.clone),
    # ---------------------------------------------------------- elementwise
    _unary("exp2", ag.exp2),
    _unary("log2", ag.log2, positive),
    _unary("log10", ag.log10, positive),
    _unary("tan", ag.tan, uniform(-1.0, 1.0)),
    _unary("arcsin", ag.arcsin, uniform(-0.8, 0.8)),
    _unary("arccos", ag.arccos, uniform(-0.8, 0.8)),
    _unary("arctan", ag.arctan),
    _binary("arctan2", ag.arctan2, per_input(normal, away_from_zero)),
    _unary("sinh", ag.sinh),
    _unary("cosh", ag.cosh),
    _unary("arcsinh", ag.arcsinh),
    _unary("arccosh", ag.arccosh, uniform(1.2, 3.0)),
    _unary("arctanh", ag.arctanh, uniform(-0.8, 0.8)),
    _unary("floor", ag.floor, between_jumps),
    _unary("ceil", ag.ceil, between_jumps),
    _unary("trunc", ag.trunc, between_jumps),
    OpInfo("round", ag.round, samples(*UNARY_SHAPES, decimals=[0, 1]), sampler=between_jumps),
    _binary("remainder", ag.remainder, DIVISION),
    _binary("mod_operator", operator.mod, DIVISION),
    _unary("rmod_scalar", lambda x: 5.3 % x, divisor),
    _binary("floor_divide", ag.floor_divide, DIVISION),
    OpInfo(
        "clip_min_max",
        ag.clip,
        samples(((3, 4),), min=[-0.5], max=[0.5]) + samples(((),), min=[-0.5]),
        op=lambda x, **kw: ag.clamp(x, **kw),
        sampler=uniform(-1.2, 1.2),
    ),
    # ---------------------------------------------------------- numpy's functions on tensors
    _unary("numpy_exp", ag.exp, op=np.exp),
    OpInfo(
        "numpy_sum", ag.sum, samples(((2, 3),), axis=[0, None]), op=lambda x, **kw: np.sum(x, **kw)
    ),
    OpInfo(
        "numpy_concatenate",
        ag.concatenate,
        samples(((2, 3), (1, 3))),
        op=lambda *xs: np.concatenate(xs),
    ),
)
