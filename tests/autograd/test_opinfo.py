"""Every public differentiable function, from the OpInfo list, through the same checks.

gradcheck in float64, second-order gradcheck through ``create_graph``, float32 in
-> float32 out with float32 gradients, and gradients of broadcast inputs summed
back to their shapes. The first tests guard the list itself: every registered
primitive and every public differentiable function must appear in it.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from opinfo import CASE_IDS, CASES, FAMILY_NEEDS_NDIM, OPINFOS, OpInfo, Sample

import autograd as ag
from autograd import node
from autograd.node import Node

#: Public functions of ``autograd.ops`` that return non-differentiable results.
NON_DIFFERENTIABLE = {
    "sign",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "argmax",
    "argmin",
    "any",
    "all",
    "isfinite",
    "isnan",
    "isinf",
    "numel",
}


def leaves(arrays: list[np.ndarray], dtype: type = np.float64) -> list[ag.Tensor]:
    """Fresh leaves requiring grad, one per array, cast to ``dtype``."""
    return [ag.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]


def projection(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """A fixed random cotangent: exercises every output element's VJP."""
    return np.random.default_rng(7).standard_normal(shape).astype(dtype)


def call(info: OpInfo, sample: Sample, tensors: list[ag.Tensor], dtype: type = np.float64):
    """Run the op on ``tensors``; float constants in the kwargs are cast to ``dtype`` too."""
    kwargs = {
        k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in sample.kwargs.items()
    }
    return info(*tensors, **kwargs)


def backward_grads(info: OpInfo, sample: Sample, dtype: type = np.float64):
    """``(output, [grad of each input])`` for the fixed projection of the output."""
    tensors = leaves(info.inputs(sample), dtype)
    out = call(info, sample, tensors, dtype)
    out.backward(projection(out.shape, dtype))
    return out, [t.grad for t in tensors]


def primitives_in_graph(out: ag.Tensor) -> set[str]:
    """Names of the primitives of every node that ``out`` was computed from."""
    names, stack, seen = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if type(node) is not Node or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.prim.name)
        stack.extend(node.parents)
    return names


def covered_primitives() -> set[str]:
    """Names of the primitives recorded when every OpInfo sample runs."""
    covered: set[str] = set()
    for info, sample in CASES:
        out = call(info, sample, leaves(info.inputs(sample)))
        covered |= primitives_in_graph(out)
    return covered


def test_every_registered_primitive_is_reached_by_an_opinfo():
    missing = sorted(set(ag.REGISTRY) - covered_primitives())
    assert missing == [], f"primitives without an OpInfo in tests/autograd/opinfo.py: {missing}"


def test_every_public_differentiable_function_has_an_opinfo():
    public = {
        name
        for name in ag.__all__
        if inspect.isfunction(getattr(ag, name))
        and getattr(ag, name).__module__.startswith("autograd.ops.")
    }
    assert {"exp", "matmul", "softmax_cross_entropy", "stack"} <= public  # the scan works
    funcs = {info.func for info in OPINFOS}
    in_place = {n for n in public if n.endswith("_")}  # tests/autograd/test_tensor.py
    missing = sorted(
        n for n in public - NON_DIFFERENTIABLE - in_place if getattr(ag, n) not in funcs
    )
    assert missing == [], f"public functions without an OpInfo: {missing}"


def test_opinfo_names_are_unique_and_ops_without_axes_have_0d_samples():
    names = [info.name for info in OPINFOS]
    assert len(names) == len(set(names))
    # ops that need an axis to act on (or a matrix) are the only ones without a 0-d sample
    needs_ndim = {
        "matmul",
        "matmul_operator",
        "swapaxes",
        "concatenate",
        "getitem",
        "scatter_add",
        "softmax_cross_entropy",
        *FAMILY_NEEDS_NDIM,
        "tril",
        "triu",
        "diagonal",
        "trace",
        "split",
        "take_along_axis",
        "norm_l1_inf",
        "norm_matrix",
        "max_dim",
        "min_dim",
        "cumprod_with_zeros",
        "cummin",
        "flatten_start_dim",
        "squeeze_dim",
        "numpy_sum",
        "numpy_concatenate",
        "layer_norm",
        "embedding",
        "softmax_cross_entropy_extended",
        "rnn_scan",
        "lstm_scan",
        "gru_scan",
        "scaled_dot_product_attention",
        "scaled_dot_product_attention_float_mask",
    }
    without_0d = {info.name for info in OPINFOS if not any(() in s.shapes for s in info.samples)}
    assert without_0d <= needs_ndim


