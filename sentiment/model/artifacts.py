"""Saving and loading the model artifact: ``model.pkl`` plus its card ``model.json``.

A pickle can run arbitrary code when loaded, so only our own artifacts are
loaded: by default only from the project's ``models/`` folder, and always only
when the pickle's SHA-256 matches the one its card recorded at training time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.pipeline import Pipeline

from sentiment import config
from sentiment.files.storage import atomic_write, file_sha256

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The model artifact is missing, foreign, or not the file that was trained."""


def card_path(model_path: str | Path) -> Path:
    """The model card (metadata JSON) that sits beside a model pickle."""
    return Path(model_path).with_suffix(".json")


def save_model(pipeline: Pipeline, path: str | Path, card: dict[str, Any]) -> dict:
    """Write the pipeline (compressed joblib) and its card; return the card as saved."""
    path = Path(path)
    atomic_write(path, lambda tmp: joblib.dump(pipeline, tmp, compress=3))
    card = {
        "format": config.MODEL_FORMAT,
        "format_version": config.MODEL_FORMAT_VERSION,
        **card,
        "model_file": path.name,
        "model_sha256": file_sha256(path),
        "model_bytes": path.stat().st_size,
    }
    text = json.dumps(card, indent=2, sort_keys=False) + "\n"
    atomic_write(card_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return card


def read_card(path: str | Path) -> dict[str, Any]:
    """Read and check the card of a model pickle."""
    card_file = card_path(path)
    if not card_file.is_file():
        raise ModelLoadError(
            f"No model card {card_file} beside {path}. Only models written by "
            "`python -m sentiment.train` (which writes both files) can be loaded."
        )
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"Model card {card_file} is unreadable: {e}") from e
    if not isinstance(card, dict) or card.get("format") != config.MODEL_FORMAT:
        raise ModelLoadError(f"{card_file} is not a sentiment model card.")
    return card


def _is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def load_model(
    path: str | Path | None = None, allow_outside_models_dir: bool = False
) -> tuple[Pipeline, dict[str, Any]]:
    """Load a model pickle and its card after checking that they belong together.

    Raises ModelLoadError when the file is missing, lies outside ``models/``
    (unless ``allow_outside_models_dir``), has no card, or its SHA-256 differs
    from the card's: the file was changed or replaced after training.
    """
    path = Path(path) if path is not None else config.DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelLoadError(
            f"No model at {path}. Train one with `python -m sentiment.train --data "
            "YOUR.csv` or check the path."
        )
    if not allow_outside_models_dir and not _is_inside(path, config.MODELS_DIR):
        raise ModelLoadError(
            f"Refusing to load {path}: it is outside {config.MODELS_DIR}, and a "
            "pickle can run code. If you trained it yourself, pass "
            "--trust-model-path (allow_outside_models_dir=True in Python)."
        )
    # One folder for the card and the model, even if models/current is switched
    # to another version while we read (sentiment.ops.model_versions).
    path = path.resolve()
    card = read_card(path)
    actual = file_sha256(path)
    if actual != card.get("model_sha256"):
        raise ModelLoadError(
            f"{path} does not match its card: SHA-256 {actual[:12]}… but the card "
            f"records {str(card.get('model_sha256'))[:12]}…. The file was changed or "
            "replaced after training; retrain or restore the original."
        )
    trained_with = card.get("versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        log.warning(
            "%s was trained with scikit-learn %s but %s is installed; predictions "
            "may differ. Install the pinned requirements or retrain.",
            path,
            trained_with,
            sklearn.__version__,
        )
    pipeline = joblib.load(path)
    if not isinstance(pipeline, Pipeline):
        raise ModelLoadError(
            f"{path} holds a {type(pipeline).__name__}, not a Pipeline."
        )
    return pipeline, card
