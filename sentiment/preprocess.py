"""Tweet-aware text normalization.

Two plain functions, both passed into the vectorizers so that the pickled
pipeline carries them:

* :func:`normalize` works on the whole string: Unicode clean-up, URL and
  @mention placeholders, hashtag words, elongations, case folding.
* :func:`tokenize` splits a normalized string with NLTK's tweet regex (emoticons
  and emoji stay whole) and marks negation scope with NLTK's ``mark_negation``.

Nothing here needs an NLTK corpus, so nothing is downloaded at run time. There
is deliberately no stopword list: generic lists delete "not", "no" and "but",
which carry sentiment.
"""

from __future__ import annotations

import re
import unicodedata

import regex
from nltk.sentiment.util import mark_negation
from nltk.tokenize.casual import REGEXPS

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"

# Zero-width characters, bidi controls and other format (Cf) and control (Cc)
# characters let "g\u200bood" slip past a vocabulary lookup; tab and newlines
# stay, as whitespace.
_INVISIBLE_RE = regex.compile(r"[[\p{Cc}\p{Cf}]--[\t\n\r]]", regex.V1)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_USER_RE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ELONGATION_RE = re.compile(r"(.)\1{2,}", re.DOTALL)
_WHITESPACE_RE = re.compile(r"\s+")

# NLTK's casual-tokenizer pieces without its phone-number rule, compiled once;
# TweetTokenizer itself costs three times as much per post for the same tokens.
_TOKEN_RE = regex.compile(
    f"({'|'.join(REGEXPS)})", regex.VERBOSE | regex.IGNORECASE | regex.UNICODE
)


def clean_unicode(text: str) -> str:
    """NFKC-normalize and drop invisible characters, so look-alikes become one form."""
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
    text = clean_unicode(text).translate(_APOSTROPHES)
    text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    text = _USER_RE.sub(f" {USER_TOKEN} ", text)
    text = _HASHTAG_RE.sub(_split_hashtag, text)
    text = _ELONGATION_RE.sub(r"\1\1", text)
    return _WHITESPACE_RE.sub(" ", text).strip().lower()


def tokenize(normalized: str) -> list[str]:
    """Split a normalized post into tokens and mark negation scope.

    Words after a negation ("not", "never", "n't", ...) up to the next clause
    punctuation get a ``_NEG`` suffix, so "not good" and "good" differ.

    >>> tokenize("i don't like it :( . great")
    ['i', "don't", 'like_NEG', 'it_NEG', ':(_NEG', '.', 'great']
    """
    return mark_negation(_TOKEN_RE.findall(normalized), shallow=True)
