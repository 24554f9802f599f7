"""Promotion and rollback of the served model: the gate, the archive and the
crash-safe swap of ``models/`` behind ``python -m sentiment.promote``."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.files.storage import atomic_write
from sentiment.model.artifacts import card_path, load_model, read_card
from sentiment.model.export import arrays_path
from sentiment.model.metrics import evaluate_predictor
from sentiment.model.predictor import Predictor
from sentiment.ops.errors import PromotionError  # noqa: F401 (its home until now)
from sentiment.ops.reference import reference_path

log = logging.getLogger(__name__)


_JOURNAL = ".promotion-journal.json"


_MANIFEST = "archived.json"


REPLACED = "replaced"


ROLLED_BACK = "rolled back"


@dataclass
class Decision:
    """The outcome of :func:`promote`."""

    promoted: bool
    reason: str
    candidate: dict[str, Any]
    current: dict[str, Any] | None
    margin: float
    archived: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "archived": self.archived and str(self.archived)}


def artifact_files(model_path: Path) -> list[Path]:
    """The model, its arrays, its card and (if any) its reference profile."""
    files = [
        model_path,
        arrays_path(model_path),
        card_path(model_path),
        reference_path(model_path),
    ]
    return [path for path in files if path.is_file()]


def _copy(source: Path, target: Path) -> None:
    atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _archive(models_dir: Path, reason: str, replaced_by: str | None) -> Path | None:
    """Copy the current files into a new archive entry (renamed in whole)."""
    current = models_dir / config.DEFAULT_MODEL_PATH.name
    files = artifact_files(current)
    if not files:
        return None
    sha = read_card(current)["model_sha256"]
    archive = models_dir / config.ARCHIVE_DIR_NAME
    entry = archive / f"{_stamp()}-{sha[:12]}"
    partial = archive / f".partial-{entry.name}"
    partial.mkdir(parents=True)
    for path in files:
        _copy(path, partial / path.name)
    manifest = {
        "archived_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reason": reason,
        "model_sha256": sha,
        "replaced_by": replaced_by,
    }
    (partial / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial, entry)
    _fsync_dir(archive)
    return entry


def _install(models_dir: Path, source_model: Path, reason: str) -> Path | None:
    """Archive the current model, then swap in ``source_model``'s files."""
    target = models_dir / config.DEFAULT_MODEL_PATH.name
    new_sha = read_card(source_model)["model_sha256"]
    staging = models_dir / f".staging-{_stamp()}"
    staging.mkdir(parents=True)
    sources = {
        target.name: source_model,
        arrays_path(target).name: arrays_path(source_model),
        card_path(target).name: card_path(source_model),
        reference_path(target).name: reference_path(source_model),
    }
    for name, source in sources.items():
        if source.is_file():
            _copy(source, staging / name)
    archived = _archive(models_dir, reason, new_sha)
    journal = {
        "staging": staging.name,
        "install": [name for name in sources if (staging / name).is_file()],
        # A stale profile must not outlive the model it describes.
        "remove": [name for name in sources if not (staging / name).is_file()],
    }
    text = json.dumps(journal) + "\n"
    atomic_write(models_dir / _JOURNAL, lambda tmp: tmp.write_text(text))
    _apply(models_dir, journal)
    return archived


def _apply(models_dir: Path, journal: dict[str, Any]) -> None:
    staging = models_dir / journal["staging"]
    for name in journal["install"]:
        if (staging / name).is_file():  # already moved if we are resuming
            os.replace(staging / name, models_dir / name)
    for name in journal["remove"]:
        (models_dir / name).unlink(missing_ok=True)
    _fsync_dir(models_dir)
    shutil.rmtree(staging, ignore_errors=True)
    (models_dir / _JOURNAL).unlink()


