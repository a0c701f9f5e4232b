"""ag.export_onnx: the file passes onnx.checker and ONNX Runtime reproduces the engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
import nn

onnx = pytest.importorskip("onnx")


def run_onnx(path, feeds):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def inputs(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


class SmallCNN(nn.Module):
    """Conv, batch norm, relu, both poolings, padding, flatten, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, rng=0),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, stride=1, padding=1, groups=2, rng=1),
            nn.GELU(),
            nn.AvgPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(6, 3, rng=2)

    def forward(self, images):
        return nn.F.log_softmax(self.head(self.features(images)), axis=1)


class TinyGPT(nn.Module):
    """Embedding, learned positions, one pre-norm causal encoder block, a linear head."""

    def __init__(self, vocab: int = 11, d_model: int = 8, length: int = 6) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model, rng=0)
        self.positions = nn.Parameter(np.random.default_rng(1).normal(0, 0.1, (length, d_model)))
        self.block = nn.TransformerEncoderLayer(
            d_model, 2, 16, dropout=0.1, activation="gelu", batch_first=True, norm_first=True, rng=2
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, rng=3)
        self.length = length
        self.positions.data = self.positions.data.astype(np.float32)

    def forward(self, ids):
        h = self.tokens(ids) + self.positions
        mask = np.triu(np.full((self.length, self.length), -np.inf, np.float32), 1)
        return self.head(self.norm(self.block(h, src_mask=mask)))


def test_mlp_exports_with_named_inputs_outputs_and_initializers(tmp_path):
    model = nn.MLP([4, 8, 3], rng=0)
    rng = np.random.default_rng(0)
    path = ag.export_onnx(
        model, inputs(rng, 2, 4), tmp_path / "mlp.onnx", input_names=["x"], output_names=["y"]
    )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["y"]
    assert {i.name for i in proto.graph.initializer} >= {"layers.0.weight", "layers.2.bias"}
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.opset_import[0].version == ag.onnx_export.OPSET
    for batch in (2, 7):  # the batch axis is dynamic
        x = inputs(rng, batch, 4)
        (got,) = run_onnx(path, {"x": x})
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_cnn_exports_and_onnx_runtime_agrees(tmp_path):
    model = SmallCNN()
    rng = np.random.default_rng(1)
    model(inputs(rng, 8, 1, 8, 8))  # batch statistics move the running averages
    model.eval()
    path = ag.export_onnx(model, inputs(rng, 2, 1, 8, 8), tmp_path / "cnn.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "LogSoftmax"} <= ops
    for batch in (2, 5):
        x = inputs(rng, batch, 1, 8, 8)
        (got,) = run_onnx(path, {"images": x})
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_transformer_block_exports_and_onnx_runtime_agrees(tmp_path):
    model = TinyGPT().eval()
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 11, (3, 6))
    path = ag.export_onnx(model, ids, tmp_path / "gpt.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"Gather", "LayerNormalization", "Erf", "MatMul"} <= ops
    for batch in (3, 1, 4):
        ids = rng.integers(0, 11, (batch, 6))
        (got,) = run_onnx(path, {"ids": ids})
        np.testing.assert_allclose(got, model(ids).numpy(), rtol=1e-5, atol=1e-5)


def test_fully_masked_attention_rows_give_zeros_as_in_the_engine(tmp_path):
    mask = np.array([[True, False], [False, False]])  # the second query sees nothing

    def attend(q, k, v):
        return ag.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    rng = np.random.default_rng(3)
    q, k, v = (inputs(rng, 2, 2, 4) for _ in range(3))
    path = ag.export_onnx(attend, (q, k, v), tmp_path / "attention.onnx")
    (got,) = run_onnx(path, {"q": q, "k": k, "v": v})
    expected = attend(q, k, v).numpy()
    assert np.all(expected[:, 1] == 0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda x: ag.cumsum(x, axis=1), "primitive 'cumsum' has no ONNX form"),
        (lambda x: x + np.ones((2, 3), np.float32), "does not run at batch size 3"),
        (lambda x: x * np.arange(x.shape[0], dtype=np.float32)[:, None], "changes with the batch"),
        (lambda x: x[0:1], "indexes the batch axis 0"),
        (lambda x: nn.F.dropout(x, 0.5, training=True, rng=0), "random draw.*model.eval"),
    ],
    ids=[
        "unsupported",
        "batch-sized constant",
        "batch-made constant",
        "batch index",
        "random draw",
    ],
)
def test_what_cannot_be_exported_raises_and_writes_nothing(tmp_path, fn, message):
    path = tmp_path / "model.onnx"
    with pytest.raises(ag.ExportError, match=message):  # a ValueError
        ag.export_onnx(fn, np.ones((2, 3), np.float32), path)
    assert list(tmp_path.iterdir()) == []
    assert issubclass(ag.ExportError, ValueError)


