"""The example scripts: each one's ``main()`` is run with small settings and its results checked."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scalar_network() -> ModuleType:
    return load("scalar_network")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_scalar_network_every_partial_equals_the_hand_formula(scalar_network, activation):
    result = scalar_network.main(activation, lr=0.1, steps=10)
    assert set(result["engine"]) == set(scalar_network.PARAMS)
    for name in scalar_network.PARAMS:
        assert abs(result["engine"][name] - result["hand"][name]) <= 1e-12, name
    assert result["max_abs_diff"] <= 1e-12
    assert result["losses"][-1] < result["losses"][0]


def test_scalar_network_hand_formulas_match_central_differences(scalar_network):
    start = dict(scalar_network.START)
    hand = scalar_network.partials(start, "sigmoid")["hand"]
    h = 1e-6
    for name in scalar_network.PARAMS:
        up = scalar_network.partials({**start, name: start[name] + h}, "sigmoid")["E"]
        down = scalar_network.partials({**start, name: start[name] - h}, "sigmoid")["E"]
        assert abs((up - down) / (2 * h) - hand[name]) < 1e-8, name


def test_scalar_network_gradient_step_follows_the_taylor_expansion(scalar_network):
    taylor = scalar_network.main("tanh", lr=0.1, steps=1)["taylor"]
    # E(w − α∇E) = E − α||∇E||² + O(α²): the two drops agree to O(α) relative error
    assert taylor["predicted_drop"] > 0
    assert abs(taylor["actual_drop"] - taylor["predicted_drop"]) < 1e-3 * taylor["predicted_drop"]


def test_scalar_network_rejects_an_unknown_activation(scalar_network):
    with pytest.raises(ValueError, match="unknown activation 'step'"):
        scalar_network.main("step")


def test_scalar_network_runs_as_a_script():
    script = str(EXAMPLES / "scalar_network.py")
    done = subprocess.run(
        [sys.executable, script, "--activation", "tanh", "--steps", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("w1 ", "b "))]
    assert len(rows) == 2 and all(row[1] == row[2] for row in rows)  # engine == hand, 12 digits


def test_two_layer_engine_equals_the_notes_formulas_and_trains_the_same():
    result = load("two_layer_manual_vs_autodiff").main()
    assert set(result["grad_diffs"]) == {"relu", "leaky_relu", "sigmoid", "tanh"}
    for diffs in result["grad_diffs"].values():
        assert max(diffs.values()) < 1e-12
    assert result["max_gap"] < 1e-9  # 500 steps of SGD by engine and by hand stay together
    assert result["losses"][-1] < 0.2 * result["losses"][0]
    assert result["accuracy"] >= 0.97


def test_digits_mlp_reaches_97_percent_test_accuracy():
    result = load("digits_mlp").main()
    assert result["grad_diff"] < 1e-12
    assert result["final_test_accuracy"] >= 0.97
    confusion = result["confusion"]
    assert confusion.sum() == 359  # 20% of 1797 held out
    assert np.trace(confusion) / confusion.sum() == pytest.approx(result["final_test_accuracy"])
    assert result["losses"][-1] < 0.1 * result["losses"][0]


def test_custom_functions_pass_gradcheck_and_stay_finite():
    result = load("custom_function").main()
    assert result["softplus_gradcheck"] is True and result["hypot_gradcheck"] is True
    assert result["softplus_vs_composed"] < 1e-12
    assert result["large_x"]["custom"] == (1000.0, 1.0)
    value, slope = result["large_x"]["composed"]
    assert math.isinf(value) and math.isnan(slope)  # why the custom op exists
    for got, expected in zip(result["hypot_grads"], result["hypot_expected"]):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert result["hypot_vs_builtin"] < 1e-12


def test_higher_order_newton_and_hessian_vector_product():
    result = load("higher_order").main()
    one_d = result["newton_1d"]
    assert one_d["xs"][1] == pytest.approx(one_d["closed_first_step"], abs=1e-14)
    assert abs(one_d["xs"][-1] - math.log(2)) < 1e-12
    errors = [abs(x - math.log(2)) for x in one_d["xs"][2:5]]
    assert errors[1] < errors[0] ** 2 and errors[2] < errors[1] ** 2  # quadratic convergence
    quadratic = result["newton_quadratic"]
    np.testing.assert_allclose(quadratic["landed"], quadratic["closed_form"], atol=1e-12)
    logistic = result["newton_logistic"]
    np.testing.assert_allclose(logistic["engine_hessian"], logistic["closed_hessian"], atol=1e-14)
    assert logistic["grad_norms"][-1] < 1e-12 < logistic["grad_norms"][0]
    hvp = result["hvp"]
    np.testing.assert_allclose(hvp["hvp"], hvp["hessian_times_v"], atol=1e-12)
    np.testing.assert_allclose(hvp["hvp"], hvp["finite_difference"], atol=1e-7)
    assert hvp["hessian_symmetry"] < 1e-12


def test_cnn_digits_beats_the_mlp_on_the_same_split():
    result = load("cnn_digits").main()
    assert result["gradcheck"] is True
    assert result["images"] == (1, 8, 8)
    assert result["final_test_accuracy"] > result["mlp_test_accuracy"] == 0.9805
    confusion = result["confusion"]
    assert confusion.sum() == 359  # the MLP example's held-out 20%
    assert np.trace(confusion) / confusion.sum() == pytest.approx(result["final_test_accuracy"])
    assert result["losses"][-1] < 0.05 * result["losses"][0]


def test_cnn_digits_trains_lenet5_on_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        header = lambda code, *dims: np.array([code, *dims], ">i4").tobytes()  # noqa: E731
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(
            header(2051, n, 28, 28) + images.tobytes()
        )
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(header(2049, n) + labels.tobytes())
    result = load("cnn_digits").main(epochs=1, mnist=str(tmp_path))
    assert result["images"] == (1, 28, 28) and result["mlp_test_accuracy"] is None
    assert result["confusion"].sum() == 20 and result["gradcheck"] is True


def test_pytorch_ops_code_gives_pytorchs_numbers():
    result = load("pytorch_ops").main()
    assert np.isfinite(result["topograd"]["loss"])
    if result["torch"] is not None:  # the same source ran on PyTorch
        assert result["topograd"]["index"] == result["torch"]["index"]
        assert result["max_difference"] <= 1e-12


def test_char_lm_trains_scores_and_samples_both_models(tmp_path):
    char_lm = load("char_lm")
    graph, curves = tmp_path / "transformer.dot", tmp_path / "curves.png"
    result = char_lm.main(
        steps=12, batch=4, sample_length=20, plot=str(curves), graph=str(graph), verbose=False
    )
    alphabet = result["alphabet"]
    assert len(alphabet) == 103
    for name in ("LSTM", "transformer"):
        model = result[name]
        assert len(model["losses"]) == 12 and model["seconds"] > 0
        assert np.mean(model["losses"][-4:]) < model["losses"][0]  # it learns
        assert 1.0 < model["bits_per_character"] < math.log2(len(alphabet))
        text = model["sample"]
        assert text.startswith("The ") and len(text) == 24 and set(text) <= set(alphabet)
    assert "cluster" in graph.read_text()  # the transformer's modules, grouped
    assert curves.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_char_transformer_refuses_more_characters_than_its_positions():
    char_lm = load("char_lm")
    model = char_lm.CharTransformer(10, d_model=8, heads=2, layers=1, rng=0)
    with pytest.raises(ValueError, match="65 characters .* longer than its 64 learned positions"):
        model(np.zeros((1, 65), dtype=np.int64))


TORCH_IMPORTS = """import torch as ag
import torch.nn as nn
from torch import optim
from torch.func import functional_call, hessian
from torch.utils.data import DataLoader, TensorDataset
"""


def pytorch_version_of(source: str) -> str:
    """``source`` with its import block swapped for PyTorch's."""
    start = source.index("# --- imports: the only lines that differ from the PyTorch version ---")
    end = source.index("# --- end of imports ---")
    return source[:start] + TORCH_IMPORTS + source[end:]


