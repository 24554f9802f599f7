"""Ed25519 signatures on model cards (through the ``cryptography`` package).

The card records the SHA-256 of every model file, so a valid signature on the
card vouches for the files too. The signed bytes are the card's canonical
JSON (sorted keys, no whitespace) without its ``signature`` entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable


class SignatureError(ValueError):
    """A card's signature is missing, malformed, or not by a trusted key."""


def card_payload(card: dict[str, Any]) -> bytes:
    """The bytes a card's signature covers."""
    unsigned = {k: v for k, v in card.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def key_id(public_hex: str) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def read_private_key(path: Path) -> bytes:
    """The 32-byte Ed25519 seed in ``path`` (64 hex digits)."""
    try:
        seed = bytes.fromhex(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError) as error:
        raise SignatureError(f"cannot read the signing key {path}: {error}") from error
    if len(seed) != 32:
        raise SignatureError(f"{path} must hold 64 hex digits (an Ed25519 seed).")
    return seed


def public_key_hex(seed: bytes) -> str:
    """The public key (hex) of an Ed25519 seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def new_private_key() -> bytes:
    """A fresh random Ed25519 seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def sign_card(card: dict[str, Any], seed: bytes) -> dict[str, Any]:
    """The card with a ``signature`` entry by the key ``seed``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    value = Ed25519PrivateKey.from_private_bytes(seed).sign(card_payload(card))
    return {
        **{k: v for k, v in card.items() if k != "signature"},
        "signature": {
            "algorithm": "ed25519",
            "key_id": key_id(public_key_hex(seed)),
            "value": base64.b64encode(value).decode("ascii"),
        },
    }


def verify_card(card: dict[str, Any], trusted: Iterable[str]) -> str:
    """Check the card's signature against the ``trusted`` public keys (hex).

    Returns the signing key's id; raises SignatureError when the card is
    unsigned, the key is not trusted, or the signature does not match.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = card.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
        raise SignatureError("the model card is not signed")
    keys = {key_id(k): k for k in trusted}
    public = keys.get(str(signature.get("key_id")))
    if public is None:
        raise SignatureError(
            f"the model card is signed by key {signature.get('key_id')}, which is "
            "not trusted (add its public key to SENTIMENT_TRUSTED_KEYS)"
        )
    try:
        value = base64.b64decode(str(signature.get("value")), validate=True)
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            value, card_payload(card)
        )
    except (InvalidSignature, ValueError) as error:
        raise SignatureError(
            "the model card's signature does not match its contents: the card or "
            "the model files were changed after signing"
        ) from error
    return str(signature["key_id"])
