"""API keys: who may call /predict* and /brands*.

Keys come from ``SENTIMENT_API_KEYS`` (plain, comma-separated) and/or a file
of salted hashes (``SENTIMENT_API_KEYS_FILE``), one ``name:salt:digest`` line
per key, where ``digest`` is the hex SHA-256 of the salt's bytes followed by
the key's UTF-8 bytes. ``python -m sentiment.api --new-key NAME`` makes a key
and its line. A key is a long random token, so one salted SHA-256 is enough to
keep the file useless to a reader (a slow password hash would only slow every
request); every configured key is compared, in constant time, on every check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from sentiment import config

BEARER = "bearer "
KEY_BYTES = 32  # random bytes in a new key (43 URL-safe characters)


class ApiKeyError(ValueError):
    """The keys are configured wrongly; the message says what to fix."""


@dataclass(frozen=True)
class HashedKey:
    """One accepted key, as stored: a name for the logs, a salt and a digest."""

    name: str
    salt: bytes
    digest: bytes

    def line(self) -> str:
        """The key's line in a keys file."""
        return f"{self.name}:{self.salt.hex()}:{self.digest.hex()}"


def hash_key(name: str, key: str, salt: bytes | None = None) -> HashedKey:
    """The stored form of ``key``, with a new random salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    return HashedKey(name, salt, hashlib.sha256(salt + key.encode()).digest())


def new_key(name: str) -> tuple[str, HashedKey]:
    """A new random key and its line for the keys file."""
    if not name or ":" in name or not name.isprintable():
        raise ApiKeyError(f"Key name {name!r}: use printable text without ':'.")
    key = secrets.token_urlsafe(KEY_BYTES)
    return key, hash_key(name, key)


def read_keys_file(path: Path) -> list[HashedKey]:
    """The keys in a file of ``name:salt-hex:sha256-hex`` lines (# comments)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ApiKeyError(
            f"Cannot read the API keys file {path} ({e}); check "
            f"{config.API_KEYS_FILE_ENV}."
        ) from e
    keys = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        salt_hex, _, digest_hex = rest.partition(":")
        try:
            salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
        except ValueError:
            salt = digest = b""
        if not name or not salt or len(digest) != hashlib.sha256().digest_size:
            raise ApiKeyError(
                f"{path} line {number} is not name:salt-hex:sha256-hex; make "
                "lines with `python -m sentiment.api --new-key NAME`."
            )
        keys.append(HashedKey(name, salt, digest))
    return keys


class ApiKeys:
    """The accepted keys; :meth:`check` says which one a request presented."""

    def __init__(self, keys: Sequence[HashedKey]) -> None:
        self.keys = list(keys)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiKeys | None:
        """The configured keys, or None when ``SENTIMENT_API_AUTH=off``.

        Raises ApiKeyError when keys are required but none are configured, so
        the server stops at start-up instead of refusing every request.
        """
        env = {} if environ is None else {"environ": environ}
        if not config.api_auth_from_env(**env):
            return None
        keys = [
            hash_key(f"key{i}", key)
            for i, key in enumerate(config.api_keys_from_env(**env), 1)
        ]
        path = config.api_keys_file_from_env(**env)
        if path is not None:
            keys += read_keys_file(path)
        if not keys:
            raise ApiKeyError(
                f"No API keys: set {config.API_KEYS_ENV} (comma-separated keys) "
                f"or {config.API_KEYS_FILE_ENV} (a file from `python -m "
                f"sentiment.api --new-key NAME`), or {config.API_AUTH_ENV}=off "
                "behind a proxy that authenticates every request."
            )
        return cls(keys)

    def check(self, authorization: str) -> str | None:
        """The name of the key in an ``Authorization: Bearer KEY`` value, or None.

        Every key is compared, whatever matched, in constant time.
        """
        if authorization[: len(BEARER)].lower() != BEARER:
            return None
        presented = authorization[len(BEARER) :].strip().encode()
        found = None
        for key in self.keys:
            digest = hashlib.sha256(key.salt + presented).digest()
            if hmac.compare_digest(digest, key.digest) and found is None:
                found = key.name
        return found
