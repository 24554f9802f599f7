"""A table of posts with everything a CSV round trip can get wrong, for batch tests."""

from __future__ import annotations

import pandas as pd

from sentiment import config
from tests.conftest import tiny_dataset

SPECIAL_TEXTS = [
    "",
    "   ",
    'she said "i love pizza", then left',
    "line one\nline two: i hate my car",
    "windows\r\nline break, so happy with the team :)",
    "=SUM(A1) i love this show",
    "-3.5",
    "+1 the new album is awesome",
    "@bob the phone is terrible",
    "emoji 😀 pizza",
    "None",
    "NA",
    "comma, inside; semicolon",
    "tab\tinside",
    "x" * (config.MAX_TEXT_CHARS + 10),
]


def tricky_posts(rows: int) -> pd.DataFrame:
    """``rows`` posts (id, text, note) cycling the tiny dataset and SPECIAL_TEXTS."""
    texts, _ = tiny_dataset()
    pool = [t for pair in zip(texts, SPECIAL_TEXTS * len(texts)) for t in pair]
    return pd.DataFrame(
        {
            "id": range(rows),
            "text": [pool[i % len(pool)] for i in range(rows)],
            "note": ["=cmd" if i % 7 == 0 else f"n{i}" for i in range(rows)],
        }
    )
