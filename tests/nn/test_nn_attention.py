"""Attention and the transformer encoder: scaled dot-product attention against its formula,
MultiheadAttention's and TransformerEncoderLayer's parameters, masks, return values and
errors, and PyTorch's outputs and gradients with copied weights when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

RNG = np.random.default_rng(0)
LINEAR_WEIGHTS = ("out_proj.weight", "linear1.weight", "linear2.weight")  # ours are (in, out)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _torch_state(torch, module: nn.Module) -> dict:
    """Our state dict in PyTorch's layout: Linear weights transposed."""
    return {
        k: torch.tensor(v.T.copy() if k.endswith(LINEAR_WEIGHTS) else v)
        for k, v in module.state_dict().items()
    }


# ------------------------------------------------------------------ the fused primitive
def test_attention_equals_its_formula_with_a_boolean_mask():
    q, k, v = (
        RNG.standard_normal((2, 3, 4)),
        RNG.standard_normal((2, 5, 4)),
        RNG.standard_normal((2, 5, 2)),
    )
    mask = RNG.random((3, 5)) > 0.3
    mask[:, 0] = True
    out = nn.F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = q @ k.swapaxes(-1, -2) / 2 + np.where(mask, 0, -np.inf)
    np.testing.assert_allclose(out.numpy(), _softmax(scores) @ v, rtol=1e-13)


def test_causal_attention_sees_only_earlier_keys_and_a_fully_masked_row_gives_zeros():
    q = ag.tensor(RNG.standard_normal((4, 2)), requires_grad=True)
    v = RNG.standard_normal((4, 3))
    out = ag.scaled_dot_product_attention(q, q, v, is_causal=True)
    np.testing.assert_allclose(out.numpy()[0], v[0], rtol=1e-14)  # the first query sees itself
    blocked = np.ones((4, 4), bool)
    blocked[2] = False
    masked = ag.scaled_dot_product_attention(q, q, v, attn_mask=blocked)
    np.testing.assert_array_equal(masked.numpy()[2], 0)
    masked.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()


def test_attention_dropout_is_reproducible_from_rng_and_unbiased():
    q, k, v = (RNG.standard_normal((64, 8, 4)) for _ in range(3))
    a = ag.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=1).numpy()
    b = ag.scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=1).numpy()
    np.testing.assert_array_equal(a, b)
    plain = ag.scaled_dot_product_attention(q, k, v).numpy()
    assert not np.allclose(a, plain)
    assert abs((a - plain).mean()) < 0.05  # inverted dropout keeps the expectation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"attn_mask": np.ones((3, 4), bool)}, r"mask of shape \(3, 4\) does not broadcast"),
        ({"dropout_p": 1.0}, r"dropout_p must be in \[0, 1\)"),
    ],
)
def test_attention_errors_name_the_function_and_shapes(kwargs, match):
    q = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=match):
        ag.scaled_dot_product_attention(q, np.zeros((2, 5, 4)), np.zeros((2, 5, 1)), **kwargs)
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\), key \(2, 5, 3\)"):
        ag.scaled_dot_product_attention(q, np.zeros((2, 5, 3)), np.zeros((2, 5, 1)))


# ------------------------------------------------------------------ MultiheadAttention
def test_multihead_attention_parameters_init_and_weights():
    mha = nn.MultiheadAttention(8, 2, rng=0)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (24, 8)),
        ("in_proj_bias", (24,)),
        ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,)),
    ]
    assert np.abs(mha.in_proj_weight.numpy()).max() <= np.sqrt(6 / 32)  # Xavier-uniform
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    x = RNG.standard_normal((5, 3, 8)).astype(np.float32)
    out, weights = mha(x, x, x)
    assert out.shape == (5, 3, 8) and weights.shape == (3, 5, 5) and out.dtype == np.float32
    np.testing.assert_allclose(weights.numpy().sum(-1), 1, rtol=1e-6)
    _, per_head = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(per_head.numpy().mean(1), weights.numpy(), rtol=1e-6)
    assert mha(x, x, x, need_weights=False)[1] is None
    separate = nn.MultiheadAttention(8, 4, kdim=3, vdim=5)
    assert [n for n, _ in separate.named_parameters()][:3] == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
    ]


