"""ag.compile: signatures and retracing, guards, effects, errors, and the generated source."""

# ruff: noqa: N803, N806 - the notes' matrix names (X, W1, dW1)

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_compile_training import training_step
from test_function import Cube

import autograd as ag
import nn


def bits(value):
    return None if value is None else np.asarray(getattr(value, "data", value)).tobytes()


# ---------------------------------------------------------------- calling and caching
def test_decorator_forms_eager_and_cache_info():
    @ag.compile
    def double(x):
        return x * 2

    @ag.compile(passes=())
    def plus_one(x):
        return x + 1

    x = ag.tensor([1.0, 2.0])
    assert isinstance(double, ag.CompiledFunction) and double.__name__ == "double"
    np.testing.assert_array_equal(double(x).numpy(), [2.0, 4.0])
    replayed = double(ag.tensor([3.0, 5.0]))
    assert type(replayed.data) is np.ndarray  # replays compute on arrays, never on Tensors
    np.testing.assert_array_equal(replayed.numpy(), [6.0, 10.0])
    assert double.cache_info() == ag.CacheInfo(traces=1, replays=1)
    np.testing.assert_array_equal(double.eager(x).numpy(), [2.0, 4.0])
    assert double.cache_info() == (1, 1)  # .eager neither traces nor replays
    assert plus_one(x).tolist() == [2.0, 3.0] and plus_one(x).tolist() == [2.0, 3.0]
    assert plus_one.cache_info() == (1, 1)


def test_a_new_signature_traces_again():
    compiled = ag.compile(lambda x, k: x * k)
    x = ag.tensor([1.0, 2.0])
    calls = [
        (x, 2),  # traced
        (ag.tensor([5.0, 6.0]), 2),  # replayed: same shape, dtype, flags, k
        (x, 3),  # a new value of a non-array argument
        (ag.tensor([1.0, 2.0, 3.0]), 2),  # a new shape
        (ag.tensor([1.0, 2.0], dtype=np.float32), 2),  # a new dtype
        (ag.tensor([1.0, 2.0], requires_grad=True), 2),  # a new requires_grad
        (np.array([1.0, 2.0]), 2),  # an ndarray, not a Tensor
    ]
    for x_k, k in calls:
        expected = np.asarray(getattr(x_k, "data", x_k)) * k
        np.testing.assert_array_equal(compiled(x_k, k).numpy(), expected)
    with ag.no_grad():  # a new grad mode
        compiled(x, 2)
    assert compiled.cache_info() == (7, 1)


def test_outputs_keep_their_structure_and_carry_no_graph():
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    @ag.compile
    def f(x, scale=1.0):
        y = x * w
        return {"sum": y.sum() * scale, "parts": (y, x), "w": w, "none": None, "n": 3}

    for k in range(3):
        x = ag.tensor([k, k + 1.0])
        out = f(x, scale=2.0)
        assert out["parts"][1] is x and out["w"] is w and out["none"] is None and out["n"] == 3
        assert out["sum"].item() == 2.0 * (k * 1.0 + (k + 1.0) * 2.0)
    assert not out["sum"].requires_grad  # replays make no graph
    assert f.cache_info() == (1, 2)


def test_ndarrays_reach_the_function_as_tensors():
    seen = []

    @ag.compile
    def f(x):
        seen.append(type(x))
        return x.sum()

    assert f(np.arange(3.0)).item() == 3.0 and f(np.arange(1.0, 4.0)).item() == 6.0
    assert seen == [ag.Tensor]  # the function ran once, on a Tensor


def test_gradients_land_on_the_arguments_of_each_call():
    @ag.compile
    def f(x):
        (x * x).sum().backward()

    for k in range(3):
        x = ag.tensor([1.0, float(k)], requires_grad=True)
        f(x)
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0 * k])
    assert f.cache_info() == (1, 2)


