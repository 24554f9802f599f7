"""Rewrites of the quantised transformer graph that onnxruntime runs faster
and that compute the same numbers (the tests compare outputs before and
after).

Measured on the served MiniLM (2-core machine, 2026-12-03, one post per
call): 2.68 ms a post as exported, 2.24 ms with attention fused, 1.96 ms with
the embedding rows unpacked by plain nodes as well.

- :func:`fuse_attention`: torch exports scaled dot-product attention as about
  twenty nodes a layer (reshapes, transposes, a mask built with ``Where``, a
  NaN guard after the softmax). onnxruntime's ``MultiHeadAttention`` does the
  same in one node. Its own optimiser does not recognise torch's pattern.
- :func:`unpack_embeddings`: ``GatherBlockQuantized`` unpacks 4-bit rows
  slowly (about 80 microseconds a call for one post's rows). The same bytes,
  gathered and turned into values by a 256-row table with plain nodes, take
  a few microseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Tables with fewer rows than this (positions, token types) are stored as
# float32 outright: they are small, and a plain Gather is the fastest node.
SMALL_TABLE_ROWS = 4096


# Byte b holds two signed 4-bit values: b & 15 first, then b >> 4.
_NIBBLE_PAIRS = (((np.arange(256)[:, None] >> np.array([0, 4])) & 0x0F) ^ 8).astype(
    np.float32
) - 8


class GraphPatternError(ValueError):
    """The graph does not have the shape this rewrite knows."""


def rewrite_file(source: Path, target: Path) -> int:
    """Write ``source`` with both rewrites to ``target``; returns how many
    nodes were replaced (0: it had nothing to rewrite)."""
    import onnx

    model = onnx.load(str(source))
    count = fuse_attention(model) + unpack_embeddings(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return count


def fuse_attention(model: Any) -> int:
    """Replace each layer's exported attention by one ``MultiHeadAttention``
    node (in place); returns how many layers were fused. The pattern is
    torch 2's export of ``scaled_dot_product_attention``; a softmax in any
    other pattern is left alone."""
    from onnx import TensorProto, helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    if not softmaxes:
        return 0
    replacements = {}
    for softmax in softmaxes:
        try:
            fused = _attention_node(softmax, producer, consumers, graph)
        except GraphPatternError:
            continue  # a softmax outside attention (a head's) stays as it is
        replacements[fused.output[0]] = fused
    # MultiHeadAttention masks padded keys from the graph's attention_mask
    # input; a graph without one stays as exported.
    if not replacements or "attention_mask" not in {i.name for i in graph.input}:
        return 0
    mask = helper.make_node(
        "Cast",
        ["attention_mask"],
        ["attention_mask_int32"],
        name="attention_mask/int32",
        to=TensorProto.INT32,
    )
    nodes = [mask]
    for node in graph.node:
        nodes.append(replacements.get(node.output[0], node) if node.output else node)
    _keep_needed(graph, nodes)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return len(replacements)


def unpack_embeddings(model: Any) -> int:
    """Replace each 4-bit ``GatherBlockQuantized`` by plain nodes computing
    the same rows (in place); returns how many were replaced."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    nodes: list[Any] = []
    replaced = 0
    for node in graph.node:
        if node.op_type != "GatherBlockQuantized":
            nodes.append(node)
            continue
        packed, indices, scale_name = node.input[:3]
        settings = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        layout = (
            settings.get("bits", 4),
            settings.get("gather_axis", 0),
            settings.get("quantize_axis", 1),
        )
        if len(node.input) > 3 or layout != (4, 0, 1):
            nodes.append(node)  # zero points or another layout: left as is
            continue
        values = numpy_helper.to_array(weights[packed]).astype(np.int8)
        scales = numpy_helper.to_array(weights[scale_name]).astype(np.float32)
        rows, width = values.shape
        blocks = scales.shape[1]
        name, out = packed.removesuffix("_Q4"), node.output[0]
        if rows < SMALL_TABLE_ROWS:
            table = values.reshape(rows, blocks, -1) * scales[:, :, None]
            graph.initializer.append(
                numpy_helper.from_array(table.reshape(rows, width), name + "_f32")
            )
            nodes.append(helper.make_node("Gather", [name + "_f32", indices], [out]))
        else:
            # Two 4-bit values a byte, as stored; one Gather from a 256-row
            # table turns each byte back into its two signed values.
            pairs = values.reshape(rows, -1, 2) & 0x0F
            packed_bytes = (pairs[..., 0] | pairs[..., 1] << 4).astype(np.uint8)
            graph.initializer.extend(
                [
                    numpy_helper.from_array(packed_bytes, name + "_u4x2"),
                    numpy_helper.from_array(_NIBBLE_PAIRS, name + "_nibble_pairs"),
                    numpy_helper.from_array(scales[..., None], name + "_block_scales"),
                    _shape(name + "_blocks", [0, 0, blocks, width // blocks]),
                    _shape(name + "_rows", [0, 0, width]),
                ]
            )
            nodes += [
                helper.make_node("Gather", [name + "_u4x2", indices], [out + "_u8"]),
                helper.make_node(
                    "Cast", [out + "_u8"], [out + "_byte"], to=TensorProto.INT32
                ),
                helper.make_node(
                    "Gather", [name + "_nibble_pairs", out + "_byte"], [out + "_v"]
                ),
                helper.make_node(
                    "Reshape", [out + "_v", name + "_blocks"], [out + "_b"]
                ),
                helper.make_node(
                    "Gather", [name + "_block_scales", indices], [out + "_s"]
                ),
                helper.make_node("Mul", [out + "_b", out + "_s"], [out + "_m"]),
                helper.make_node("Reshape", [out + "_m", name + "_rows"], [out]),
            ]
        replaced += 1
    if replaced:
        _keep_needed(graph, nodes)
    return replaced


def _attention_node(softmax: Any, producer: dict, consumers: dict, graph: Any) -> Any:
    """The MultiHeadAttention node equivalent to the pattern around
    ``softmax``: softmax(q k^T * scale + mask) v, heads merged back."""
    from onnx import helper

    add = _expect(producer.get(softmax.input[0]), "Add", softmax)
    scores = _expect(producer.get(add.input[0]), "MatMul", add)
    scaled_q = _expect(producer.get(scores.input[0]), "Mul", scores)
    scaled_k = _expect(producer.get(scores.input[1]), "Mul", scores)
    scale = _constant(scaled_q.input[1], producer, graph) * _constant(
        scaled_k.input[1], producer, graph
    )
    query, split = _heads_input(scaled_q.input[0], producer, (0, 2, 1, 3))
    key, _ = _heads_input(scaled_k.input[0], producer, (0, 2, 3, 1))
    weighted = _after_softmax(softmax, consumers)
    value, _ = _heads_input(weighted.input[1], producer, (0, 2, 1, 3))
    merged = _single(consumers, weighted, "Reshape")
    swapped = _single(consumers, merged, "Transpose")
    if _perm(swapped) != (0, 2, 1, 3):
        raise GraphPatternError(f"{swapped.name}: heads are not merged back.")
    output = _single(consumers, swapped, "Reshape")
    head_size = _head_size(split.input[1], producer, graph)
    return helper.make_node(
        "MultiHeadAttention",
        [query, key, value, "", "attention_mask_int32"],
        list(output.output),
        name=output.name + "/fused",
        domain="com.microsoft",
        num_heads=_hidden_size(graph) // head_size,
        scale=scale,
    )


def _after_softmax(softmax: Any, consumers: dict) -> Any:
    """The MatMul with v after the softmax, past torch's NaN guard
    (``IsNaN`` / ``Where``: rows with every key masked become zeros)."""
    node = softmax
    for _ in range(3):
        users = [c for c in consumers.get(node.output[0], []) if c.op_type != "IsNaN"]
        if len(users) != 1:
            break
        node = users[0]
        if node.op_type == "MatMul":
            return node
    raise GraphPatternError(f"{softmax.name}: no MatMul with v after the softmax.")


def _heads_input(name: str, producer: dict, perm: tuple[int, ...]) -> tuple[str, Any]:
    """The [batch, tokens, hidden] tensor split into heads by Reshape then
    Transpose ``perm`` to give ``name``, and that Reshape node."""
    transpose = _expect(producer.get(name), "Transpose", None)
    if _perm(transpose) != perm:
        raise GraphPatternError(f"{transpose.name}: unexpected perm {_perm(transpose)}")
    split = _expect(producer.get(transpose.input[0]), "Reshape", transpose)
    return split.input[0], split


def _head_size(shape: str, producer: dict, graph: Any) -> int:
    """The last dimension of the [batch, tokens, heads, head size] shape that
    splits heads: stored, or the last, constant part of a Concat (torch
    exports ``[batch, tokens, -1, head size]``)."""
    node = producer.get(shape)
    if node is not None and node.op_type == "Concat":
        shape = node.input[-1]
    size = int(np.ravel(_array(shape, producer, graph))[-1])
    if size <= 0:
        raise GraphPatternError(f"{shape}: no fixed head size.")
    return size


def _hidden_size(graph: Any) -> int:
    """The model's width: the length of its first layer norm's scale."""
    from onnx import numpy_helper

    weights = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "LayerNormalization" and node.input[1] in weights:
            return int(numpy_helper.to_array(weights[node.input[1]]).shape[-1])
    raise GraphPatternError("no LayerNormalization with a stored scale.")


def _constant(name: str, producer: dict, graph: Any) -> float:
    return float(_array(name, producer, graph))


def _array(name: str, producer: dict, graph: Any) -> np.ndarray:
    """A stored tensor or a Constant node's value."""
    from onnx import numpy_helper

    for tensor in graph.initializer:
        if tensor.name == name:
            return numpy_helper.to_array(tensor)
    node = _expect(producer.get(name), "Constant", None)
    return numpy_helper.to_array(node.attribute[0].t)


def _perm(node: Any) -> tuple[int, ...]:
    return tuple(next(a.ints for a in node.attribute if a.name == "perm"))


def _expect(node: Any, op_type: str, user: Any) -> Any:
    if node is None or node.op_type != op_type:
        where = f" feeding {user.name}" if user is not None else ""
        found = node.op_type if node is not None else "a graph input"
        raise GraphPatternError(f"expected {op_type}{where}, found {found}.")
    return node


def _single(consumers: dict, node: Any, op_type: str) -> Any:
    users = [c for c in consumers.get(node.output[0], []) if c.op_type == op_type]
    if len(users) != 1:
        raise GraphPatternError(f"{node.name}: expected one {op_type} after it.")
    return users[0]


def _shape(name: str, dims: list[int]) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(dims, dtype=np.int64), name)


def _keep_needed(graph: Any, nodes: list[Any]) -> None:
    """Set the graph's nodes to those the outputs need, in order, and drop
    initializers no node reads."""
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)
    used = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)
