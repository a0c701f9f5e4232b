"""OpInfo records of the convolution family: convolutions, pooling, padding, normalisation.

Samples are tiny (gradgradcheck differentiates every entry twice) but cover each
geometry argument: stride, padding (ints, pairs, "valid", "same"), dilation, groups,
bias or none, 1-d and 2-d. The internal adjoints (``conv_weight``, the pooling
scatters, ``pad_fold``) are the VJPs' own VJPs; they get records of their own so each is
gradchecked directly. Max pooling draws distinct values (no ties inside a window).
"""

from __future__ import annotations

import numpy as np
from opinfo import OpInfo, Sample, distinct, samples

import autograd as ag
from autograd.ops import conv  # the internal adjoints

#: Records whose ops need (N, C, ...) inputs, so they have no 0-d sample.
NEEDS_NDIM = {
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_weight",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool_scatter",
    "max_pool_scatter",
    "adaptive_avg_pool2d",
    "pad_fold",
    "batch_norm",
    "batch_norm_eval",
    "group_norm",
}

CONV2D_SAMPLES = (
    Sample(((2, 2, 4, 5), (3, 2, 3, 3), (3,)), {"padding": 1}),
    Sample(((1, 2, 5, 4), (2, 2, 3, 2), (2,)), {"stride": 2, "padding": (1, 0)}),
    Sample(((1, 2, 5, 5), (2, 2, 2, 2)), {"dilation": 2, "padding": "valid"}),
    Sample(((1, 4, 3, 4), (4, 2, 2, 2), (4,)), {"groups": 2, "padding": "same"}),
    Sample(((2, 3, 3, 3), (2, 3, 1, 1)), {"stride": (1, 2)}),
)
CONV1D_SAMPLES = (
    Sample(((2, 2, 6), (3, 2, 3), (3,)), {"padding": 1}),
    Sample(((1, 4, 7), (2, 2, 2)), {"stride": 2, "dilation": 2, "groups": 2}),
    Sample(((1, 2, 5), (2, 2, 4), (2,)), {"padding": "same"}),
)
CONV_TRANSPOSE2D_SAMPLES = (
    Sample(((1, 2, 3, 3), (2, 3, 3, 3), (3,)), {"stride": 2, "padding": 1, "output_padding": 1}),
    Sample(((2, 2, 2, 3), (2, 2, 2, 2)), {"dilation": (1, 2)}),
    # output_padding below the dilation at stride 1: rows more windows would read
    Sample(((1, 1, 3, 2), (1, 2, 2, 2)), {"dilation": 2, "output_padding": 1}),
    Sample(((1, 4, 2, 2), (4, 1, 3, 2), (2,)), {"groups": 2, "stride": (1, 2)}),
)
CONV_TRANSPOSE1D_SAMPLES = (
    Sample(((1, 2, 4), (2, 3, 3), (3,)), {"stride": 2, "padding": 1, "output_padding": 1}),
    Sample(((2, 2, 3), (2, 1, 2)), {"groups": 2, "dilation": 2}),
)
GEOMETRY = {"stride": (2, 1), "padding": ((1, 1), (0, 0)), "dilation": (1, 2), "groups": 1}
POOL_SAMPLES_2D = (
    Sample(((2, 2, 4, 4),), {"kernel_size": 2}),
    Sample(((1, 2, 5, 4),), {"kernel_size": 3, "stride": (2, 1), "padding": 1}),
    Sample(((1, 1, 4, 5),), {"kernel_size": (2, 3), "stride": 1}),
)
POOL_SAMPLES_1D = (
    Sample(((2, 2, 6),), {"kernel_size": 2}),
    Sample(((1, 2, 5),), {"kernel_size": 3, "stride": 2, "padding": 1}),
)
POOL_GEOMETRY = {"kernel_size": (3, 2), "stride": (2, 1), "padding": ((1, 1), (0, 0))}
# (1, 1, 2, 3) window offsets, none in the padding (as max pooling's never are)
MAX_POOL_INDEX = np.array([[[[2, 5, 3], [0, 1, 4]]]], dtype=np.int8)


