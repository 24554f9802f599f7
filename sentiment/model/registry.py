"""A model registry on cloud storage: versioned models and one pointer object.

Layout under a prefix such as ``s3://bucket/models/``::

    versions/<time>-<sha12>/model.pkl, model.npz, model.json, model.reference.json
    current.json        the pointer: which version is served

Version keys are written once and never overwritten. ``current.json`` names
the served version with the SHA-256 of its model and of its card, who wrote it
and when, and the versions served before it (for rollback). It is replaced
with a single PUT, which S3 and Azure Blob apply atomically: a reader gets the
old pointer or the new one, never half of one, and a version is complete
before any pointer names it. Promotion writes it (:mod:`sentiment.ops.
bucket_promotion`); a load resolves it here and checks the downloaded card
against the SHA-256 it pins, before the card's own checks of the model files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sentiment.files import remote
from sentiment.files.storage import file_sha256
from sentiment.model.artifacts import ModelLoadError, card_path, read_card

POINTER_NAME = "current.json"
VERSIONS_PREFIX = "versions"
POINTER_FORMAT = "sentiment-model-pointer"

# What a pointer records of a version (and of each one in its history).
VERSION_FIELDS = ("version", "model_file", "model_sha256", "card_sha256")


def is_registry_url(url: str | Path | None) -> bool:
    """A URL that names a registry prefix rather than a model's ``.pkl``."""
    return remote.is_url(url) and not str(url).rstrip("/").endswith(".pkl")


def pointer_url(prefix: str) -> str:
    """``PREFIX/current.json``."""
    return f"{prefix.rstrip('/')}/{POINTER_NAME}"


def version_url(prefix: str, version: str) -> str:
    """``PREFIX/versions/<version>``, the folder of one version's files."""
    return f"{prefix.rstrip('/')}/{VERSIONS_PREFIX}/{version}"


def model_url(prefix: str, entry: dict[str, Any]) -> str:
    """The URL of the ``.pkl`` of the version an entry (pointer or history) names."""
    return f"{version_url(prefix, entry['version'])}/{entry['model_file']}"


def read_pointer(prefix: str) -> dict[str, Any] | None:
    """The registry's pointer, or None when nothing was promoted there yet.

    Raises ModelLoadError when the object is not a pointer this code wrote.
    """
    try:
        data = remote.read_object(pointer_url(prefix))
    except FileNotFoundError:
        return None
    try:
        pointer = json.loads(data)
    except ValueError as error:
        raise ModelLoadError(f"{pointer_url(prefix)} is not JSON: {error}") from error
    if not isinstance(pointer, dict) or pointer.get("format") != POINTER_FORMAT:
        raise ModelLoadError(
            f"{pointer_url(prefix)} is not a model pointer (format "
            f"{POINTER_FORMAT!r}). Promote a model there with `python -m "
            f"sentiment.promote CANDIDATE.pkl --models-dir {prefix}`."
        )
    return pointer


def served_entry(prefix: str) -> dict[str, Any]:
    """The pointer of a registry that serves a model; a clear error if none."""
    pointer = read_pointer(prefix)
    if pointer is None:
        raise ModelLoadError(
            f"No model is served from {prefix}: {pointer_url(prefix)} does not "
            "exist. Promote one with `python -m sentiment.promote CANDIDATE.pkl "
            f"--models-dir {prefix}`, or give the URL of a model's .pkl."
        )
    return pointer


def version_entry(version: str, model: Path) -> dict[str, Any]:
    """What a pointer records of ``version``, whose local model file is ``model``."""
    return {
        "version": version,
        "model_file": model.name,
        "model_sha256": read_card(model)["model_sha256"],
        "card_sha256": file_sha256(card_path(model)),
    }


def check_pinned_card(model: Path, entry: dict[str, Any], url: str) -> None:
    """Refuse a downloaded version whose card is not the one its pointer pins.

    The card pins the model's other files by SHA-256 (checked at load), so a
    changed object anywhere in the version is refused.
    """
    if file_sha256(card_path(model)) != entry.get("card_sha256"):
        raise ModelLoadError(
            f"Refusing {url}: its card is not the one {POINTER_NAME} names "
            f"(SHA-256 {str(entry.get('card_sha256'))[:12]}…). An object in "
            f"{VERSIONS_PREFIX}/ was changed after promotion; promote the model "
            "again as a new version, never overwrite one."
        )
