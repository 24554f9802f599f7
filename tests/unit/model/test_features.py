import pickle

import numpy as np
import pytest
from nltk.sentiment.util import mark_negation
from sklearn.feature_extraction.text import CountVectorizer

from sentiment.model.features import (
    CharNgramCounter,
    PreparedPost,
    TweetPreparer,
    word_char_ngrams,
)
from sentiment.model.lexicons import (
    LexiconFeatures,
    load_pattern_lexicon,
    load_vader_lexicon,
)
from sentiment.model.preprocess import mark_negation_scope, normalize, tokenize
from tests.conftest import tiny_dataset

TEXTS = [
    "I LOVE this phone :) #BestDay",
    "not good, not good at all!!!",
    "the meeting is at 5pm @bob https://t.co/x",
    "a b c",
    "Sooooo tired 😭😭",
    "",
]


def prepared(texts=TEXTS):
    return TweetPreparer().transform(texts)


def test_preparer_normalizes_and_tokenizes_once_per_post():
    posts = TweetPreparer(describe_emoji=False).transform(TEXTS)
    assert len(posts) == len(TEXTS)
    for text, post in zip(TEXTS, posts):
        assert isinstance(post, PreparedPost)
        assert post.text == normalize(text)
        assert post.tokens == tokenize(normalize(text))


def test_emoji_are_followed_by_their_names():
    (post,) = TweetPreparer().transform(["so tired 😭"])
    assert post.tokens[:3] == ["so", "tired", "😭"]
    assert {"loudly", "crying", "face"} <= set(post.tokens)
    assert "crying" in post.text.split()
    (bare,) = TweetPreparer(describe_emoji=False).transform(["so tired 😭"])
    assert bare.tokens == ["so", "tired", "😭"]


def test_emoji_names_reach_the_lexicon_features():
    posts = TweetPreparer().transform(["😭", "😍"])
    rows = LexiconFeatures().fit().transform(posts).toarray()
    assert rows[0, 1] > rows[0, 0] and rows[1, 0] > rows[1, 1]


def test_preparer_can_leave_out_negation_marks():
    (post,) = TweetPreparer(mark_negation=False).transform(["not good"])
    assert post.tokens == ["not", "good"]


@pytest.mark.parametrize(
    "tokens",
    [
        "i didn't like this movie . it was bad .".split(),
        "no no no way ! never never".split(),
        ["can't", "stop", "won't", "stop", "?"],
        [],
    ],
)
def test_negation_scope_matches_nltk_where_nltk_closes_it(tokens):
    assert mark_negation_scope(list(tokens)) == mark_negation(list(tokens))


@pytest.mark.parametrize(
    "tokens, expected",
    [
        (["not", "good", ",", "fun"], ["not", "good_NEG", ",", "fun"]),
        (["not", "good", "!!!", "fun"], ["not", "good_NEG", "!!!", "fun"]),
        (["not", "good", "but", "fun"], ["not", "good_NEG", "but", "fun"]),
        (["not", "good", ":)", "fun"], ["not", "good_NEG", ":)_NEG", "fun_NEG"]),
    ],
)
def test_negation_scope_also_ends_at_punctuation_runs_and_but(tokens, expected):
    assert mark_negation_scope(tokens) == expected


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (3, 3)])
def test_char_counter_equals_sklearn_char_wb(ngram_range):
    texts, _ = tiny_dataset()
    posts = prepared(texts + TEXTS)
    normalized = [p.text for p in posts]
    ours = CharNgramCounter(ngram_range, min_df=2)
    reference = CountVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, min_df=2, lowercase=False
    )
    fitted = ours.fit_transform(posts)
    assert list(ours.get_feature_names_out()) == list(
        reference.fit(normalized).get_feature_names_out()
    )
    assert (fitted != reference.transform(normalized)).nnz == 0
    unseen = prepared(["brand new wordz here", "qqq", ""])
    expected = reference.transform([p.text for p in unseen])
    assert (ours.transform(unseen) != expected).nnz == 0