OPINFOS: tuple[OpInfo, ...] = (
    OpInfo("conv2d", ag.conv2d, CONV2D_SAMPLES),
    OpInfo("conv1d", ag.conv1d, CONV1D_SAMPLES),
    OpInfo("conv_transpose2d", ag.conv_transpose2d, CONV_TRANSPOSE2D_SAMPLES),
    OpInfo("conv_transpose1d", ag.conv_transpose1d, CONV_TRANSPOSE1D_SAMPLES),
    OpInfo(
        "conv_weight",
        conv.conv_weight,
        samples(((1, 2, 5, 4), (1, 3, 3, 2))),
        op=lambda x, g: conv.conv_weight(x, g, kernel_size=(2, 2), **GEOMETRY),
    ),
    OpInfo("max_pool2d", ag.max_pool2d, POOL_SAMPLES_2D, sampler=distinct),
    OpInfo(
        "max_pool1d",
        ag.max_pool1d,
        POOL_SAMPLES_1D + samples(((1, 1, 7),), kernel_size=[2], dilation=[2]),
        sampler=distinct,
    ),
    OpInfo(
        "avg_pool2d",
        ag.avg_pool2d,
        POOL_SAMPLES_2D
        + samples(((1, 1, 4, 4),), kernel_size=[3], padding=[1], count_include_pad=[False]),
    ),
    OpInfo("avg_pool1d", ag.avg_pool1d, POOL_SAMPLES_1D),
    OpInfo(
        "avg_pool_scatter",
        conv.avg_pool_scatter,
        samples(((1, 2, 2, 2),), count_include_pad=[True, False]),
        op=lambda g, count_include_pad: conv.avg_pool_scatter(
            g, shape=(4, 3), count_include_pad=count_include_pad, **POOL_GEOMETRY
        ),
    ),
    OpInfo(
        "max_pool_scatter",
        conv.max_pool_scatter,
        samples(((1, 1, 2, 3),)),
        op=lambda g: conv.max_pool_scatter(
            g, index=MAX_POOL_INDEX, shape=(4, 4), dilation=(1, 1), **POOL_GEOMETRY
        ),
    ),
    OpInfo(
        "adaptive_avg_pool2d",
        ag.adaptive_avg_pool2d,
        samples(((1, 2, 5, 4),), output_size=[(2, 3), 1, (None, 2)])
        + samples(((2, 4, 4),), output_size=[2]),
    ),
    OpInfo(
        "pad",
        ag.pad,
        samples(((2, 3),), pad_width=[1, ((0, 1), (2, 0))], mode=["constant", "reflect", "edge"])
        + samples(((2, 3),), pad_width=[((1, 1), (1, 2))], constant_values=[1.5])
        + samples(((),), pad_width=[0])
        + samples(((1, 2, 3, 3),), pad_width=[((0, 0), (0, 0), (2, 2), (1, 0))], mode=["reflect"]),
    ),
    OpInfo(
        "pad_fold",
        conv.pad_fold,
        samples(((4, 6),), mode=["reflect", "edge"]),
        op=lambda g, mode: conv.pad_fold(g, pad_width=((1, 0), (2, 1)), mode=mode),
    ),
    OpInfo(
        "batch_norm",
        ag.batch_norm,
        samples(((3, 2, 2, 2), (2,), (2,)), ((4, 3), (3,), (3,)), ((3, 2, 3),)),
        op=lambda x, w=None, b=None: ag.batch_norm(x, None, None, w, b, training=True),
    ),
    OpInfo(
        "batch_norm_eval",
        ag.batch_norm,
        samples(((3, 2, 2), (2,), (2,))),
        op=lambda x, w, b: ag.batch_norm(x, np.array([0.3, -1.0]), np.array([0.5, 2.0]), w, b),
    ),
    OpInfo(
        "group_norm",
        ag.group_norm,
        samples(((2, 4, 3), (4,), (4,)), ((2, 6, 2, 2),), num_groups=[2]),
        op=lambda x, w=None, b=None, num_groups=2: ag.group_norm(x, num_groups, w, b),
    ),
)