def recover(models_dir: Path = config.MODELS_DIR) -> bool:
    """Finish a swap that a crash interrupted; clear unfinished copies.

    Returns True when a swap was finished. Without a journal, models/ was not
    touched yet, so leftovers (staging or partial archive folders) are removed.
    """
    models_dir = Path(models_dir)
    journal_path = models_dir / _JOURNAL
    if journal_path.is_file():
        _apply(models_dir, json.loads(journal_path.read_text()))
        log.warning("Finished an interrupted model swap in %s.", models_dir)
        return True
    leftovers = list(models_dir.glob(".staging-*"))
    leftovers += list((models_dir / config.ARCHIVE_DIR_NAME).glob(".partial-*"))
    for folder in leftovers:
        shutil.rmtree(folder, ignore_errors=True)
    return False


def _metrics(model: Path, texts: list[str], labels: list[str], trust: bool) -> dict:
    pipeline, card = load_model(model, allow_outside_models_dir=trust)
    metrics = evaluate_predictor(Predictor(pipeline, card), texts, labels)
    return {
        "model": str(model),
        "model_sha256": card["model_sha256"],
        "macro_recall": metrics["macro_recall"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "n": metrics["n"],
    }


def promote(
    candidate: str | Path,
    eval_path: str | Path | None = None,
    margin: float = config.PROMOTION_MARGIN,
    models_dir: str | Path = config.MODELS_DIR,
    allow_outside_models_dir: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> Decision:
    """Gate ``candidate`` against the current model and promote it if it passes."""
    models_dir = Path(models_dir)
    recover(models_dir)
    eval_path = Path(eval_path or config.SEMEVAL_TEST)
    data = load_labelled(eval_path, text_col, label_col, label_map)
    cand = _metrics(Path(candidate), data.texts, data.labels, allow_outside_models_dir)
    current_path = models_dir / config.DEFAULT_MODEL_PATH.name
    current = None
    if current_path.is_file():
        # The current model lives in models_dir, which the caller chose.
        current = _metrics(current_path, data.texts, data.labels, True)
        if current["model_sha256"] == cand["model_sha256"]:
            return Decision(
                False, "the candidate is the current model", cand, current, margin
            )
        floor = current["macro_recall"] - margin
        if cand["macro_recall"] < floor:
            return Decision(
                False,
                f"macro-recall {cand['macro_recall']:.4f} is below the current "
                f"{current['macro_recall']:.4f} minus the margin {margin} on "
                f"{eval_path.name}",
                cand,
                current,
                margin,
            )
    archived = _install(models_dir, Path(candidate), REPLACED)
    reason = (
        "no current model"
        if current is None
        else f"macro-recall {cand['macro_recall']:.4f} vs current "
        f"{current['macro_recall']:.4f} (margin {margin}) on {eval_path.name}"
    )
    return Decision(True, reason, cand, current, margin, archived)


def archive_entries(models_dir: str | Path = config.MODELS_DIR) -> list[Path]:
    """Archived models, oldest first."""
    archive = Path(models_dir) / config.ARCHIVE_DIR_NAME
    return sorted(p for p in archive.glob("*") if (p / _MANIFEST).is_file())


def rollback(models_dir: str | Path = config.MODELS_DIR) -> Path:
    """Restore the most recently replaced model; return the archive entry used."""
    models_dir = Path(models_dir)
    recover(models_dir)
    current_model = models_dir / config.DEFAULT_MODEL_PATH.name
    current_sha = (
        read_card(current_model)["model_sha256"]
        if card_path(current_model).is_file()
        else None
    )
    for entry in reversed(archive_entries(models_dir)):
        manifest = json.loads((entry / _MANIFEST).read_text())
        if manifest["reason"] != REPLACED:
            continue
        if manifest["model_sha256"] == current_sha:
            # Restored by a rollback that died before removing the entry.
            shutil.rmtree(entry)
            continue
        model = entry / config.DEFAULT_MODEL_PATH.name
        load_model(model, allow_outside_models_dir=True)  # intact before swapping in
        _install(models_dir, model, ROLLED_BACK)
        shutil.rmtree(entry)
        return entry
    raise PromotionError(
        f"No replaced model in {models_dir / config.ARCHIVE_DIR_NAME} to roll back to."
    )