def check_habits_result(result, epochs):
    assert result["losses"][-1] < 0.1 * result["losses"][0]
    assert result["accuracy"] >= 0.95
    rates = result["rates"]
    assert len(rates) == epochs * 19  # 600 samples, batches of 32
    peak = int(np.argmax(rates))
    assert rates[peak] == pytest.approx(0.01, rel=1e-3) and abs(peak - 0.3 * len(rates)) <= 2
    assert rates[0] < rates[peak] and rates[-1] < 1e-5  # OneCycleLR's warm-up and annealing
    assert result["bias_hessian"].shape == (3, 3)
    np.testing.assert_allclose(result["bias_hessian"], result["closed_form"], atol=1e-6)
    assert np.abs(result["closed_form"]).max() > 1e-4  # not a vacuous comparison
    assert result["state_keys"][:3] == ["mean", "stem.weight", "stem.bias"]
    assert "blocks.2.weight" in result["state_keys"]


def test_pytorch_habits_train_and_take_a_functional_call_hessian():
    check_habits_result(load("pytorch_habits").main(epochs=8), epochs=8)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_pytorch_habits_is_the_pytorch_script_up_to_imports():
    pytest.importorskip("torch")
    source = (EXAMPLES / "pytorch_habits.py").read_text(encoding="utf-8")
    namespace = {"__name__": "pytorch_habits_with_torch"}
    exec(compile(pytorch_version_of(source), "pytorch_habits (PyTorch)", "exec"), namespace)  # noqa: S102
    check_habits_result(namespace["main"](epochs=8), epochs=8)


def test_to_pytorch_gives_the_same_predictions_in_pytorch_and_onnx_runtime(tmp_path):
    result = load("to_pytorch").main(epochs=1, out=tmp_path, verbose=False)
    assert result["accuracy"] > 0.3  # one epoch learns something (chance is 0.1)
    for route in ("torch", "onnx"):
        agreement = result[route]
        if agreement is None or "same_labels" not in agreement:
            continue  # that package is not installed here
        assert agreement["same_labels"] is True
        assert agreement["max_difference"] < 1e-4
    if result["onnx"] is not None:
        assert (tmp_path / "digits_cnn.onnx").stat().st_size == result["onnx"]["bytes"] > 1000