@pytest.mark.parametrize("cached_words", [0, 5, 10_000])
def test_char_counter_word_cache_changes_nothing(cached_words):
    posts = prepared(tiny_dataset()[0] + TEXTS)
    plain = CharNgramCounter(min_df=1).fit(posts)
    cached = CharNgramCounter(min_df=1, cached_words=cached_words).fit(posts)
    unseen = prepared(["i love the brand new phone", "zzz qqq", "", "pizza pizza"])
    for batch in (posts, unseen):
        assert (cached.transform(batch) != plain.transform(batch)).nnz == 0


def test_char_counter_caches_the_most_frequent_words():
    posts = prepared(["the cat", "the dog", "the end", "a cat"])
    counter = CharNgramCounter((3, 3), min_df=1, cached_words=2).fit(posts)
    assert set(counter.cached_word_rows_) == {"the", "cat"}


def test_char_counter_max_features_keeps_the_most_frequent():
    posts = prepared(["aaa aaa aaa", "aaa bbb", "bbb ccc", "ccc aaa"])
    counter = CharNgramCounter((3, 3), min_df=1, max_features=2).fit(posts)
    assert set(counter.vocabulary_) == {" aa", "aa "}


def test_char_counter_rejects_a_vocabulary_left_empty():
    with pytest.raises(ValueError, match="min_df"):
        CharNgramCounter(min_df=5).fit(prepared(["one post only"]))


def test_word_char_ngrams_of_a_short_word():
    assert word_char_ngrams("a", 2, 5) == [" a", "a ", " a "]


def test_pattern_lexicon_ships_with_textblob():
    lexicon = load_pattern_lexicon()
    assert lexicon["good"][0] > 0 > lexicon["bad"][0]
    assert lexicon["wonderful"][1] > 0.5 > lexicon["daily"][1]


def test_vader_lexicon_ships_with_the_package():
    lexicon = load_vader_lexicon()
    assert lexicon["good"] > 0 > lexicon["bad"]
    assert lexicon[":)"] > 0


def test_pattern_columns_add_subjectivity():
    lexicon = LexiconFeatures("pattern", scale=1.0).fit()
    assert list(lexicon.get_feature_names_out()) == [
        "positive",
        "negative",
        "subjective",
    ]
    rows = lexicon.transform(prepared(["a wonderful day", "the daily report"]))
    assert rows[0, 0] > 0 and rows[0, 2] > rows[1, 2]


def test_unknown_lexicon_source_is_rejected():
    with pytest.raises(ValueError, match="unknown lexicon"):
        LexiconFeatures("sentiwordnet").fit()


def test_lexicon_features_point_the_right_way():
    lexicon = LexiconFeatures(scale=1.0).fit()
    rows = lexicon.transform(
        prepared(["great , love it", "awful , hate it", "the bus", "not good"])
    ).toarray()
    positive, negative = rows[:, 0], rows[:, 1]
    assert positive[0] > 0 and negative[0] == 0
    assert negative[1] > 0 and positive[1] == 0
    assert rows[2].sum() == 0
    # Negation flips and damps the valence, as in VADER.
    good = load_vader_lexicon()["good"]
    assert positive[3] == 0
    assert negative[3] == pytest.approx(np.log1p(0.74 * good), rel=1e-6)


def test_lexicon_scale_multiplies_the_columns():
    posts = prepared(["love love hate"])
    one = LexiconFeatures(scale=1.0).fit().transform(posts).toarray()
    half = LexiconFeatures(scale=0.5).fit().transform(posts).toarray()
    np.testing.assert_allclose(half, one / 2, rtol=1e-6)


def test_fitted_transformers_pickle_and_give_the_same_output():
    posts = prepared(tiny_dataset()[0])
    transformers = (
        CharNgramCounter(min_df=1),
        LexiconFeatures("vader"),
        LexiconFeatures("pattern"),
    )
    for transformer in transformers:
        fitted = transformer.fit(posts)
        clone = pickle.loads(pickle.dumps(fitted))
        assert (clone.transform(posts) != fitted.transform(posts)).nnz == 0