def test_a_fixed_batch_export_keeps_batch_dependent_constants(tmp_path):
    constant = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = ag.export_onnx(
        lambda x: x * constant,
        np.ones((2, 3), np.float32),
        tmp_path / "fixed.onnx",
        dynamic_batch=False,
    )
    (got,) = run_onnx(path, {"x": np.full((2, 3), 2, np.float32)})
    np.testing.assert_array_equal(got, 2 * constant)


def test_training_mode_dropout_in_a_module_raises_naming_the_fix(tmp_path):
    model = TinyGPT()  # training mode: attention and residual dropout draw masks
    with pytest.raises(ValueError, match="no ONNX form|model.eval"):
        ag.export_onnx(model, np.zeros((1, 6), np.int64), tmp_path / "gpt.onnx")


def test_an_unsupported_primitive_is_named_before_any_batch_analysis(tmp_path):
    def fn(x):  # a constant of the batch's size, and an op without an ONNX form
        return ag.cumsum(x * np.arange(len(x), dtype=np.float32)[:, None], axis=1)

    with pytest.raises(ValueError, match="primitive 'cumsum' has no ONNX form"):
        ag.export_onnx(fn, np.ones((2, 3), np.float32), tmp_path / "m.onnx")


class CharLSTM(nn.Module):
    """Embedding, a two-layer bidirectional LSTM (zero initial states), a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(12, 4, rng=0)
        self.lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True, rng=1)
        self.head = nn.Linear(10, 12, rng=2)

    def forward(self, ids):
        return self.head(self.lstm(self.embedding(ids))[0])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_export_as_scans_with_states_of_the_batchs_size(tmp_path, kind):
    rng = np.random.default_rng(4)
    if kind == "LSTM":
        model, example = CharLSTM().eval(), rng.integers(0, 12, (2, 7))
        feed = lambda batch: rng.integers(0, 12, (batch, 7))  # noqa: E731
    else:
        layer = getattr(nn, kind)(3, 5, rng=0)  # time-major: the batch is axis 1

        def model(x):
            return layer(x.transpose(1, 0, 2))[0]

        example = inputs(rng, 2, 6, 3)
        feed = lambda batch: inputs(rng, batch, 6, 3)  # noqa: E731
    path = ag.export_onnx(model, example, tmp_path / "rnn.onnx", input_names=["x"])
    assert "Scan" in {node.op_type for node in onnx.load(str(path)).graph.node}
    for batch in (1, 2, 5):
        x = feed(batch)
        (got,) = run_onnx(path, {"x": x})
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_the_engine_never_imports_onnx_unless_exporting():
    code = (
        "import sys, autograd, nn; sys.exit('onnx' in sys.modules or 'onnxruntime' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_file_gets_the_usual_permissions_and_a_missing_folder_is_named(tmp_path):
    import os

    mask = os.umask(0)
    os.umask(mask)
    path = ag.export_onnx(lambda x: x * 2, np.ones((2, 3), np.float32), tmp_path / "m.onnx")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0o600
    with pytest.raises(FileNotFoundError, match="no/such"):
        ag.export_onnx(lambda x: x * 2, np.ones((2, 3), np.float32), tmp_path / "no/such/m.onnx")