def test_multihead_attention_key_padding_mask_ignores_padded_keys():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64, rng=0)
    x = RNG.standard_normal((1, 3, 4))
    padded = np.concatenate([x, RNG.standard_normal((1, 2, 4))], axis=1)
    pad = np.array([[False, False, False, True, True]])
    full, _ = mha(x, x, x)
    masked, weights = mha(x, padded, padded, key_padding_mask=pad)
    np.testing.assert_allclose(masked.numpy(), full.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(weights.numpy()[0, :, 3:], 0)


X31 = np.zeros((3, 1, 4))
BAD_MHA = [
    (lambda: nn.MultiheadAttention(6, 4), "embed_dim \\(6\\) must be a positive multiple"),
    (lambda: nn.MultiheadAttention(4, 2)(*[np.zeros((3, 1, 5))] * 3), r"query must be \(L, N, 4"),
    (lambda: nn.MultiheadAttention(4, 2)(np.zeros((3, 2, 4)), X31, X31), "must share the batch"),
    (
        lambda: nn.MultiheadAttention(4, 2)(X31, X31, X31, attn_mask=np.zeros((2, 3), bool)),
        r"attn_mask must have shape \(3, 3\)",
    ),
    (
        lambda: nn.MultiheadAttention(4, 2)(X31, X31, X31, key_padding_mask=np.zeros((3, 1))),
        r"key_padding_mask must have shape \(1, 3\)",
    ),
    (
        lambda: nn.MultiheadAttention(4, 2)(X31, X31, X31, is_causal=True),
        "need attn_mask if specifying the is_causal",
    ),
    (lambda: nn.TransformerEncoderLayer(4, 2)(np.zeros((3, 1, 5))), r"src must be \(S, N, 4\)"),
    (lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh"), "activation must be one of"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), 0), "num_layers must be a"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), True), "a bool is not a"),
]


@pytest.mark.parametrize(("call", "match"), BAD_MHA)
def test_attention_layers_bad_input_raises_naming_the_layer_and_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


MHA_CASES = [
    {},
    {"batch_first": True},
    {"need_weights": False},
    {"average_attn_weights": False},
    {"cross": True},
    {"cross": True, "kdim": 6},
    {"unbatched": True},
    {"masks": "bool"},
    {"masks": "bool", "need_weights": False},
    {"masks": "float"},
    {"masks": "causal", "need_weights": False},
    {"masks": "bool", "unbatched": True},
]


@pytest.mark.parametrize(
    "case", MHA_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "plain"
)
def test_multihead_attention_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    case = dict(case)
    e, heads, length, source, n = 8, 2, 4, 5, 3
    cross, unbatched, masks = (
        case.pop("cross", False),
        case.pop("unbatched", False),
        case.pop("masks", None),
    )
    kdim, batch_first = case.pop("kdim", None), case.pop("batch_first", False)
    ours = nn.MultiheadAttention(
        e, heads, batch_first=batch_first, kdim=kdim, vdim=kdim, dtype=np.float64, rng=0
    )
    theirs = torch.nn.MultiheadAttention(
        e, heads, batch_first=batch_first, kdim=kdim, vdim=kdim
    ).double()
    theirs.load_state_dict(_torch_state(torch, ours))
    source = source if cross else length

    def shape(steps: int, features: int) -> tuple[int, ...]:
        return (
            (steps, features)
            if unbatched
            else (n, steps, features)
            if batch_first
            else (steps, n, features)
        )

    arrays = [RNG.standard_normal(shape(length, e))]
    if cross:
        arrays += [RNG.standard_normal(shape(source, kdim or e)) for _ in range(2)]
    extra = {}
    if masks == "bool":  # every query keeps key 0
        attn = RNG.random((length, source)) > 0.7
        attn[:, 0] = False
        padding = RNG.random((source,) if unbatched else (n, source)) > 0.8
        padding[..., 0] = False
        extra = {"attn_mask": attn, "key_padding_mask": padding}
    elif masks == "float":
        extra = {
            "attn_mask": RNG.standard_normal((heads if unbatched else n * heads, length, source))
        }
    elif masks == "causal":
        extra = {"attn_mask": np.triu(np.ones((length, length), bool), 1), "is_causal": True}
    t_extra = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
    ins = [ag.tensor(a, requires_grad=True) for a in arrays]
    t_ins = [torch.tensor(a, requires_grad=True) for a in arrays]
    args, t_args = (ins * 3, t_ins * 3) if not cross else (ins, t_ins)
    out, weights = ours(*args, **case, **extra)
    t_out, t_weights = theirs(*t_args, **case, **t_extra)
    g = RNG.standard_normal(out.shape)
    loss, t_loss = (out * g).sum(), (t_out * torch.tensor(g)).sum()
    if weights is not None:
        w = RNG.standard_normal(weights.shape)
        loss, t_loss = loss + (weights * w).sum(), t_loss + (t_weights * torch.tensor(w)).sum()
    else:
        assert t_weights is None
    loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-13)
    for a, t_a in zip(ins, t_ins):
        np.testing.assert_allclose(a.grad.numpy(), t_a.grad.numpy(), rtol=1e-10, atol=1e-13)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        grad = p.grad.numpy().T if name.endswith(LINEAR_WEIGHTS) else p.grad.numpy()
        np.testing.assert_allclose(grad, t_params[name].grad.numpy(), rtol=1e-10, atol=1e-13)


# ------------------------------------------------------------------ the transformer encoder
def test_encoder_layer_submodules_and_state_dict_are_pytorchs():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    assert [n for n, _ in layer.named_modules()] == [
        "", "self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2",
        "norm1", "norm2", "dropout1", "dropout2",
    ]  # fmt: skip
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
    ]  # fmt: skip


