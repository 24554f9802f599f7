"""A model on cloud storage (``--model s3://bucket/models/model.pkl``).

Its files (``model.pkl``, ``model.npz``, ``model.json`` and, if there,
``model.reference.json``) are downloaded to a private temporary folder and
loaded from there by the usual checked loader (SHA-256 of every file against
the card, the card's Ed25519 signature). A bucket is not ``models/``: a
downloaded model loads only when its card is signed by a trusted key, or
when the caller vouches for the URL (``--trust-model-path``, or
``$SENTIMENT_MODEL_PATH`` set by the operator); a signature that does not
verify, or a file that does not match the card, is always refused.

A URL that is not a ``.pkl`` names a registry prefix (``s3://bucket/models/``,
:mod:`sentiment.model.registry`): its pointer says which version to download,
and the downloaded card must be the one the pointer pins.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sentiment import config
from sentiment.files import remote
from sentiment.model import registry
from sentiment.model.artifacts import ModelLoadError, read_card
from sentiment.model.signing import SignatureError, verify_card


def localize(path: str | Path | None, trusted: bool) -> tuple[Path | None, bool]:
    """A model path to load: a URL downloaded and checked here (then trusted,
    its origin being checked), a local path (or None: the default) as given."""
    if remote.is_url(path):
        return fetch_model(str(path), trusted), True
    return (None if path is None else Path(path)), trusted


def model_urls(url: str) -> tuple[list[str], list[str]]:
    """The URLs of a model's required files and of its optional ones."""
    folder, name = remote.parent_url(url), remote.url_name(url)
    stem = Path(name).stem
    required = [url, f"{folder}/{stem}.npz", f"{folder}/{stem}.json"]
    return required, [f"{folder}/{stem}.reference.json"]


def fetch_model(url: str, trusted_url: bool) -> Path:
    """Download the model at ``url`` (a ``.pkl``, or the version a registry
    prefix serves); return the local path of its ``.pkl``.

    Raises ModelLoadError unless the card is signed by a trusted key or
    ``trusted_url``. The caller then loads the returned path as a trusted
    one: the check of where it came from is done here.
    """
    if registry.is_registry_url(url):
        return fetch_version(url, registry.served_entry(url), trusted_url)
    local = _download_model(url)
    if not trusted_url:
        _require_trusted_signature(url, local)
    return local


def fetch_version(prefix: str, entry: dict, trusted_url: bool) -> Path:
    """Download the registry version ``entry`` names (a pointer, or one in its
    history) and check its card is the one ``entry`` pins."""
    url = registry.model_url(prefix, entry)
    local = _download_model(url)
    registry.check_pinned_card(local, entry, url)
    if not trusted_url:
        _require_trusted_signature(url, local)
    return local


def _download_model(url: str) -> Path:
    """The model's files in a private temporary folder; the local ``.pkl``."""
    # Kept until the process ends: the pickle is read later, when an
    # explanation first asks for the pipeline.
    folder = Path(tempfile.mkdtemp(prefix="sentiment-model-"))
    atexit.register(shutil.rmtree, folder, True)
    required, optional = model_urls(url)
    try:
        remote.download(required, folder)
    except FileNotFoundError as error:
        raise ModelLoadError(
            f"{error} A model on cloud storage needs its .pkl, .npz and .json "
            "side by side, as `python -m sentiment.train --out URL` uploads them."
        ) from error
    remote.download(optional, folder, optional=True)
    return folder / remote.url_name(url)


def _require_trusted_signature(url: str, local: Path) -> None:
    """Refuse a downloaded model whose card no trusted key signed."""
    try:
        verify_card(read_card(local), config.trusted_keys_from_env())
    except SignatureError as error:
        raise ModelLoadError(
            f"Refusing {url}: {error}. A model from cloud storage loads only when "
            f"its card is signed by a trusted key ({config.TRUSTED_KEYS_ENV}), or "
            "with --trust-model-path for a model you trained yourself."
        ) from error
