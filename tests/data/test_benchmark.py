"""The SemEval benchmark as the project uses it: schema, labels, duplicates, leakage."""

from functools import lru_cache

import pandas as pd
import pytest

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.features import TweetPreparer
from sentiment.model.lexicons import load_pattern_lexicon, load_vader_lexicon
from sentiment.model.preprocess import normalize
from sentiment.model.word_vectors import ENCODER_WORD_RE, load_word_vectors
from tests.conftest import needs_semeval

pytestmark = needs_semeval


@lru_cache(maxsize=2)
def frame(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("path", [config.SEMEVAL_TRAIN, config.SEMEVAL_TEST])
def test_schema_and_labels(path):
    data = frame(path)
    assert list(data.columns) == ["text", "label", "source"]
    assert set(data["label"]) == set(config.LABELS)
    assert (data["text"].str.strip() != "").all()
    # The loader keeps every row: nothing is skipped as empty or unlabelled.
    loaded = load_labelled(path)
    assert len(loaded.texts) == len(data)
    assert not loaded.report.empty_text_rows and not loaded.report.unknown_label_rows


@pytest.mark.parametrize("path", [config.SEMEVAL_TRAIN, config.SEMEVAL_TEST])
def test_no_duplicate_texts(path):
    assert not frame(path)["text"].duplicated().any()


def test_no_test_tweet_is_in_train_even_after_normalization():
    train = set(frame(config.SEMEVAL_TRAIN)["text"].map(normalize))
    leaked = frame(config.SEMEVAL_TEST)["text"].map(normalize).isin(train)
    assert not leaked.any(), f"{leaked.sum()} test tweets also in train"


def test_test_set_is_the_2017_release_only():
    assert set(frame(config.SEMEVAL_TEST)["source"]) == {"twitter-2017test"}
    assert "twitter-2017test" not in set(frame(config.SEMEVAL_TRAIN)["source"])


def test_word_vectors_were_not_built_from_test_tweets():
    """Every word with a vector is a train.csv word, a lexicon word or one of the
    encoder's plain whole words; test tweets' own tokens (numbers, emoji,
    names with digits) would show up as none of those."""
    words, _ = load_word_vectors(config.WORD_VECTORS_PATH)
    preparer = TweetPreparer(mark_negation=False)

    def vocabulary(path):
        return {t for p in preparer.transform(frame(path)["text"]) for t in p.tokens}

    train = vocabulary(config.SEMEVAL_TRAIN)
    lexicons = set(load_vader_lexicon()) | set(load_pattern_lexicon())
    from_encoder = set(words) - train - lexicons
    assert all(ENCODER_WORD_RE.fullmatch(w) for w in from_encoder)
    test_only = vocabulary(config.SEMEVAL_TEST) - train - lexicons
    # Tokens that a vectors file built with test.csv in --data would hold.
    telltale = {
        w
        for w in test_only
        if any(c.isalpha() for c in w) and not ENCODER_WORD_RE.fullmatch(w)
    }
    assert telltale, "the check needs test-only tokens to look for"
    assert not telltale & set(words)