def test_encoder_layers_are_deep_copies_sharing_the_random_generator():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.5, rng=0)
    encoder = nn.TransformerEncoder(layer, 2)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())
    assert first.dropout.rng is second.dropout.rng is layer.dropout.rng
    assert [n for n, _ in encoder.named_parameters()][0] == "layers.0.self_attn.in_proj_weight"


def test_encoder_layer_dropout_only_while_training():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.3, dtype=np.float64, rng=0)
    x = RNG.standard_normal((3, 2, 4))
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_pytorch(norm_first, activation):
    torch = pytest.importorskip("torch")
    options = {"dropout": 0.0, "activation": activation, "norm_first": norm_first}
    ours = nn.TransformerEncoderLayer(
        8, 2, 16, **options, batch_first=True, dtype=np.float64, rng=0
    )
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, **options, batch_first=True).double()
    theirs.load_state_dict(_torch_state(torch, ours))
    _compare_encoders(torch, ours, theirs, (3, 5, 8))


def test_encoder_stack_with_final_norm_matches_pytorch():
    torch = pytest.importorskip("torch")
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, norm_first=True, dtype=np.float64, rng=0
    )
    ours = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=np.float64))
    with ag.no_grad():  # make the copies differ
        for p in ours.parameters():
            p.add_(RNG.standard_normal(p.shape) * 0.1)
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    theirs = torch.nn.TransformerEncoder(
        t_layer, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False
    ).double()
    theirs.load_state_dict(_torch_state(torch, ours))
    _compare_encoders(torch, ours, theirs, (5, 3, 8))


def _compare_encoders(torch, ours, theirs, shape):
    x = RNG.standard_normal(shape)
    steps = shape[1] if ours.__class__ is nn.TransformerEncoderLayer else shape[0]
    mask = np.triu(np.ones((steps, steps), bool), 1)
    xs, t_xs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = ours(xs, mask), theirs(t_xs, torch.tensor(mask))
    g = RNG.standard_normal(out.shape)
    (out * g).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(xs.grad.numpy(), t_xs.grad.numpy(), rtol=1e-9, atol=1e-12)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        grad = p.grad.numpy().T if name.endswith(LINEAR_WEIGHTS) else p.grad.numpy()
        np.testing.assert_allclose(grad, t_params[name].grad.numpy(), rtol=1e-9, atol=1e-12)
