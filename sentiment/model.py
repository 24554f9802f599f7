"""The scikit-learn pipeline: word and character TF-IDF into LogisticRegression."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from sentiment import config
from sentiment.preprocess import normalize, tokenize


def build_pipeline(
    params: dict[str, Any] | None = None, seed: int = config.SEED
) -> Pipeline:
    """Build an unfitted pipeline from ``config.HYPERPARAMS``, updated by ``params``."""
    p = {**config.HYPERPARAMS, **(params or {})}
    word = TfidfVectorizer(
        preprocessor=normalize,
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(p["word_ngram_range"]),
        min_df=p["word_min_df"],
        max_features=p["word_max_features"],
        sublinear_tf=p["sublinear_tf"],
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        preprocessor=normalize,
        analyzer="char_wb",
        lowercase=False,
        ngram_range=tuple(p["char_ngram_range"]),
        min_df=p["char_min_df"],
        max_features=p["char_max_features"],
        sublinear_tf=p["sublinear_tf"],
        dtype=np.float32,
    )
    classifier = LogisticRegression(
        C=p["C"],
        class_weight=p["class_weight"],
        max_iter=p["max_iter"],
        random_state=seed,
    )
    features = FeatureUnion([("word", word), ("char", char)])
    return Pipeline([("features", features), ("classifier", classifier)])


def known_word_counts(pipeline: Pipeline, features: Any) -> np.ndarray:
    """Per row of ``features``, how many word n-grams of the model's vocabulary it has.

    Character n-grams match almost any string, gibberish included, so only
    words (emoticons and emoji are words here) count as evidence.
    """
    union = pipeline.named_steps["features"]
    n_words = len(union.named_transformers["word"].vocabulary_)
    return features[:, :n_words].getnnz(axis=1)
