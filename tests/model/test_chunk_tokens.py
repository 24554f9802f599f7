"""The compiled chunk analysis is ``normalize`` and the token pattern's, chunk
for chunk (issue 15): the chunks of the benchmark posts and of the hostile
texts, and generated chunks built from what the token pattern turns on."""

from __future__ import annotations

import random

import pytest

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.artifacts import load_fast_model
from sentiment.model.inputs import prepare_text
from tests.conftest import needs_semeval
from tests.tricky_posts import SPECIAL_TEXTS
from tests.unit.files.hostile_corpus import corpus_cells
from tests.unit.model.test_language import SHOUTING_AND_HOSTILE

chunk_tokens = pytest.importorskip(
    "sentiment.model._chunk_tokens", reason="the compiled core is not built"
)

# Emoticon parts, tags, arrows, numbers, dot runs, apostrophes (ASCII and
# curly), dashes, runs to shorten, handles and hashtags (one, several, after a
# word character), camel case, links whole and broken, and what must stay with
# the Python normaliser: other non-ASCII characters.
PIECES = [chr(c) for c in range(33, 127)] + [
    *[":)", ":-(", ">:D<", "</3", "<3", ":'(", "d:", "8-)", "8)", "=P", ";o)"],
    *["<url>", "<user>", "-->", "<--", "->", "...", "..", ". .", "1,000", "-3.5"],
    *["www.", "WWW.", "wwww.", "://", "https://", "3:50", "+1", "n't", "don't"],
    *["storm-ravaged", "__", "''", "--", "aaa", "AAA", "AAa", "!!!", "8", "o", "O"],
    *["@bob", "@Bo_b1", "#NotHappy", "#aBcD", "a@b.co", "@@", "##", "<u", "aB"],
    *["http://", "HTTPS://x", "WwW.", "http://a#b#c@d", "https:/", "ww"],
    *["\u2019", "\u2018", "\u02bc", "\u2019\u2019\u2019", "\u00e9", "\u200b", " "],
]


@pytest.fixture(scope="module")
def model():
    loaded = load_fast_model()
    if loaded is None or loaded[0]._scorer is None:
        pytest.skip("no exported arrays or no compiled core")
    return loaded[0]


def _chunks(texts: list[object]) -> list[str]:
    found: set[str] = set()
    for text in texts:
        cleaned = prepare_text(text)[0]
        if cleaned:
            found.update(cleaned.split())
    return sorted(found)


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        for _ in range(count)
    ]


def _assert_same_analyses(model, chunks: list[str]) -> None:
    taken = 0
    for chunk in chunks:
        expected = model.normalize_tokenize(chunk)
        got = chunk_tokens.ascii_normalize_tokenize(chunk)
        if got is not None:
            taken += 1
            assert got == expected, repr(chunk)
        assert model.analyse(chunk) == model.pack(*expected), repr(chunk)
    # Most chunks are its kind: the comparison above is not of None alone.
    assert taken > len(chunks) // 2


def test_compiled_chunks_equal_normalize_on_hostile_and_generated_chunks(model):
    chunks = _chunks([*SHOUTING_AND_HOSTILE, *SPECIAL_TEXTS, *corpus_cells()])
    _assert_same_analyses(model, chunks + _generated(30_000, seed=15))


@needs_semeval
def test_compiled_chunks_equal_normalize_on_the_test_set_chunks(model):
    _assert_same_analyses(model, _chunks(load_labelled(config.SEMEVAL_TEST).texts))
