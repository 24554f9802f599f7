"""The compiled language lines are ``model_input``'s, post for post (issue 15):
the benchmark posts, the hostile texts the other tests use, and generated
ASCII posts built from the pieces its rules turn on."""

from __future__ import annotations

import random

import pytest

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model import language
from tests.conftest import needs_semeval
from tests.tricky_posts import SPECIAL_TEXTS
from tests.unit.files.hostile_corpus import corpus_cells
from tests.unit.model.test_language import SHOUTING_AND_HOSTILE

needs_core = pytest.mark.skipif(
    language._compiled_lines is None,
    reason="the compiled core is not built (pip install -e .)",
)

# What the handle/link pattern, str.split() and the shouting rule turn on:
# every ASCII whitespace str.split() knows, \w and non-\w neighbours, link
# prefixes whole and broken, shouting and mixed case, and non-ASCII text
# (those posts must take model_input itself).
PIECES = [
    *["@", "#", "http://", "https://", "www.", "http", "https:/", "ww.", "HTTP://"],
    *[" ", "  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"],
    *["_", "a", "B", "Zz", "8", "\x00", "\x7f", ".", "!", ":", "/", "'"],
    *["HELLO", "hello", "Shout", "x" * 30, "Y" * 30, "1234567890" * 4],
    *["é", "\xa0", "\u2003", "日本"],
]


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        for _ in range(count)
    ]


def _hostile_texts() -> list[object]:
    cells = corpus_cells()
    edges = ["", " ", "a" * 200, "B" * 79 + " c", "a" * 79 + " B", " " * 90 + "x"]
    edges += ["1" * 85 + " word", "@a@b#c x", "@@b", "#_", "www. x", "https:// x"]
    edges += ["xhttp://a/b c", "ABCDE", "ABCDEf", "ABCDEFGHi", "ABCDefgh", "AAAAb"]
    return [*SHOUTING_AND_HOSTILE, *SPECIAL_TEXTS, *cells, *edges, None, 3, b"ab"]


def _assert_same_lines(texts: list[object]) -> None:
    got = language.model_inputs(texts)
    assert len(got) == len(texts)
    for text, line in zip(texts, got):
        assert line == language.model_input(text), repr(text)


@needs_core
def test_compiled_lines_equal_model_input_on_hostile_and_generated_posts():
    texts = _hostile_texts() + _generated(20_000, seed=15)
    assert sum(1 for t in texts if isinstance(t, str) and not t.isascii()) > 1000
    _assert_same_lines(texts)


@needs_semeval
@needs_core
def test_compiled_lines_equal_model_input_on_the_benchmark_posts():
    texts = load_labelled(config.SEMEVAL_TRAIN).texts
    texts += load_labelled(config.SEMEVAL_TEST).texts
    _assert_same_lines(list(texts))


def test_without_the_compiled_core_model_inputs_is_model_input(monkeypatch):
    monkeypatch.setattr(language, "_compiled_lines", None)
    texts = [*SHOUTING_AND_HOSTILE, None]
    assert language.model_inputs(texts) == [language.model_input(t) for t in texts]
