"""The graph rewrites of the served transformer compute what they replace."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip(
    "onnx", reason="onnx is missing: pip install -r requirements-transformer-export.txt"
)
ort = pytest.importorskip("onnxruntime", reason="the transformer extra is missing")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from sentiment.model.onnx_rewrite import (  # noqa: E402
    SMALL_TABLE_ROWS,
    fuse_attention,
    rewrite_file,
    unpack_embeddings,
)
from sentiment.model.transformer_export import four_bit_embeddings  # noqa: E402

HIDDEN, HEADS = 16, 4


def _shape(name: str, dims: list[int]):
    return numpy_helper.from_array(np.array(dims, dtype=np.int64), name)


def _attention_graph():
    """One layer norm then attention as torch 2 exports
    ``scaled_dot_product_attention``: heads split by Reshape + Transpose, q
    and k each scaled by a Constant, a -inf mask built with Where, a NaN
    guard after the softmax, heads merged by Reshape, Transpose, Reshape."""
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(np.ones(HIDDEN, np.float32), "gamma"),
        numpy_helper.from_array(np.zeros(HIDDEN, np.float32), "beta"),
        _shape("split_heads", [0, 0, -1, HIDDEN // HEADS]),  # as torch: -1 heads
        _shape("same", [0, 0, 0, 0]),
        _shape("merged", [0, 0, HIDDEN]),
        _shape("mask_shape", [0, 1, 1, -1]),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(-np.inf, np.float32), "minus_inf"),
    ]
    scale = np.array((HIDDEN // HEADS) ** -0.25, np.float32)
    nodes = [
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["h"]),
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(scale)),
        helper.make_node("Cast", ["attention_mask"], ["keep"], to=TensorProto.BOOL),
        helper.make_node("Reshape", ["keep", "mask_shape"], ["keep4"]),
        helper.make_node("Where", ["keep4", "zero", "minus_inf"], ["mask"]),
    ]
    for name, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        matrix = rng.normal(size=(HIDDEN, HIDDEN)).astype(np.float32)
        weights.append(numpy_helper.from_array(matrix, f"w_{name}"))
        nodes += [
            helper.make_node("MatMul", ["h", f"w_{name}"], [name]),
            helper.make_node("Reshape", [name, "split_heads"], [f"{name}4"]),
            helper.make_node("Transpose", [f"{name}4"], [f"{name}t"], perm=perm),
        ]
    nodes += [
        helper.make_node("Mul", ["qt", "c"], ["qs"]),
        helper.make_node("Mul", ["kt", "c"], ["ks"]),
        helper.make_node("MatMul", ["qs", "ks"], ["scores"]),
        helper.make_node("Add", ["scores", "mask"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["p"], axis=-1),
        helper.make_node("IsNaN", ["p"], ["nan"]),
        helper.make_node("Where", ["nan", "zero", "p"], ["p_safe"]),
        helper.make_node("MatMul", ["p_safe", "vt"], ["heads"]),
        helper.make_node("Reshape", ["heads", "same"], ["heads_same"]),
        helper.make_node("Transpose", ["heads_same"], ["swapped"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["swapped", "merged"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "attention",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "t", HIDDEN]),
            helper.make_tensor_value_info(
                "attention_mask", TensorProto.INT64, [1, "t"]
            ),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "t", HIDDEN])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model, feeds: dict, output: str = "y") -> np.ndarray:
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run([output], feeds)[0]


@pytest.mark.parametrize("padded", [0, 2])
def test_fused_attention_computes_what_the_exported_pattern_did(padded):
    model = _attention_graph()
    x = np.random.default_rng(1).normal(size=(1, 6, HIDDEN)).astype(np.float32)
    mask = np.ones((1, 6), np.int64)
    mask[0, 6 - padded :] = 0
    before = _run(model, {"x": x, "attention_mask": mask})

    assert fuse_attention(model) == 1

    ops = [n.op_type for n in model.graph.node]
    assert "MultiHeadAttention" in ops
    assert not {"Softmax", "Transpose", "IsNaN", "Where"} & set(ops)
    onnx.checker.check_model(model)
    after = _run(model, {"x": x, "attention_mask": mask})
    assert np.allclose(after, before, atol=1e-5)


def test_attention_without_a_mask_input_stays_as_exported():
    model = _attention_graph()
    model.graph.input[1].name = "mask"
    for node in model.graph.node:
        node.input[:] = ["mask" if i == "attention_mask" else i for i in node.input]
    before = [n.op_type for n in model.graph.node]
    assert fuse_attention(model) == 0
    assert [n.op_type for n in model.graph.node] == before


def test_a_softmax_outside_attention_is_left_alone():
    node = helper.make_node("Softmax", ["x"], ["y"], axis=-1)
    graph = helper.make_graph(
        [node],
        "head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph)
    assert fuse_attention(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Softmax"]


def _four_bit_embeddings(path) -> None:
    """A word table and a small table, quantised as the export does."""
    rng = np.random.default_rng(2)
    tables = {"words": SMALL_TABLE_ROWS + 4, "positions": 8}
    nodes, weights = [], []
    for name, rows in tables.items():
        table = rng.normal(size=(rows, 64)).astype(np.float32)
        weights.append(numpy_helper.from_array(table, f"{name}.weight"))
        nodes.append(
            helper.make_node("Gather", [f"{name}.weight", name], [f"{name}_rows"])
        )
    nodes.append(helper.make_node("Add", ["words_rows", "positions_rows"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "embeddings",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, [1, "t"])
            for name in tables
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "t", 64])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.save(four_bit_embeddings(model), str(path))


def test_unpacked_embeddings_give_the_same_rows_as_the_4_bit_gather(tmp_path):
    _four_bit_embeddings(tmp_path / "q4.onnx")
    model = onnx.load(str(tmp_path / "q4.onnx"))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("GatherBlockQuantized") == 2
    feeds = {
        "words": np.array([[0, 7, SMALL_TABLE_ROWS + 3, 7]], np.int64),
        "positions": np.array([[0, 1, 2, 3]], np.int64),
    }
    before = _run(model, feeds)

    assert unpack_embeddings(model) == 2

    assert "GatherBlockQuantized" not in [n.op_type for n in model.graph.node]
    stored = {t.name: t.data_type for t in model.graph.initializer}
    assert stored["words.weight_u4x2"] == TensorProto.UINT8  # still 2 a byte
    assert stored["positions.weight_f32"] == TensorProto.FLOAT
    assert np.array_equal(_run(model, feeds), before)


def test_rewrite_file_reports_nothing_to_do_on_a_rewritten_graph(tmp_path):
    _four_bit_embeddings(tmp_path / "q4.onnx")
    assert rewrite_file(tmp_path / "q4.onnx", tmp_path / "once.onnx") == 2
    assert rewrite_file(tmp_path / "once.onnx", tmp_path / "twice.onnx") == 0
