"""Promotion and rollback of the served model behind ``python -m sentiment.promote``:
the gate, and the switch between version folders (see
:mod:`sentiment.ops.model_versions`), which a crash cannot leave half done."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.artifacts import card_path, load_model, read_card
from sentiment.model.export import arrays_path
from sentiment.model.metrics import evaluate_predictor
from sentiment.model.predictor import Predictor
from sentiment.model.remote_model import localize
from sentiment.ops import model_versions as versions
from sentiment.ops.errors import PromotionError
from sentiment.ops.reference import reference_path

log = logging.getLogger(__name__)


_MANIFEST = versions.ARCHIVED_MANIFEST


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
    archived: Path | str | None = None  # the replaced version (folder or URL)

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


def _current_files(models_dir: Path) -> tuple[list[Path], str | None]:
    """The served model's files in ``models/`` and its SHA-256 (None: no model)."""
    current = models_dir / config.DEFAULT_MODEL_PATH.name
    files = artifact_files(current)
    if not files or not card_path(current).is_file():
        return [], None
    return files, read_card(current)["model_sha256"]


def _prepare(models_dir: Path) -> Path | None:
    """Clear leftovers and version plain files; the served version folder."""
    recover(models_dir)
    files, sha = _current_files(models_dir)
    if sha is not None:
        versions.adopt_plain_files(models_dir, files, sha)
    return versions.current_version(models_dir)


def _mark_archived(version: Path | None, reason: str, replaced_by: str | None) -> None:
    """Record why ``version`` stops being served (before it stops: see rollback)."""
    if version is None:
        return
    sha = (versions.read_manifest(version, versions.VERSION_MANIFEST) or {}).get(
        "model_sha256"
    )
    manifest = {
        "archived_at": versions.now_iso(),
        "reason": reason,
        "model_sha256": sha,
        "replaced_by": replaced_by,
    }
    versions.write_manifest(version, _MANIFEST, manifest)


def _install(models_dir: Path, source_model: Path, reason: str) -> Path | None:
    """Copy ``source_model``'s files into a new version and serve it; return the
    version folder it replaced (None when there was no model).

    The replaced version is marked archived before the switch: a crash in
    between leaves it served and marked, and rollback never picks the served
    version, so the mark is harmless until it is rewritten.
    """
    old = _prepare(models_dir)
    new_sha = read_card(source_model)["model_sha256"]
    new = versions.create_version(models_dir, artifact_files(source_model), new_sha)
    _mark_archived(old, reason, new_sha)
    versions.switch_to(models_dir, new)
    return old


def recover(models_dir: Path = config.MODELS_DIR) -> bool:
    """Remove what an interrupted promote or rollback left; True if it found any.

    Never needed for a consistent model: a crash leaves the old model or the
    new one served. It only tidies unfinished copies, and promote and rollback
    call it first.
    """
    models_dir = Path(models_dir)
    found = versions.clear_leftovers(models_dir)
    # From before versioned folders (issue 13): staging and partial archives.
    found += list(models_dir.glob(".staging-*"))
    found += list((models_dir / config.ARCHIVE_DIR_NAME).glob(".partial-*"))
    for folder in found:
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
    if found:
        log.warning("Removed %d leftover(s) of an interrupted swap.", len(found))
    return bool(found)


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


def gate(
    candidate: Path,
    current: Path | None,
    eval_path: str | Path | None,
    margin: float,
    trust_candidate: bool,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> Decision:
    """Score ``candidate`` and the ``current`` model (None: there is none) on
    the same labelled set; promoted (not yet installed) if it is not worse.

    The current model is loaded as trusted: it lies where the caller serves from.
    """
    eval_path = Path(eval_path or config.SEMEVAL_TEST)
    data = load_labelled(eval_path, text_col, label_col, label_map)
    cand = _metrics(candidate, data.texts, data.labels, trust_candidate)
    if current is None:
        return Decision(True, "no current model", cand, None, margin)
    now = _metrics(current, data.texts, data.labels, True)
    if now["model_sha256"] == cand["model_sha256"]:
        return Decision(False, "the candidate is the current model", cand, now, margin)
    if cand["macro_recall"] < now["macro_recall"] - margin:
        return Decision(
            False,
            f"macro-recall {cand['macro_recall']:.4f} is below the current "
            f"{now['macro_recall']:.4f} minus the margin {margin} on {eval_path.name}",
            cand,
            now,
            margin,
        )
    reason = (
        f"macro-recall {cand['macro_recall']:.4f} vs current "
        f"{now['macro_recall']:.4f} (margin {margin}) on {eval_path.name}"
    )
    return Decision(True, reason, cand, now, margin)


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
    """Gate ``candidate`` (a path or URL) against the current model and promote
    it if it passes."""
    models_dir = Path(models_dir)
    recover(models_dir)
    candidate, trust = localize(candidate, allow_outside_models_dir)
    current_path = models_dir / config.DEFAULT_MODEL_PATH.name
    decision = gate(
        candidate,
        current_path if current_path.is_file() else None,
        eval_path,
        margin,
        trust,
        text_col,
        label_col,
        label_map,
    )
    if decision.promoted:
        decision.archived = _install(models_dir, candidate, REPLACED)
    return decision


def archive_entries(models_dir: str | Path = config.MODELS_DIR) -> list[Path]:
    """Replaced models, oldest replacement first (the served one excluded).

    Version folders marked archived, and entries of the legacy ``archive/``.
    """
    models_dir = Path(models_dir)
    served = versions.current_version(models_dir)
    entries = []
    for folder in [
        *versions.versions_dir(models_dir).glob("[!.]*"),
        *(models_dir / config.ARCHIVE_DIR_NAME).glob("[!.]*"),
    ]:
        manifest = versions.read_manifest(folder, _MANIFEST)
        if manifest is not None and folder != served:
            entries.append((str(manifest.get("archived_at")), folder))
    return [folder for _, folder in sorted(entries)]


def rollback(models_dir: str | Path = config.MODELS_DIR) -> Path:
    """Serve the most recently replaced model again; return its folder.

    The model it replaces is marked "rolled back", which rollback skips, so
    repeated rollbacks walk back through the replacements.
    """
    models_dir = Path(models_dir)
    served = _prepare(models_dir)
    for entry in reversed(archive_entries(models_dir)):
        if versions.read_manifest(entry, _MANIFEST)["reason"] != REPLACED:
            continue
        model = entry / config.DEFAULT_MODEL_PATH.name
        _, card = load_model(model, allow_outside_models_dir=True)  # intact?
        if entry.parent != versions.versions_dir(models_dir):  # legacy archive
            restored = versions.create_version(
                models_dir, artifact_files(model), card["model_sha256"]
            )
        else:
            restored = entry
        _mark_archived(served, ROLLED_BACK, card["model_sha256"])
        versions.switch_to(models_dir, restored)
        # Served now: no longer a replaced model (until it is replaced again).
        (restored / _MANIFEST).unlink(missing_ok=True)
        if restored != entry:
            shutil.rmtree(entry)
        return restored
    raise PromotionError(
        f"No replaced model in {versions.versions_dir(models_dir)} to roll back to."
    )
