"""The scikit-learn pipeline: tweet features into a linear classifier.

``prepare`` normalizes and tokenizes each post once; ``features`` is a
FeatureUnion of word n-gram TF-IDF (first, so its columns come first), character
n-gram TF-IDF within words, two VADER-lexicon columns, three columns from
TextBlob's pattern lexicon and the mean pretrained word vector (64 columns);
``classifier`` is a
multinomial LogisticRegression fitted on NB-weighted features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from sentiment import config
from sentiment.model.features import CharNgramCounter, TweetPreparer, post_tokens
from sentiment.model.lexicons import LexiconFeatures
from sentiment.model.word_vectors import WordVectorFeatures


def log_count_ratio_weights(
    X: Any, y: np.ndarray, classes: np.ndarray, alpha: float
) -> np.ndarray:
    """Per feature, ``max over classes |log-count ratio| ** alpha`` (as in NB-SVM).

    The log-count ratio of a feature for a class compares how many posts of
    the class have it with how many other posts do (add-one smoothed,
    Wang & Manning 2012). Features that tell classes apart get weights above
    1, and so a lighter L2 penalty in effect; ``alpha`` = 0 gives all ones.
    """
    present = (X > 0).astype(np.float32).tocsr()
    ratios = []
    for label in classes:
        mine = np.asarray(present[y == label].sum(axis=0)).ravel() + 1.0
        others = np.asarray(present[y != label].sum(axis=0)).ravel() + 1.0
        ratios.append(np.log(mine / mine.sum()) - np.log(others / others.sum()))
    return np.abs(np.array(ratios)).max(axis=0) ** alpha


class NBWeightedLogisticRegression(LogisticRegression):
    """Multinomial LogisticRegression fitted on NB-weighted features.

    ``fit`` multiplies every feature by its :func:`log_count_ratio_weights`,
    fits on those, then folds the weights back into ``coef_``, so the fitted
    model is an ordinary linear model of the raw features: ``predict_proba``,
    ``coef_`` and explanations (feature value x coefficient) need nothing
    else. ``nb_alpha`` = 0 is plain LogisticRegression.

    Its probabilities are used as they come: with C chosen on a later period
    of tweets than it was fitted on, they were calibrated there (expected
    calibration error 0.014), whereas a temperature fitted on a random
    held-out share made them over-confident on that later period.
    """

    def __init__(
        self,
        C: float = 1.0,
        class_weight: dict | str | None = None,
        solver: str = "newton-cg",
        max_iter: int = 1_000,
        tol: float = 1e-4,
        nb_alpha: float = 0.0,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            C=C,
            class_weight=class_weight,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        self.nb_alpha = nb_alpha

    def fit(
        self, X: Any, y: Any, sample_weight: np.ndarray | None = None
    ) -> "NBWeightedLogisticRegression":
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        weights = log_count_ratio_weights(X, y, np.unique(y), self.nb_alpha)
        super().fit(X @ sp.diags(weights.astype(X.dtype)), y, sample_weight)
        self.feature_weights_ = weights
        self.coef_ = self.coef_ * weights
        return self


class SequentialFeatureUnion(FeatureUnion):
    """A FeatureUnion whose ``transform`` calls its parts in turn, in-process.

    FeatureUnion dispatches through joblib even with one job, which cost
    more than all the feature work for a single post.
    """

    def transform(self, X: Any, **params: Any) -> sp.csr_matrix:
        if params:
            return super().transform(X, **params)
        blocks = []
        for _, transformer, weight in self._iter():
            block = transformer.transform(X)
            blocks.append(block if weight is None else block * weight)
        return sp.hstack(blocks, format="csr")


def build_pipeline(
    params: dict[str, Any] | None = None, seed: int = config.SEED
) -> Pipeline:
    """An unfitted pipeline from ``config.HYPERPARAMS``, overridden by ``params``."""
    p = {**config.HYPERPARAMS, **(params or {})}
    word = TfidfVectorizer(
        tokenizer=post_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(p["word_ngram_range"]),
        min_df=p["word_min_df"],
        max_features=p["word_max_features"],
        sublinear_tf=p["sublinear_tf"],
        dtype=np.float32,
    )
    char = Pipeline(
        [
            (
                "counts",
                CharNgramCounter(
                    ngram_range=tuple(p["char_ngram_range"]),
                    min_df=p["char_min_df"],
                    max_features=p["char_max_features"],
                    cached_words=p["char_cached_words"],
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=p["sublinear_tf"])),
        ]
    )
    blocks: list[tuple[str, Any]] = [("word", word), ("char", char)]
    if p["lexicon_scale"]:
        blocks.append(("lexicon", LexiconFeatures("vader", p["lexicon_scale"])))
    if p["pattern_scale"]:
        blocks.append(("pattern", LexiconFeatures("pattern", p["pattern_scale"])))
    if p["vector_scale"]:
        blocks.append(("vectors", WordVectorFeatures(scale=p["vector_scale"])))
    classifier = NBWeightedLogisticRegression(
        C=p["C"],
        class_weight=p["class_weight"],
        max_iter=p["max_iter"],
        nb_alpha=p["nb_alpha"],
        random_state=seed,
    )
    return Pipeline(
        [
            ("prepare", TweetPreparer()),
            ("features", SequentialFeatureUnion(blocks)),
            ("classifier", classifier),
        ]
    )
