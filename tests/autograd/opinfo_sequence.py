"""OpInfo records of the sequence-model families: special functions, activations,
layer norm, embedding, the recurrent scans and attention (small samples: the suite
has a time budget)."""

from __future__ import annotations

import numpy as np
from opinfo import UNARY_SHAPES, OpInfo, away_from_zero, samples

import autograd as ag


def _layer_norm(x, weight=None, bias=None, normalized_shape=(-1,)):
    """``layer_norm`` over ``normalized_shape`` (``(-1,)``: the last axis of ``x``)."""
    shape = x.shape[-1:] if normalized_shape == (-1,) else normalized_shape
    return ag.layer_norm(x, shape, weight, bias, eps=1e-3)


MASK = np.array([[True, False, True, True], [False, False, True, True], [True] * 4])
FULLY_MASKED = np.array([[True, False, True, True], [False] * 4, [True] * 4])


def _attention_with_float_mask(q, k, v, mask):
    """Attention with a differentiable additive mask."""
    return ag.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def _embedding(weight, indices, padding_idx=None):
    return ag.embedding(indices, weight, padding_idx)


T, B, H = 3, 2, 2  # the recurrences' samples: sequence length, batch, hidden size


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
    # layer norm: with and without the affine parameters, over one or two trailing axes
    OpInfo(
        "layer_norm",
        ag.layer_norm,
        samples(((2, 3), (3,), (3,)), ((4,), (4,), (4,)), normalized_shape=[(-1,)])
        + samples(((2, 3, 4), (3, 4), (3, 4)), normalized_shape=[(3, 4)])
        + samples(((2, 3),), ((3, 1, 2),), normalized_shape=[(-1,)]),
        op=_layer_norm,
    ),
    # embedding: repeated indices accumulate (the padding row, whose gradient is zero
    # on purpose, is not looked up here: tests/nn/test_nn_embedding_layer_norm.py checks it)
    OpInfo(
        "embedding",
        ag.embedding,
        samples(((5, 3),), indices=[np.array([4, 0, 4]), np.array([[1, 1], [3, 0]]), np.array(2)])
        + samples(((5, 3),), indices=[np.array([[4, 0], [4, 3]])], padding_idx=[1, -4]),
        op=_embedding,
    ),
    # the fused cross-entropy beyond (m, k) logits and plain labels
    OpInfo(
        "softmax_cross_entropy_extended",
        ag.softmax_cross_entropy,
        samples(
            ((2, 3, 2),),
            target=[np.array([[0, 2], [-100, 1]]), np.array([[1, 1], [2, 0]])],
            reduction=["mean", "none"],
            label_smoothing=[0.0, 0.2],
        )
        + samples(((4, 3),), target=[np.array([0, 1, 1, 2])], ignore_index=[1], reduction=["sum"])
        + samples(((3,),), target=[np.array(2)], label_smoothing=[0.1])
        + samples(
            ((2, 3),), target=[np.array([[0.2, 0.3, 0.5], [1, 0, 0]])], label_smoothing=[0.3]
        ),
    ),
    # the recurrences, forward and reverse
    OpInfo(
        "rnn_scan",
        ag.rnn_scan,
        samples(((T, B, H), (H, H), (B, H)), reverse=[False, True], nonlinearity=["tanh"])
        + samples(((T, B, H), (H, H), (B, H)), nonlinearity=["relu"]),
        sampler=away_from_zero,
    ),
    OpInfo(
        "lstm_scan",
        ag.lstm_scan,
        samples(((T, B, 4 * H), (4 * H, H), (B, H), (B, H)), reverse=[False, True]),
    ),
    OpInfo(
        "gru_scan",
        ag.gru_scan,
        samples(((T, B, 3 * H), (3 * H, H), (3 * H,), (B, H)), reverse=[False, True]),
    ),
    # attention: masks (boolean, causal, a fully masked row), dropout, broadcast batches
    OpInfo(
        "scaled_dot_product_attention",
        ag.scaled_dot_product_attention,
        samples(((2, 3, 2), (2, 4, 2), (2, 4, 3)), attn_mask=[None, MASK, FULLY_MASKED])
        + samples(((3, 2), (3, 2), (3, 1)), is_causal=[True], scale=[0.7])
        + samples(((2, 1, 3, 2), (3, 4, 2), (4, 2)), dropout_p=[0.4], rng=[5]),
    ),
    OpInfo(
        "scaled_dot_product_attention_float_mask",
        ag.scaled_dot_product_attention,
        samples(((2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4))),
        op=_attention_with_float_mask,
    ),
)
