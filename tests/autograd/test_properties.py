"""Property tests (hypothesis): random graphs of primitives on random broadcast-compatible
shapes, checked against ``ag.numerical_grad``; random matmul operands; random
reductions; random integer indexing; and the vjp/jvp duality ``<u, J t> = <J^T u, t>``.

Values stay in safe domains: inputs in [-2, 2], ``log``/``sqrt``/``divide``/``pow``
applied to arguments kept positive (``x^2 + c``), and no kinks (relu, abs, max are
pinned at their kinks by the closed-form tests instead).
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import autograd as ag

UNARY = {
    "sin": ag.sin,
    "cos": ag.cos,
    "tanh": ag.tanh,
    "sigmoid": ag.sigmoid,
    "gauss": lambda x: ag.exp(-(x * x)),
    "log": lambda x: ag.log(x * x + 1.0),
    "sqrt": lambda x: ag.sqrt(x * x + 0.5),
    "square": lambda x: x**2,
    "negative": lambda x: -x,
    "scale": lambda x: 0.5 * x - 1.0,
}
BINARY = {
    "add": ag.add,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 0.5) ** ag.tanh(b),
}
AXIS = {  # shape-preserving or keepdims: results still broadcast with every input
    "softmax": lambda x, axis: ag.softmax(x, axis=axis),
    "log_softmax": lambda x, axis: ag.log_softmax(x, axis=axis),
    "sum": lambda x, axis: x.sum(axis=axis, keepdims=True),
    "mean": lambda x, axis: x.mean(axis=axis, keepdims=True),
    "logsumexp": lambda x, axis: x.logsumexp(axis=axis, keepdims=True),
}

SAFE = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)

# a step: (family, op name, first operand, second operand, axis); operands and the
# axis are taken modulo the pool size / the operand's ndim when the graph is built
STEP = st.tuples(
    st.sampled_from(["unary"] * 2 + ["binary"] * 2 + ["axis"]),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
)


@st.composite
def graphs(draw):
    """Input arrays of mutually broadcastable shapes plus a list of steps to apply."""
    n = draw(st.integers(1, 3))
    shapes = draw(mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=3))
    inputs = [draw(arrays(np.float64, s, elements=SAFE)) for s in shapes.input_shapes]
    steps = draw(st.lists(STEP, min_size=1, max_size=6))
    return inputs, steps


def build(steps, *tensors):
    """Apply ``steps`` to a growing pool of tensors; return a weighted sum of every result."""
    pool = list(tensors)
    for family, op, i, j, axis in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if family == "axis" and a.ndim > 0:
            names = sorted(AXIS)
            pool.append(AXIS[names[op % len(names)]](a, axis % a.ndim))
        elif family == "binary":
            names = sorted(BINARY)
            pool.append(BINARY[names[op % len(names)]](a, b))
        else:
            names = sorted(UNARY)
            pool.append(UNARY[names[op % len(names)]](a))
    results = pool[len(tensors) :]
    return sum(((k + 1.0) * r.sum() for k, r in enumerate(results)), ag.tensor(0.0))


def analytic_grads(f, inputs):
    tensors = [ag.tensor(x, requires_grad=True) for x in inputs]
    out = f(*tensors)
    out.backward()
    return out, [
        np.zeros_like(x) if t.grad is None else t.grad.numpy() for x, t in zip(inputs, tensors)
    ]


def assert_matches_numerical(f, inputs, rtol=1e-5):
    out, analytic = analytic_grads(f, inputs)
    assume(np.isfinite(out.item()) and abs(out.item()) < 1e4)
    numeric = ag.numerical_grad(f, inputs)
    scale = max([1.0] + [float(np.abs(g).max()) for g in analytic if g.size])
    for a, n, x in zip(analytic, numeric, inputs):
        assert a.shape == x.shape and a.dtype == x.dtype
        np.testing.assert_allclose(a, n, rtol=rtol, atol=1e-6 * scale)


@given(graphs())
def test_random_graph_backward_matches_numerical_grad(graph):
    inputs, steps = graph
    assert_matches_numerical(lambda *ts: build(steps, *ts), inputs)


@given(graphs(), st.integers(0, 2**32 - 1))
def test_random_graph_vjp_jvp_duality(graph, seed):
    inputs, steps = graph
    rng = np.random.default_rng(seed)

    def f(*ts):  # the last result itself: a non-scalar output
        return build(steps, *ts) * ts[0]

    out, vjp_fn = ag.vjp(f, *inputs)
    assume(np.isfinite(out.numpy()).all() and np.abs(out.numpy()).max(initial=0) < 1e4)
    u = rng.standard_normal(out.shape)
    tangents = [rng.standard_normal(np.shape(x)) for x in inputs]
    pulled = vjp_fn(u)
    _, pushed = ag.jvp(f, inputs, tangents)
    lhs = float(np.sum(u * pushed.numpy()))
    rhs = sum(float(np.sum(p.numpy() * t)) for p, t in zip(pulled, tangents))
    assert np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9 * max(1.0, abs(lhs)))


@given(
    mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3), st.data()
)
def test_matmul_random_operands(shapes, data):
    a_shape, b_shape = shapes.input_shapes
    a = data.draw(arrays(np.float64, a_shape, elements=SAFE))
    b = data.draw(arrays(np.float64, b_shape, elements=SAFE))
    out, _ = analytic_grads(lambda s, t: (s @ t).sum(), [a, b])
    np.testing.assert_allclose(out.item(), np.sum(a @ b), rtol=1e-12, atol=1e-12)
    assert_matches_numerical(lambda s, t: (ag.sin(s @ t) * (s @ t)).sum(), [a, b])


@st.composite
def reductions(draw):
    shape = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple))
    ndim = len(shape)
    axes = (
        draw(st.none() | st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple))
        if ndim
        else None
    )
    # values on a 0.01 grid, all distinct: no ties for max/min, gaps >> eps
    size = int(np.prod(shape))
    values = draw(st.lists(st.integers(-200, 200), min_size=size, max_size=size, unique=True))
    keepdims = draw(st.booleans())
    name = draw(st.sampled_from(["sum", "mean", "max", "min", "logsumexp"]))
    return np.array(values, dtype=np.float64).reshape(shape) / 100, axes, keepdims, name


@given(reductions())
def test_random_reductions(case):
    x, axis, keepdims, name = case
    reduce = getattr(ag, name)
    out = reduce(ag.tensor(x), axis=axis, keepdims=keepdims)
    expected = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}.get(name)
    if expected is not None:
        np.testing.assert_allclose(
            out.numpy(), expected(x, axis=axis, keepdims=keepdims), rtol=1e-14
        )
    weights = np.arange(1.0, out.size + 1).reshape(out.shape)
    assert_matches_numerical(
        lambda t: (reduce(t, axis=axis, keepdims=keepdims) * weights).sum(), [x]
    )


@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(-n, n - 1), max_size=10))
    )
)
def test_random_integer_indexing_accumulates(case):
    n, index = case
    x = ag.tensor(np.arange(float(n)), requires_grad=True)
    index = np.array(index, dtype=np.int64)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), np.arange(float(n))[index])
    y.sum().backward()
    expected = np.bincount(index % n, minlength=n) if index.size else np.zeros(n)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
