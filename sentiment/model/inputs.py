"""A post as the model reads it: cleaned (NFKC, no invisible characters,
stripped) and cut to ``config.MAX_TEXT_CHARS``, with a flag saying whether it
was cut. Every tier, the API's validation and the page prepare input here."""

from __future__ import annotations

import unicodedata
from typing import Sequence

from sentiment import config
from sentiment.model.preprocess import clean_unicode


def prepare_text(text: object) -> tuple[str, bool]:
    """Clean one input and cut it to ``config.MAX_TEXT_CHARS``.

    Returns ``(text, truncated)``; the text is "" when there is nothing to
    score, and ``truncated`` is True when the cleaned input was longer than
    what is returned. Raises TypeError for inputs that are neither str nor None.
    """
    if text is None:
        return "", False
    if not isinstance(text, str):
        raise TypeError(f"text must be a str or None, not {type(text).__name__}")
    limit = config.MAX_TEXT_CHARS
    if len(text) <= limit:
        cleaned = clean_unicode(text).strip()
    else:
        cleaned = _clean_prefix(text, limit)
    if len(cleaned) > limit:
        return cleaned[:limit], True
    return cleaned, False


def prepare_texts(texts: Sequence[object]) -> tuple[list[str], list[bool]]:
    """:func:`prepare_text` of each text: the cleaned texts and truncated flags.

    The usual post, a printable-ASCII ``str`` within the limit, is cleaned by
    stripping it (``clean_unicode`` leaves it as it is), in one list
    comprehension; only the others take :func:`prepare_text`.
    """
    limit = config.MAX_TEXT_CHARS
    cleaned = [
        (
            text.strip()
            if type(text) is str
            and len(text) <= limit
            and text.isascii()
            and text.isprintable()
            else None
        )
        for text in texts
    ]
    truncated = [False] * len(cleaned)
    for i in [i for i, text in enumerate(cleaned) if text is None]:
        cleaned[i], truncated[i] = prepare_text(texts[i])
    return cleaned, truncated  # type: ignore[return-value]


def _clean_prefix(text: str, limit: int) -> str:
    """The start of ``clean_unicode(text).strip()``: more than ``limit`` characters
    of it, or all of it when it is not longer.

    NFKC can make a character 18 times longer (U+FDFA), so cleaning a 1 MB post
    whole takes seconds to keep 5,000 characters. Pieces of ``limit``
    characters, cut where no character can combine with the one before, are
    cleaned until enough is kept: the work is bounded by what is kept.
    """
    pieces: list[str] = []
    kept = 0  # characters of the pieces, without trailing whitespace
    trailing = 0  # whitespace at the end of the pieces
    start = 0
    while start < len(text) and kept <= limit:
        end = _piece_end(text, start + limit)
        piece = clean_unicode(text[start:end])
        start = end
        if not pieces:
            piece = piece.lstrip()
        if not piece:
            continue
        pieces.append(piece)
        body = piece.rstrip()
        if body:
            kept += trailing + len(body)
            trailing = len(piece) - len(body)
        else:
            trailing += len(piece)
    return "".join(pieces).rstrip()


def _piece_end(text: str, end: int) -> int:
    """``end`` moved back to just before a character that combines with nothing
    before it (not a combining mark, not a Hangul vowel or final consonant)."""
    if end >= len(text):
        return len(text)
    earliest = max(end - 64, 1)
    while end > earliest and (
        unicodedata.combining(text[end]) or "\u1160" <= text[end] <= "\u11ff"
    ):
        end -= 1
    return end
