"""Saving and loading the model: ``model.npz`` (arrays), ``model.pkl`` (the
scikit-learn pipeline, for explanations and retraining tools) and their card
``model.json``.

Serving loads the arrays, which never run code. Every file is read once into
memory, its SHA-256 is computed on those bytes and compared with the card, and
it is loaded from the same bytes, so nothing can be swapped in between. The
card itself is signed (Ed25519, :mod:`sentiment.model.signing`): a model is
loaded from ``models/`` only when its card is signed by a trusted key, and from
elsewhere only when the caller vouches for the path (``--trust-model-path``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.storage import atomic_write, file_sha256
from sentiment.model.export import ArraysError, arrays_path, read_arrays
from sentiment.model.signing import SignatureError, read_private_key, sign_card
from sentiment.model.signing import verify_card

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The model artifact is missing, foreign, or not the file that was trained."""


def card_path(model_path: str | Path) -> Path:
    """The model card (metadata JSON) that sits beside a model."""
    return Path(model_path).with_suffix(".json")


def save_model(pipeline: Any, path: str | Path, card: dict[str, Any]) -> dict:
    """Write the pipeline (joblib), its arrays (``.npz``) and its signed card.

    The card is signed with the key in ``$SENTIMENT_SIGNING_KEY_FILE``; without
    one it is written unsigned (with a warning), and loads only with
    ``--trust-model-path``. Returns the card as saved.
    """
    import joblib

    from sentiment.model.export import export_arrays, write_arrays

    path = Path(path)
    atomic_write(path, lambda tmp: joblib.dump(pipeline, tmp, compress=3))
    arrays = arrays_path(path)
    write_arrays(export_arrays(pipeline), arrays)
    card = {
        "format": config.MODEL_FORMAT,
        "format_version": config.MODEL_FORMAT_VERSION,
        **card,
        "model_file": path.name,
        "model_sha256": file_sha256(path),
        "model_bytes": path.stat().st_size,
        "arrays_file": arrays.name,
        "arrays_sha256": file_sha256(arrays),
        "arrays_bytes": arrays.stat().st_size,
    }
    return write_card(path, card)


