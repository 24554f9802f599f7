"""Writing files safely (temporary file + rename) and hashing them."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Any, mode: int | None = 0o644) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over.

    A crash or an exception in ``write`` leaves either the old file or the new
    one, never half of one. The new file gets ``mode``; None keeps the mode of
    the file it replaces (or what the umask gives a new file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        # mkstemp makes it owner-only; a model is meant to be shared.
        os.chmod(tmp, _mode_of(path) if mode is None else mode)
        write(Path(tmp))
        with open(tmp, "rb+") as f:  # on disk before the rename, even on power loss
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int:
    """The permission bits of ``path``, or those a new file gets under the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
