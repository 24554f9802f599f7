"""Promotion and rollback on a model registry in a bucket
(``python -m sentiment.promote CANDIDATE.pkl --models-dir s3://bucket/models/``).

The same gate as the local promotion (:func:`sentiment.ops.promotion.gate`)
decides. A promoted model is uploaded whole to new keys
``versions/<time>-<sha12>/`` (never overwritten), and only then is the pointer
``current.json`` replaced, with one PUT: the single step that changes the
served model (:mod:`sentiment.model.registry`). A run that fails or is killed
before that PUT leaves the pointer, so the served model, as it was; at worst
an unreferenced version folder is left behind, which nothing reads.

The gate takes a while; another promotion or rollback may switch the pointer
meanwhile. The pointer is read again just before the PUT, and a run that finds
it changed refuses, so it never replaces a model it did not gate against. Two
runs whose re-read and PUT fall within the same instant can still both write
(the last one wins); run one promotion at a time.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files import remote
from sentiment.model import registry
from sentiment.model.artifacts import load_model, read_card
from sentiment.model.remote_model import fetch_version, localize
from sentiment.ops import model_versions as versions
from sentiment.ops.errors import PromotionError
from sentiment.ops.promotion import Decision, artifact_files, gate


def promote_in_bucket(
    candidate: str | Path,
    prefix: str,
    eval_path: str | Path | None = None,
    margin: float = config.PROMOTION_MARGIN,
    allow_outside_models_dir: bool = False,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> Decision:
    """Gate ``candidate`` (a path or URL) against the model ``prefix`` serves;
    if it passes, upload it as a new version and point ``current.json`` at it."""
    pointer = registry.read_pointer(prefix)
    current = None if pointer is None else fetch_version(prefix, pointer, True)
    local, trust = localize(candidate, allow_outside_models_dir)
    decision = gate(
        local, current, eval_path, margin, trust, text_col, label_col, label_map
    )
    if not decision.promoted:
        return decision
    entry = _upload_version(prefix, local)
    history = [] if pointer is None else [*pointer["history"], _entry(pointer)]
    _write_pointer(prefix, entry, "promoted", history, pointer)
    if pointer is not None:
        decision.archived = registry.version_url(prefix, pointer["version"])
    return decision


def rollback_in_bucket(prefix: str) -> str:
    """Serve the model the current one replaced again; return its version URL.

    The version rolled back from leaves the history, so repeated rollbacks
    walk back through the replacements. The target is downloaded and checked
    (its pinned card, then every file against the card) before the switch.
    """
    pointer = registry.read_pointer(prefix)
    if pointer is None or not pointer["history"]:
        raise PromotionError(f"No replaced model in {prefix} to roll back to.")
    *earlier, target = pointer["history"]
    load_model(fetch_version(prefix, target, True), allow_outside_models_dir=True)
    _write_pointer(prefix, target, "rolled back", earlier, pointer)
    return registry.version_url(prefix, target["version"])


def _entry(record: dict[str, Any]) -> dict[str, Any]:
    """The fields that identify a version, from a pointer or a history entry."""
    return {name: record[name] for name in registry.VERSION_FIELDS}


def _upload_version(prefix: str, model: Path) -> dict[str, Any]:
    """Upload ``model``'s files to new, never used keys; return its entry."""
    version = f"{versions.stamp()}-{read_card(model)['model_sha256'][:12]}"
    folder = registry.version_url(prefix, version)
    if remote.list_objects(folder):  # the stamp makes this all but impossible
        raise PromotionError(f"{folder} already holds objects; versions are final.")
    remote.upload_files(artifact_files(model), folder)
    return registry.version_entry(version, model)


def _write_pointer(
    prefix: str,
    entry: dict[str, Any],
    action: str,
    history: list[dict[str, Any]],
    replaced: dict[str, Any] | None,
) -> None:
    """Replace ``current.json`` with one PUT (the switch of the served model).

    ``history`` is what rollback can return to, latest last; ``replaced`` the
    pointer this one replaces (None: the first promotion), which must still be
    there.
    """
    if registry.read_pointer(prefix) != replaced:
        raise PromotionError(
            f"{registry.pointer_url(prefix)} changed while this ran (another "
            "promotion or rollback); nothing was switched. Run it again."
        )
    pointer = {
        "format": registry.POINTER_FORMAT,
        **_entry(entry),
        "action": action,
        "updated_at": versions.now_iso(),
        "updated_by": _operator(),
        "previous": replaced and replaced["version"],
        "history": history,
    }
    data = (json.dumps(pointer, indent=2) + "\n").encode("utf-8")
    remote.write_object(registry.pointer_url(prefix), data)


def _operator() -> str:
    """``user@host`` of this process, for the record (not a credential)."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a container user without a passwd entry
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"