@pytest.mark.parametrize(("info", "sample"), CASES, ids=CASE_IDS)
def test_gradcheck_float64(info: OpInfo, sample: Sample):
    assert ag.gradcheck(
        lambda *xs: info(*xs, **sample.kwargs), info.inputs(sample), **info.gradcheck_kwargs
    )


@pytest.mark.parametrize(("info", "sample"), CASES, ids=CASE_IDS)
def test_gradgradcheck_float64(info: OpInfo, sample: Sample):
    assert ag.gradgradcheck(
        lambda *xs: info(*xs, **sample.kwargs), info.inputs(sample), **info.gradcheck_kwargs
    )


@pytest.mark.parametrize(("info", "sample"), CASES, ids=CASE_IDS)
def test_float32_in_float32_out_and_float32_grads(info: OpInfo, sample: Sample):
    out64, grads64 = backward_grads(info, sample, np.float64)
    out32, grads32 = backward_grads(info, sample, np.float32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(grads32, grads64):
        assert g32 is not None and g32.dtype == np.float32
        np.testing.assert_allclose(g32.numpy(), g64.numpy(), rtol=1e-4, atol=1e-5)


BROADCAST_CASES = [
    (info, sample) for info, sample in CASES if info.broadcasts and len(set(sample.shapes)) > 1
]


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum over the leading axes broadcasting added and the length-1 axes it stretched."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize(
    ("info", "sample"),
    BROADCAST_CASES,
    ids=[f"{i.name}-{s.id}" for i, s in BROADCAST_CASES],
)
def test_broadcast_input_gets_gradient_summed_to_its_shape(info: OpInfo, sample: Sample):
    arrays = info.inputs(sample)
    out, grads = backward_grads(info, sample)
    expanded = leaves([np.broadcast_to(a, out.shape).copy() for a in arrays])
    out_expanded = call(info, sample, expanded)
    np.testing.assert_array_equal(out_expanded.numpy(), out.numpy())
    out_expanded.backward(projection(out.shape))
    for a, g, e in zip(arrays, grads, expanded):
        assert g.shape == a.shape
        np.testing.assert_allclose(g.numpy(), sum_to(e.grad.numpy(), a.shape), rtol=1e-12)


def gradients_and_second_order(info: OpInfo, sample: Sample):
    """First-order gradients, and the gradients of ``<first-order gradients, w>``
    (a ``create_graph`` backward through every VJP rule, then one more backward)."""
    tensors = leaves(info.inputs(sample))
    out = call(info, sample, tensors)
    firsts = ag.gradients(out, tensors, projection(out.shape), create_graph=True)
    terms = [(g * projection(g.shape)).sum() for g in firsts if g.requires_grad]
    total = sum(terms, ag.tensor(0.0))
    seconds = ag.gradients(total, tensors) if total.requires_grad else [None] * len(tensors)
    return [g.numpy() for g in firsts], [None if s is None else s.numpy() for s in seconds]


@pytest.mark.parametrize(("info", "sample"), CASES, ids=CASE_IDS)
def test_declared_saves_are_all_the_rules_read(info: OpInfo, sample: Sample, monkeypatch):
    # Arrays a primitive does not list in saves= are released at once when they are large;
    # with the size limit below zero every unlisted array is, so a rule that reads one fails
    # here instead of on a user's first 64 KiB tensor.
    _, expected = backward_grads(info, sample)
    expected_first, expected_second = gradients_and_second_order(info, sample)
    monkeypatch.setattr(node, "SMALL_BYTES", -1)
    _, grads = backward_grads(info, sample)
    first, second = gradients_and_second_order(info, sample)
    for g, e in zip(grads, expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
    for got, want in zip(first + second, expected_first + expected_second):
        np.testing.assert_array_equal(got, want)
