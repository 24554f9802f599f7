"""Explanations in words people use: leave-one-word-out influence (any tier)
and readable n-gram names for the classic model card."""

from __future__ import annotations

import math

import pytest

from sentiment.model.explain import (
    MAX_EXPLAINED_WORDS,
    readable_ngram,
    word_influence,
)


def test_the_word_that_carries_the_label_has_the_largest_influence(tiny_predictor):
    influence = word_influence(tiny_predictor, "i hate the phone", "negative")
    assert [w for w, _ in influence] == ["i", "hate", "the", "phone"]
    assert max(influence, key=lambda pair: pair[1])[0] == "hate"


def test_influence_is_for_the_predicted_label_by_default(tiny_predictor):
    default = word_influence(tiny_predictor, "so happy with pizza :)")
    explicit = word_influence(tiny_predictor, "so happy with pizza :)", "positive")
    assert default == explicit


def test_a_word_against_the_label_has_negative_influence(tiny_predictor):
    influence = dict(word_influence(tiny_predictor, "i love pizza :(", "positive"))
    assert influence[":("] < 0 < influence["love"]


def test_empty_and_long_posts(tiny_predictor):
    assert word_influence(tiny_predictor, "   ") == []
    long = " ".join(["pizza"] * (MAX_EXPLAINED_WORDS + 10))
    assert len(word_influence(tiny_predictor, long)) == MAX_EXPLAINED_WORDS


def test_a_one_word_post_still_gets_an_influence(tiny_predictor):
    ((word, value),) = word_influence(tiny_predictor, "awesome", "positive")
    # Left out, nothing is left to score: the word carried the whole decision.
    assert word == "awesome" and math.isfinite(value) and value > 0


@pytest.mark.parametrize(
    "name, readable",
    [
        ("word__bad_NEG", "not…bad"),
        ("word__love <user>", "love @user"),
        ("word__check <url>", "check link"),
        ("word__fucking awesome", "f****** awesome"),
        ("word__great", "great"),
    ],
)
def test_readable_ngram(name, readable):
    assert readable_ngram(name) == readable
