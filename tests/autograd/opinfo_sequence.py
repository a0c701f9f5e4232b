"""OpInfo records of the sequence-model families: special functions, activations,
layer norm, embedding, the recurrent scans and attention (small samples: the suite
has a time budget)."""

from __future__ import annotations

from opinfo import UNARY_SHAPES, OpInfo, away_from_zero, samples

import autograd as ag

OPINFOS: tuple[OpInfo, ...] = (
    # special functions and activations
    OpInfo("erf", ag.erf, samples(*UNARY_SHAPES)),
    OpInfo("gelu", ag.gelu, samples(*UNARY_SHAPES, approximate=["none", "tanh"])),
    OpInfo("silu", ag.silu, samples(*UNARY_SHAPES)),
    OpInfo(
        "softplus",
        ag.softplus,
        samples(*UNARY_SHAPES, beta=[1.0]) + samples(((2, 3),), beta=[2.0, -1.0], threshold=[1.0]),
    ),
    OpInfo(
        "elu",
        ag.elu,
        samples(*UNARY_SHAPES) + samples(((2, 3),), alpha=[0.5]),
        sampler=away_from_zero,
    ),
    OpInfo("logsigmoid", ag.logsigmoid, samples(*UNARY_SHAPES)),
)
