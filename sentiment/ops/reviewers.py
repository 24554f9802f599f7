"""Reviewer accounts: who may read logged posts and correct them on the page.

Accounts live in a TOML file (``config.users_file_from_env()``)::

    [reviewers]
    "ana" = "scrypt$16384$8$1$<salt hex>$<hash hex>"

Each password is hashed with scrypt and a random 16-byte salt of its own; the
cost parameters are stored with the hash. A sign-in is checked with
``hmac.compare_digest``, and an unknown name costs the same scrypt work as a
known one, so timing tells nothing about which names exist. The file is written
atomically with owner-only permissions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import tomllib
from pathlib import Path

from sentiment import config

_SCHEME = "scrypt"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_SALT_BYTES = 16
_KEY_BYTES = 32


class ReviewerError(ValueError):
    """A bad name, password or accounts file; the message says what to do."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password``, with a new random salt."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    n, r, p = config.SCRYPT_N, config.SCRYPT_R, config.SCRYPT_P
    key = _scrypt(password, salt, n, r, p)
    return f"{_SCHEME}${n}${r}${p}${salt.hex()}${key.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = bytes.fromhex(key)
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r + (1 << 20),
        dklen=_KEY_BYTES,
    )


# A hash to check unknown names against, so they take as long as known ones.
_NOBODY = hash_password(secrets.token_hex(16))


def read_reviewers(path: str | Path) -> dict[str, str]:
    """Name -> encoded hash; empty when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("reviewers", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ReviewerError(
            f"The reviewer accounts file {path} is unreadable ({e}). Fix it or "
            "remove it and add the reviewers again with `python -m sentiment.users "
            "add NAME`."
        ) from e
    if not isinstance(table, dict):
        raise ReviewerError(f"{path}: [reviewers] must be a table of name = hash.")
    return {str(name): str(encoded) for name, encoded in table.items()}


def check_sign_in(path: str | Path, name: str, password: str) -> bool:
    """Whether ``name`` is a reviewer in ``path`` and ``password`` is theirs."""
    accounts = read_reviewers(path)
    encoded = accounts.get(name.strip(), _NOBODY)
    matches = verify_password(password, encoded)
    return matches and name.strip() in accounts


def check_name(name: str) -> str:
    """The name, stripped; ReviewerError unless it is 1-64 plain characters."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ReviewerError(
            f"Reviewer names are 1-64 letters, digits and . _ @ - (starting with "
            f"a letter or digit), not {name!r}."
        )
    return name


def set_reviewer(path: str | Path, name: str, password: str) -> bool:
    """Add a reviewer or change their password; True when the name is new."""
    name = check_name(name)
    if len(password) < config.MIN_PASSWORD_CHARS:
        raise ReviewerError(
            f"Use a password of at least {config.MIN_PASSWORD_CHARS} characters."
        )
    accounts = read_reviewers(path)
    is_new = name not in accounts
    accounts[name] = hash_password(password)
    _write(Path(path), accounts)
    return is_new


def remove_reviewer(path: str | Path, name: str) -> bool:
    """Remove a reviewer; False when there was none of that name."""
    accounts = read_reviewers(path)
    if accounts.pop(name.strip(), None) is None:
        return False
    _write(Path(path), accounts)
    return True


def _write(path: Path, accounts: dict[str, str]) -> None:
    """Write the accounts file atomically, readable by its owner only."""
    lines = ["# Reviewer accounts: python -m sentiment.users add|remove|list", ""]
    lines += ["[reviewers]"]
    lines += [f"{json.dumps(n)} = {json.dumps(h)}" for n, h in sorted(accounts.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp: mode 0600
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
