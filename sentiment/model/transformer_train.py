"""``python -m sentiment.train --backend transformer``: fine-tune, export to
ONNX, then quantise, calibrate and save (:mod:`sentiment.model.transformer_export`).

Needs torch (``make transformer``); imported only by the train command.
Steps, each resumable: fine-tune into ``work_dir`` (checkpoints), export the
checkpoint to fp32 ONNX, quantise it (int8 matrices, 4-bit embeddings), fit
the class bias and temperature on the held-out split with the quantised
model, as it will be served, and save ``model.onnx``, ``tokenizer.json`` and
``model.json``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.labelled import held_out_split, load_labelled
from sentiment.model.finetune import FinetuneSettings, build_model, finetune
from sentiment.model.transformer import LIMITATIONS
from sentiment.model.transformer_export import calibrate_and_save, quantise
from sentiment.model.word_vectors import encoder_directory

log = logging.getLogger(__name__)


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
    data = load_labelled(data_path)
    train_x, val_x, train_y, val_y = held_out_split(
        data.texts, data.labels, settings.seed, source=data_path
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
    fields = {
        "hyperparameters": asdict(settings),
        "steps_done": _steps_done(checkpoint),
        "training_seconds": _training_seconds(work_dir / "train_log.jsonl"),
        "limitations": list(LIMITATIONS) + [training_limitation(settings)],
        "versions": _versions(),
    }
    return calibrate_and_save(
        data_path, fp32, int8, tokenizer, out_dir, fields, settings.seed, test_path
    )


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
