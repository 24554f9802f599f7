"""Versioned model folders and the ``current`` pointer: a model switch in one rename.

Layout of ``models/`` once a model has been promoted::

    models/versions/<time>-<sha12>/   one folder per model, all of its files
    models/current -> versions/<time>-<sha12>      (relative symlink)
    models/model.pkl -> current/model.pkl          (and model.json, ...)

A model is copied into a hidden ``versions/.partial-*`` folder, which is renamed
into place once complete; then a new symlink is made under a temporary name and
renamed over ``current``. That rename is the only step that changes which model
is served, and rename is atomic: a crash at any moment leaves the old model or
the new one, never a mix, and nothing has to be finished by hand. Leftovers of
an interrupted run (a partial folder, a temporary link) are never read and are
removed by :func:`clear_leftovers`.

The mechanism never looks inside a model: it moves whole folders and links
every file name it finds in one, so it works whatever files a model consists of.
Loading resolves ``models/model.pkl`` once (see ``load_model``), so the card and
the model it reads come from the same folder even while ``current`` moves.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from sentiment import config
from sentiment.files.storage import atomic_write

log = logging.getLogger(__name__)

# Written into each version folder when it is created; never a model file.
VERSION_MANIFEST = "version.json"
# Written into a version folder when another model replaces it (rollback reads it).
ARCHIVED_MANIFEST = "archived.json"
_BOOKKEEPING = frozenset({VERSION_MANIFEST, ARCHIVED_MANIFEST})
_PARTIAL = ".partial-"
_TEMP_LINK = ".link-"


def stamp() -> str:
    """A sortable UTC time for folder names, to the microsecond."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def now_iso() -> str:
    """The current UTC time as written in manifests."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def fsync_dir(folder: Path) -> None:
    """Make the renames inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def versions_dir(models_dir: Path) -> Path:
    """``models/versions``."""
    return Path(models_dir) / config.VERSIONS_DIR_NAME


def current_link(models_dir: Path) -> Path:
    """``models/current``, the pointer to the served version folder."""
    return Path(models_dir) / config.CURRENT_LINK_NAME


def current_version(models_dir: Path) -> Path | None:
    """The version folder ``models/current`` points to, or None (not versioned)."""
    link = current_link(models_dir)
    if not link.is_symlink() or not link.is_dir():
        return None
    return versions_dir(models_dir) / Path(os.readlink(link)).name


def model_files(version: Path) -> list[str]:
    """The names of the model's own files in a version folder (no manifests)."""
    return sorted(
        p.name
        for p in version.iterdir()
        # Hidden: temporary files of an interrupted write, never part of a model.
        if p.is_file() and p.name not in _BOOKKEEPING and not p.name.startswith(".")
    )


def read_manifest(folder: Path, name: str) -> dict[str, Any] | None:
    """A manifest of a version (or legacy archive) folder, None if absent or torn."""
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(folder: Path, name: str, content: dict[str, Any]) -> None:
    """Write a manifest atomically (a crash leaves the old one or the new one)."""
    text = json.dumps(content, indent=2) + "\n"
    atomic_write(folder / name, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def create_version(models_dir: Path, files: Sequence[Path], sha256: str) -> Path:
    """Copy ``files`` into a new version folder, complete before it is visible."""
    versions = versions_dir(models_dir)
    name = f"{stamp()}-{sha256[:12]}"
    partial = versions / f"{_PARTIAL}{name}"
    partial.mkdir(parents=True)
    for path in files:
        atomic_write(partial / path.name, lambda tmp, p=path: shutil.copyfile(p, tmp))
    write_manifest(
        partial, VERSION_MANIFEST, {"model_sha256": sha256, "created_at": now_iso()}
    )
    fsync_dir(partial)
    version = versions / name
    os.replace(partial, version)
    fsync_dir(versions)
    return version


def _relink(path: Path, target: str) -> None:
    """Make ``path`` a symlink to ``target``, replacing what is there in one step."""
    temporary = path.with_name(f"{_TEMP_LINK}{stamp()}-{path.name}")
    os.symlink(target, temporary)
    os.replace(temporary, path)


def _link_target(name: str) -> str:
    return f"{config.CURRENT_LINK_NAME}/{name}"


def _links_through_current(models_dir: Path, name: str) -> bool:
    path = Path(models_dir) / name
    return path.is_symlink() and os.readlink(path) == _link_target(name)


def _link_names(models_dir: Path, version: Path) -> None:
    for name in model_files(version):
        if not _links_through_current(models_dir, name):
            _relink(models_dir / name, _link_target(name))


def _point_current(models_dir: Path, version: Path) -> None:
    _relink(current_link(models_dir), f"{config.VERSIONS_DIR_NAME}/{version.name}")
    fsync_dir(models_dir)


def _drop_dangling_links(models_dir: Path) -> None:
    for path in models_dir.iterdir():
        if _links_through_current(models_dir, path.name) and not path.exists():
            path.unlink()


def switch_to(models_dir: Path, version: Path) -> None:
    """Serve ``version``: link its file names through ``current``, then move it.

    Links for names the old model lacks dangle until the switch (nothing reads
    a name the served model does not have); the rename of ``current`` is the
    one step that changes the served model. Links left dangling after it (files
    the new model lacks, such as a reference profile) are removed.
    """
    models_dir = Path(models_dir)
    _link_names(models_dir, version)
    _point_current(models_dir, version)
    _drop_dangling_links(models_dir)


def adopt_plain_files(models_dir: Path, files: Sequence[Path], sha256: str) -> None:
    """Turn plain model files in ``models/`` (a fresh clone, or a model written
    there by ``train --out``) into a version folder served through ``current``.

    Every step serves the same bytes (the folder holds copies), so a crash
    between steps changes nothing a load sees.
    """
    models_dir = Path(models_dir)
    if all(_links_through_current(models_dir, p.name) for p in files):
        return
    version = create_version(models_dir, files, sha256)
    # current first: links through it then serve copies of the same bytes, and
    # only after that are the plain files replaced by links.
    _point_current(models_dir, version)
    _link_names(models_dir, version)
    _drop_dangling_links(models_dir)
    log.info(
        "Moved the model files in %s into %s.", models_dir, current_link(models_dir)
    )


def clear_leftovers(models_dir: Path) -> list[Path]:
    """Remove what an interrupted run left (never read by a load); return it."""
    models_dir = Path(models_dir)
    found = [p for p in models_dir.glob(f"{_TEMP_LINK}*") if p.is_symlink()]
    found += list(versions_dir(models_dir).glob(f"{_PARTIAL}*"))
    found += list(versions_dir(models_dir).glob("[!.]*/.*.tmp"))  # manifest writes
    for path in found:
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path)
    return found