def write_card(path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Sign ``card`` when a signing key is configured and write it beside ``path``."""
    card = signed_if_configured(card, card_path(path))
    text = json.dumps(card, indent=2, sort_keys=False) + "\n"
    atomic_write(card_path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return card


def signed_if_configured(card: dict[str, Any], card_file: Path) -> dict[str, Any]:
    """``card`` signed with ``$SENTIMENT_SIGNING_KEY_FILE``; without a key, the
    card unsigned (any old signature dropped) and a warning naming ``card_file``."""
    key_file = config.signing_key_path_from_env()
    if key_file is not None:
        return sign_card(card, read_private_key(key_file))
    log.warning(
        "%s is not signed (%s is not set): it will load only from a path you "
        "vouch for. See README, 'Model files and signing'.",
        card_file,
        config.SIGNING_KEY_ENV,
    )
    return {k: v for k, v in card.items() if k != "signature"}


def read_card(path: str | Path) -> dict[str, Any]:
    """Read a model's card (not yet checking its signature)."""
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


def is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def load_card(path: Path, trusted_path: bool) -> dict[str, Any]:
    """The card of the model at ``path``, after checking where it is and who signed it.

    Outside ``models/`` only a ``trusted_path`` is read. A card that is not
    signed by a trusted key loads only from a ``trusted_path`` (with a
    warning); a signature that does not match is always refused.
    """
    if not trusted_path and not is_inside(path, config.MODELS_DIR):
        raise ModelLoadError(
            f"Refusing to load {path}: it is outside {config.MODELS_DIR}. If you "
            "trained it yourself, pass --trust-model-path "
            "(allow_outside_models_dir=True in Python)."
        )
    card = read_card(path)
    check_signature(card, card_path(path), trusted_path)
    return card


def check_signature(
    card: dict[str, Any],
    card_file: Path,
    trusted_path: bool,
    trust_hint: str = "pass --trust-model-path for a model you trained yourself",
) -> None:
    """Refuse a card not signed by a trusted key, unless its path is trusted
    (then with a warning); a signature that does not match is always refused.
    ``trust_hint`` tells the user how to vouch for a path."""
    try:
        verify_card(card, config.trusted_keys_from_env())
    except SignatureError as error:
        if not trusted_path or "signature" in card:
            raise ModelLoadError(
                f"Refusing {card_file}: {error}. Retrain with "
                f"{config.SIGNING_KEY_ENV} set, or {trust_hint}."
            ) from error
        log.warning("%s: %s; loading it because its path is trusted.", card_file, error)


def verified_bytes(path: Path, expected_sha256: object) -> bytes:
    """The bytes of ``path``, read once and checked against the card's SHA-256."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelLoadError(f"Cannot read {path}: {error}") from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ModelLoadError(
            f"{path} does not match its card: SHA-256 {actual[:12]}… but the card "
            f"records {str(expected_sha256)[:12]}…. The file was changed or "
            "replaced after training; retrain or restore the original."
        )
    return data


def _resolve(path: str | Path | None) -> Path:
    path = Path(path) if path is not None else config.DEFAULT_MODEL_PATH
    if not card_path(path).is_file() and not path.is_file():
        raise ModelLoadError(
            f"No model at {path}. Train one with `python -m sentiment.train --data "
            "YOUR.csv` or check the path."
        )
    # One folder for the card and the model, even if models/current is switched
    # to another version while we read (sentiment.ops.model_versions).
    return path.resolve()


def load_fast_model(
    path: str | Path | None = None, allow_outside_models_dir: bool = False
) -> tuple[Any, dict[str, Any]] | None:
    """The model's arrays as a :class:`~sentiment.model.fast.FastModel`, and its card.

    None when the card records no arrays (a model saved before they existed).
    """
    path = _resolve(path)
    card = load_card(path, allow_outside_models_dir)
    if "arrays_sha256" not in card:
        return None
    from sentiment.model.fast import FastModel

    file = path.with_name(str(card.get("arrays_file", arrays_path(path).name)))
    data = verified_bytes(file, card["arrays_sha256"])
    try:
        arrays, meta = read_arrays(data, str(file))
    except ArraysError as error:
        raise ModelLoadError(str(error)) from error
    return FastModel(arrays, meta), card


def load_pipeline(path: Path, card: dict[str, Any]) -> Any:
    """The scikit-learn pipeline of a model whose ``card`` was already checked."""
    import joblib
    import sklearn
    from sklearn.pipeline import Pipeline

    data = verified_bytes(path, card.get("model_sha256"))
    trained_with = card.get("versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        log.warning(
            "%s was trained with scikit-learn %s but %s is installed; predictions "
            "may differ. Install the pinned requirements or retrain.",
            path,
            trained_with,
            sklearn.__version__,
        )
    pipeline = joblib.load(io.BytesIO(data))
    if not isinstance(pipeline, Pipeline):
        raise ModelLoadError(
            f"{path} holds a {type(pipeline).__name__}, not a Pipeline."
        )
    return pipeline


def load_model(
    path: str | Path | None = None, allow_outside_models_dir: bool = False
) -> tuple[Any, dict[str, Any]]:
    """The scikit-learn pipeline and its card, after every check of :func:`load_card`.

    Raises ModelLoadError when the file is missing, lies outside ``models/``
    (unless ``allow_outside_models_dir``), has no card or an unsigned one, or
    its SHA-256 differs from the card's.
    """
    path = _resolve(path)
    if not path.is_file():
        raise ModelLoadError(f"No model pickle at {path}.")
    card = load_card(path, allow_outside_models_dir)
    return load_pipeline(path, card), card
