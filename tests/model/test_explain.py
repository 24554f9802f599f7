"""Explaining the linear model: per-post contributions and per-class n-grams."""

import numpy as np
import pytest

from sentiment.model.explain import (
    feature_names,
    top_contributions,
    top_features_per_class,
)


def test_contributions_are_tfidf_value_times_class_coefficient(tiny_pipeline):
    text = "i love the new album :)"

    top = top_contributions(tiny_pipeline, text, "positive", k=5)

    features = tiny_pipeline[:-1].transform([text]).toarray()[0]
    row = list(tiny_pipeline[-1].classes_).index("positive")
    names = list(feature_names(tiny_pipeline))
    expected = features * tiny_pipeline[-1].coef_[row]
    assert len(top) == 5
    for name, value in top:
        assert value == pytest.approx(expected[names.index(name)], rel=1e-5)
    values = [value for _, value in top]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(expected.max(), rel=1e-5)


def test_the_deciding_words_are_found(tiny_pipeline):
    words = top_contributions(tiny_pipeline, "i hate pizza", "negative", 3, "word")
    assert "word__hate" in [name for name, _ in words]
    assert all(name.startswith("word__") for name, _ in words)


def test_only_positive_contributions_are_returned(tiny_pipeline):
    # Nothing in a clearly positive post argues for "negative" as much as
    # everything does in a negative one, and no returned value is <= 0.
    top = top_contributions(tiny_pipeline, "i love pizza", "negative", k=10_000)
    assert all(value > 0 for _, value in top)
    n_features = tiny_pipeline[:-1].transform(["i love pizza"]).nnz
    assert len(top) < n_features


def test_character_part_only(tiny_pipeline):
    chars = top_contributions(tiny_pipeline, "so happy", "positive", 4, "char")
    assert chars and all(name.startswith("char__") for name, _ in chars)


def test_unknown_feature_part_is_an_error(tiny_pipeline):
    with pytest.raises(ValueError, match="no feature part 'emoji'"):
        top_contributions(tiny_pipeline, "hi", "positive", 3, "emoji")


def test_top_features_per_class_are_the_largest_coefficients(tiny_pipeline):
    top = top_features_per_class(tiny_pipeline, 5, "word")

    classifier = tiny_pipeline[-1]
    names = list(feature_names(tiny_pipeline))
    assert set(top) == {"negative", "neutral", "positive"}
    for label, features in top.items():
        row = list(classifier.classes_).index(label)
        weights = [w for _, w in features]
        assert weights == sorted(weights, reverse=True)
        for name, weight in features:
            assert name.startswith("word__")
            assert weight == pytest.approx(classifier.coef_[row, names.index(name)])
        n_words = len(
            tiny_pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
        )
        assert weights[0] == pytest.approx(np.max(classifier.coef_[row, :n_words]))
    positive_words = {
        name
        for name, _ in top_features_per_class(tiny_pipeline, 10, "word")["positive"]
    }
    assert {"word__love", "word__great"} & positive_words
