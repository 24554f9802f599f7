"""Quantising the transformer tier's ONNX file, and serving it a post per call."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from sentiment import config
from sentiment.files.formats import DataError

onnx = pytest.importorskip(
    "onnx", reason="onnx is missing: pip install -r requirements-transformer-export.txt"
)
ort = pytest.importorskip("onnxruntime", reason="the transformer extra is missing")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from sentiment.model.transformer import OnnxSentimentModel  # noqa: E402
from sentiment.model.transformer_export import (  # noqa: E402
    dequantise_matmuls,
    quantise,
    requantise,
)

K, N = 64, 16


def _matmul_graph(path, weights: np.ndarray) -> None:
    """x [1, tokens, K] @ weights [K, N] -> y, as fp32 ONNX."""
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="dense/MatMul")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "tokens", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "tokens", N])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.save(model, str(path))


def _eight_bit_graph(fp32, out) -> None:
    """The earlier release's encoding: 8-bit weight-only MatMulNBits."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    settings = {"bits": 8, "block_size": 32, "is_symmetric": True}
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(fp32)), algo_config=DefaultWeightOnlyQuantConfig(**settings)
    )
    quantizer.process()
    onnx.save(quantizer.model.model, str(out))


def _run(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


@pytest.fixture
def weights() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(K, N)).astype(np.float32)


def test_dequantised_matrices_compute_what_the_8_bit_nodes_did(tmp_path, weights):
    _matmul_graph(tmp_path / "fp32.onnx", weights)
    _eight_bit_graph(tmp_path / "fp32.onnx", tmp_path / "q8.onnx")
    ops = [n.op_type for n in onnx.load(str(tmp_path / "q8.onnx")).graph.node]
    assert ops == ["MatMulNBits"]

    assert dequantise_matmuls(tmp_path / "q8.onnx", tmp_path / "back.onnx") == 1

    back = onnx.load(str(tmp_path / "back.onnx"))
    assert [n.op_type for n in back.graph.node] == ["MatMul"]
    # Only the dequantised matrix is left: the 8-bit bytes and scales are gone.
    assert [t.name for t in back.graph.initializer] == ["w"]
    x = np.random.default_rng(1).normal(size=(1, 5, K)).astype(np.float32)
    assert np.allclose(_run(tmp_path / "back.onnx", x), _run(tmp_path / "q8.onnx", x))
    # and the weights are the original ones to within a quantisation step.
    restored = numpy_helper.to_array(back.graph.initializer[0])
    step = np.abs(weights).max(axis=0) / 127
    assert np.all(np.abs(restored - weights) <= step)


def test_dequantising_keeps_matrices_whose_names_are_not_the_quantisers(
    tmp_path, weights
):
    _matmul_graph(tmp_path / "fp32.onnx", weights)
    _eight_bit_graph(tmp_path / "fp32.onnx", tmp_path / "q8.onnx")
    model = onnx.load(str(tmp_path / "q8.onnx"))
    packed = model.graph.node[0].input[1]
    for tensor in model.graph.initializer:
        tensor.name = "packed" if tensor.name == packed else tensor.name
    model.graph.node[0].input[1] = "packed"
    onnx.save(model, str(tmp_path / "renamed.onnx"))

    dequantise_matmuls(tmp_path / "renamed.onnx", tmp_path / "back.onnx")

    x = np.random.default_rng(3).normal(size=(1, 2, K)).astype(np.float32)
    expected = _run(tmp_path / "renamed.onnx", x)
    assert np.allclose(_run(tmp_path / "back.onnx", x), expected)


def test_the_int8_file_is_close_to_fp32_and_runs_integer_matmuls(tmp_path, weights):
    _matmul_graph(tmp_path / "fp32.onnx", weights)
    quantise(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    ops = {n.op_type for n in onnx.load(str(tmp_path / "int8.onnx")).graph.node}
    assert "MatMulInteger" in ops and "MatMul" not in ops
    assert not (tmp_path / "int8.embeddings.onnx").exists()
    x = np.random.default_rng(2).normal(size=(1, 7, K)).astype(np.float32)
    exact = _run(tmp_path / "fp32.onnx", x)
    assert (
        np.abs(_run(tmp_path / "int8.onnx", x) - exact).max()
        < 0.05 * np.abs(exact).max()
    )


def test_requantising_a_file_without_8_bit_matrices_is_refused(tmp_path, weights):
    model_dir = tmp_path / "transformer"
    model_dir.mkdir()
    _matmul_graph(model_dir / "model.onnx", weights)
    shutil.copyfile(config.TRANSFORMER_TOKENIZER_PATH, model_dir / "tokenizer.json")
    (model_dir / "model.json").write_text(json.dumps({"hyperparameters": {}}))
    before = (model_dir / "model.onnx").read_bytes()

    with pytest.raises(DataError, match="no 8-bit weight-only matrices"):
        requantise(tmp_path / "unused.csv", model_dir, tmp_path / "work")
    assert (model_dir / "model.onnx").read_bytes() == before
    assert not (tmp_path / "work" / "requantise.fp32.onnx").exists()


@pytest.mark.skipif(
    not config.TRANSFORMER_MODEL_PATH.exists(), reason="no committed transformer"
)
def test_threads_score_each_post_exactly_as_one_thread_does():
    posts = [
        "loved it",
        "the worst service I have had in years " * 3,
        "",
        "ok then",
        "not bad at all",
    ]
    one = OnnxSentimentModel(
        config.TRANSFORMER_MODEL_PATH, config.TRANSFORMER_TOKENIZER_PATH, threads=1
    )
    three = OnnxSentimentModel(
        config.TRANSFORMER_MODEL_PATH, config.TRANSFORMER_TOKENIZER_PATH, threads=3
    )
    assert len(three.sessions) == 3
    expected = np.stack([one.logits([post])[0] for post in posts])
    assert np.array_equal(three.logits(posts), expected)
    assert three.logits([]).shape == (0, len(config.LABELS))