def test_functional_transforms_and_custom_functions_replay():
    value_and_grad = ag.value_and_grad(lambda x: Cube.apply(x).sum() + ag.exp(x).sum())
    compiled = ag.compile(value_and_grad)
    for k in range(4):
        x = np.linspace(-1, 1, 4) + k
        value, grad = compiled(x)
        expected_value, expected_grad = value_and_grad(x)
        assert bits(value) == bits(expected_value) and bits(grad) == bits(expected_grad)
        np.testing.assert_allclose(grad.numpy(), 3 * x**2 + np.exp(x), rtol=1e-13)
    assert compiled.cache_info() == (1, 3)


def test_a_compiled_function_called_while_tracing_is_inlined():
    inner = ag.compile(lambda x: ag.tanh(x) * 2)
    outer = ag.compile(lambda x: inner(x) + 1)
    for k in range(3):
        x = ag.tensor([0.5 * k])
        assert bits(outer(x)) == bits(ag.tanh(x) * 2 + 1)
    assert outer.cache_info() == (1, 2) and inner.cache_info() == (0, 0)


def test_under_detect_anomaly_the_function_runs_eagerly():
    compiled = ag.compile(lambda x: ag.log(x))
    compiled(ag.tensor([1.0]))
    with ag.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(FloatingPointError, match="log"):
            compiled(ag.tensor([-1.0], requires_grad=True))
    assert compiled.cache_info() == (1, 0)


# ---------------------------------------------------------------- guards on Python state
def test_changed_python_state_traces_again():
    scale = 2.0
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    def f(x):
        loss = (x * w).sum() * scale
        loss.backward()
        return loss

    compiled = ag.compile(f)
    x = ag.tensor([1.0, 1.0])
    assert compiled(x).item() == 6.0
    assert compiled(x).item() == 6.0  # .grad was None at the trace: now set, so a new trace
    w.grad = None
    scale = 3.0  # a closure number the trace read
    assert compiled(x).item() == 9.0
    w.requires_grad_(False)  # the parameter is frozen: no gradient any more
    w.grad = None
    with pytest.raises(RuntimeError, match="does not require grad"):
        compiled(x)
    assert compiled.cache_info().replays == 0


def test_a_parameter_cast_to_another_dtype_traces_again():
    model = nn.Linear(3, 2, rng=0)
    compiled = ag.compile(lambda x: model(x))
    x64 = np.ones((1, 3))
    out32 = compiled(x64.astype(np.float32))
    model.double()
    out64 = compiled(x64.astype(np.float32))
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    assert compiled.cache_info() == (2, 0)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("what", "fn"),
    [
        ("item()", lambda x: x.sum().item()),
        ("float(t)", lambda x: float(x.sum())),
        ("bool(t)", lambda x: x.sum() if x.sum() > 0 else -x.sum()),
        ("tolist()", lambda x: x.tolist()),
        ("numpy()", lambda x: x.numpy() * 2),
        ("np.asarray", lambda x: np.asarray(x) + 1),
        ("item()", lambda x: print(f"{x.sum():.3f}")),
    ],
)
def test_reading_a_traced_value_in_python_raises_compile_error(what, fn):
    with pytest.raises(ag.CompileError) as error:
        ag.compile(fn)(ag.tensor([1.0, 2.0]))
    message = str(error.value)
    assert what in message and ".eager" in message and "freeze" in message


def test_reading_a_parameter_in_python_raises_compile_error():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ag.CompileError, match="numpy"):
        ag.compile(lambda x: x * w.numpy())(ag.tensor([1.0, 1.0]))
    assert isinstance(ag.CompileError("x"), RuntimeError)


def _doubling(out_of):
    """A primitive ``2x`` whose VJP writes ``2 g`` into the array ``out_of(g)`` gives."""
    return ag.Primitive(
        "double_into",
        lambda x: 2 * x,
        vjps=(lambda xp, g, out, x: np.multiply(g, 2, out=out_of(g)),),
        register=False,
    )


