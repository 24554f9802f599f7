"""Tweet-aware text normalization.

Two plain functions, both used by the pipeline's first step
(:class:`sentiment.model.features.TweetPreparer`), so every post is normalized and
tokenized exactly once:

* :func:`normalize` works on the whole string: Unicode clean-up, URL and
  @mention placeholders, hashtag words, elongations, case folding.
* :func:`tokenize` splits a normalized string with NLTK's tweet regex (emoticons
  and emoji stay whole) and marks negation scope the way NLTK's
  ``mark_negation`` does (:func:`mark_negation_scope`).

Nothing here needs an NLTK corpus, so nothing is downloaded at run time. There
is deliberately no stopword list: generic lists delete "not", "no" and "but",
which carry sentiment.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Callable

import regex

URL_TOKEN = "<url>"


USER_TOKEN = "<user>"


NEGATION_SUFFIX = "_NEG"


# Zero-width characters, bidi controls and other format (Cf) and control (Cc)
# characters let "g\u200bood" slip past a vocabulary lookup; tab and newlines
# stay, as whitespace.
_INVISIBLE_RE = regex.compile(r"[[\p{Cc}\p{Cf}]--[\t\n\r]]", regex.V1)


_ASCII_CONTROLS = dict.fromkeys(
    [c for c in range(128) if chr(c) not in "\t\n\r" and (c < 32 or c == 127)]
)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


_USER_RE = re.compile(r"(?<![\w@])@\w+")


_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")


_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")


_ELONGATION_RE = re.compile(r"(.)\1{2,}", re.DOTALL)


# How the token pattern is compiled (it is written for re.VERBOSE).
TOKEN_FLAGS = re.VERBOSE | re.IGNORECASE | re.UNICODE


def token_pattern() -> str:
    """NLTK's casual-tokenizer pieces without its URL and phone-number rules.

    normalize has already put <url> in place of links, and that rule alone
    cost a third of the tokenizing time. The exported model stores this
    pattern, so scoring never imports NLTK (seconds of start-up).
    """
    from nltk.tokenize.casual import REGEXPS

    return "|".join(f"(?:{pattern})" for pattern in REGEXPS[1:])


@lru_cache(maxsize=1)
def _token_re() -> re.Pattern[str]:
    # The standard library's engine runs these patterns faster than `regex`.
    return re.compile(token_pattern(), TOKEN_FLAGS)


# The negation cues of NLTK's mark_negation, as a set: NLTK 3.9+ wraps its
# regexes in a ReDoS timer that made it cost more than the rest of the
# pipeline together.
NEGATIONS = frozenset(
    "never no nothing nowhere noone none not havent hasnt hadnt cant couldnt "
    "shouldnt wont wouldnt dont doesnt didnt isnt arent aint".split()
)


# A negation's scope ends at a run of clause punctuation or at "but". NLTK
# stops only at a lone . : ; ! or ?, but tweets write "!!!" and ",", and
# "not great, but fun" should not negate "fun" (+0.3 points of macro-recall
# on the hold-out).
SCOPE_END_RE = re.compile(r"[.,:;!?]+|but")


def clean_unicode(text: str) -> str:
    """NFKC-normalize and drop invisible characters, so look-alikes become one form."""
    if text.isascii():
        # NFKC leaves ASCII alone, and its only invisible characters are controls;
        # printable text has none, and checking is 7x cheaper than translating.
        return text if text.isprintable() else text.translate(_ASCII_CONTROLS)
    text = unicodedata.normalize("NFKC", text)
    return _INVISIBLE_RE.sub("", text)


def _split_hashtag(match: re.Match[str]) -> str:
    # "#NotHappy" -> "Not Happy": the words inside a hashtag carry the sentiment.
    return _CAMEL_RE.sub(" ", match.group(1))


def normalize(text: str) -> str:
    """Return the normalized form of one post, ready for both vectorizers.

    >>> normalize("Soooo HAPPY!!!! @bob https://t.co/x #BestDay")
    'soo happy!! <user> <url> best day'
    """
    text = clean_unicode(text)
    if not text.isascii():  # the apostrophes replaced are not ASCII
        text = text.translate(_APOSTROPHES)
    # The `in` checks skip regexes that cannot match: most posts have no
    # link, mention or hashtag, and this runs for every post scored.
    if "://" in text or "www." in text.lower():
        text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    if "@" in text:
        text = _USER_RE.sub(f" {USER_TOKEN} ", text)
    if "#" in text:
        text = _HASHTAG_RE.sub(_split_hashtag, text)
    text = _ELONGATION_RE.sub(r"\1\1", text)
    return " ".join(text.split()).lower()


def is_negation_cue(token: str) -> bool:
    """A token that opens a negation scope: one of NEGATIONS, or any "n't"."""
    return token in NEGATIONS or "n't" in token


def mark_negation_scope(tokens: list[str]) -> list[str]:
    """Suffix ``_NEG`` to the tokens between a negation and the end of its scope.

    As ``nltk.sentiment.util.mark_negation(tokens)``: a negation cue opens
    the scope and stays unmarked; a second cue inside the scope is marked
    like any word. The scope closes at a token made only of ``. , : ; ! ?``
    or at "but" (NLTK: only at a lone ``. : ; ! ?``).

    >>> mark_negation_scope(["not", "great", ",", "but", "fun", "!!"])
    ['not', 'great_NEG', ',', 'but', 'fun', '!!']
    """
    marked = []
    in_scope = False
    for token in tokens:
        if is_negation_cue(token):
            if in_scope:
                token += NEGATION_SUFFIX
            else:
                in_scope = True
        elif in_scope:
            if SCOPE_END_RE.fullmatch(token):
                in_scope = False
            else:
                token += NEGATION_SUFFIX
        marked.append(token)
    return marked


def has_negation_or_contrast(
    text: str, split: Callable[[str], list[str]] | None = None
) -> bool:
    """Whether a raw post holds a negation cue or a contrasting "but".

    A bag of words reads these poorly ("not bad at all", "I expected to hate
    it but it was great"), so the cascade sends such posts to the transformer
    whatever the classic model's confidence. ``split`` tokenizes the
    normalized text (default :func:`split_tokens`; a loaded model's own
    ``split_tokens`` gives the same tokens without importing NLTK).

    >>> has_negation_or_contrast("can't complain"), has_negation_or_contrast("great")
    (True, False)
    """
    tokens = (split or split_tokens)(normalize(text))
    return any(is_negation_cue(token) or token == "but" for token in tokens)


def split_tokens(normalized: str) -> list[str]:
    """Split a normalized post with NLTK's tweet regex; emoticons and emoji stay whole.

    >>> split_tokens("i don't like it :(")
    ['i', "don't", 'like', 'it', ':(']
    """
    return _token_re().findall(normalized)


def tokenize(normalized: str) -> list[str]:
    """Split a normalized post into tokens and mark negation scope.

    Words after a negation ("not", "never", "n't", ...) up to the next clause
    punctuation get a ``_NEG`` suffix, so "not good" and "good" differ.

    >>> tokenize("i don't like it :( . great")
    ['i', "don't", 'like_NEG', 'it_NEG', ':(_NEG', '.', 'great']
    """
    return mark_negation_scope(split_tokens(normalized))


@lru_cache(maxsize=1)
def emoji_descriptions() -> dict[int, str]:
    """``str.translate`` table: emoji -> the emoji followed by its name in words.

    From VADER's emoji table ("😂" -> " 😂 face with tears of joy "), single
    code points only. The training tweets have no emoji at all (the older
    SemEval releases lost them) while the 2017 tweets do, so the words are
    what lets the model read them.
    """
    table = (resources.files("vaderSentiment") / "emoji_utf8_lexicon.txt").read_text(
        "utf-8"
    )
    descriptions = {}
    for line in table.splitlines():
        emoji, _, description = line.partition("\t")
        if len(emoji) == 1 and description:
            descriptions[ord(emoji)] = f" {emoji} {description.lower()} "
    return descriptions