@pytest.mark.parametrize(
    ("made", "out_of"),
    [
        ("from a shape", lambda g: np.empty(g.shape, g.dtype)),
        ("from a traced value", lambda g: np.empty_like(g)),
    ],
)
def test_a_rule_writing_out_into_an_array_made_from_a_shape_is_refused(made, out_of):
    from autograd.primitive import apply

    double = _doubling(out_of)
    compiled = ag.compile(ag.grad(lambda x: apply(double, (x,)).sum()))
    x = np.array([1.0, 2.0])
    if made == "from a shape":  # replays would write into the trace's own array
        with pytest.raises(ag.CompileError, match=r"multiply\(\.\.\., out=\.\.\.\).*empty_like"):
            compiled(x)
    else:
        first, second = compiled(x), compiled(x)
        assert first is not second and compiled.cache_info() == (1, 1)
        np.testing.assert_array_equal(second, [2.0, 2.0])


# ---------------------------------------------------------------- the generated source
def two_layer_step():
    model = nn.TwoLayerMLP(3, 8, 3, rng=0)
    return model, training_step(model, nn.optim.SGD(model.parameters(), lr=0.1))


def test_source_reads_like_the_notes_backprop():
    _, step = two_layer_step()
    compiled = ag.compile(step)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 3, 5)
    source = compiled.source(X, y)
    for line in [
        "def step(X, y):",
        "linear1 = linear(X, W1)",
        "activation = relu(linear1)",
        "probs[arange_5, y] -= 1",  # S - I_y
        "dlinear2 = probs * np.float32(0.2)",  # ... / m
        "dW2 = activation.T @ dlinear2",
        "dactivation = dlinear2 @ W2.T",
        "dlinear1 = dactivation * (activation > 0)",
        "dW1 = X.T @ dlinear1",
        'T["W1"]._grad = tensor(dW1)',
    ]:
        assert line in source, line
    assert "# linear: (5, 3) (3, 8) -> (5, 8) float32" in source
    assert compiled.cache_info() == (1, 0)  # source() traced the signature once
    assert compiled.source(X, y) == source


def test_the_source_runs_and_reproduces_the_results():
    (model_a, step_a), (model_b, step_b) = two_layer_step(), two_layer_step()
    compiled = ag.compile(step_b)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 3, 5)
    step_a(X, y)
    source, namespace = compiled.source(X, y), compiled.namespace(X, y)  # traced: one step
    exec(source, namespace)  # noqa: S102 - the compiled program's own source
    for _ in range(3):
        X, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 3, 5)
        assert bits(step_a(X, y)) == bits(namespace["step"](X, y))
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert bits(p) == bits(q) and bits(p.grad) == bits(q.grad)


def test_program_and_trace_give_named_instructions():
    from autograd.compile import trace

    model = nn.MLP([2, 4, 3], rng=0)
    with ag.no_grad():
        program, result = trace(model, (np.ones((2, 2), np.float32),), arg_names=("x",))
    prims = [i.prim.name for i in program.instructions if i.kind == "prim"]
    assert prims == ["linear", "relu", "linear"]
    assert [s.hint for s in program.inputs()] == [
        "x",
        "layers_0_weight",
        "layers_0_bias",
        "layers_2_weight",
        "layers_2_bias",
    ]
    assert result.shape == (2, 3)


def test_unknown_pass_is_refused():
    with pytest.raises(ValueError, match="unknown pass 'fast'"):
        ag.compile(lambda x: x, passes=("fast",))(ag.tensor(1.0))


def test_the_readme_compiled_loop_runs_and_prints_the_source_shown():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Compiled steps\n", 1)[1]
    (loop,) = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    (source,) = re.findall(r"```text\n(.*?)```", section, re.S)[:1]
    namespace: dict = {}
    exec(compile(loop, "README compiled steps", "exec"), namespace)  # noqa: S102
    step, X, y = namespace["step"], namespace["X"], namespace["y"]
    assert step.cache_info() == (1, 99)
    assert step.source(X, y).strip() == source.strip()


def test_a_once_differentiable_gradient_under_create_graph_is_refused():
    # its value is computed outside the program: a replay would return the traced one
    @ag.compile
    def slope_of_slope(x):
        (g,) = ag.gradients(Cube.apply(x).sum(), [x], create_graph=True)
        return g

    with pytest.raises(ag.CompileError, match=r"Cube.backward is not differentiable.*\.eager"):
        slope_of_slope(ag.tensor(np.array([1.0, 2.0]), requires_grad=True))
