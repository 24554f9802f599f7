"""Sentiment lexicon features: VADER and pattern scores summed over a post's
tokens (negated tokens flipped)."""

from __future__ import annotations

from importlib import resources
from typing import Any, Sequence
from xml.etree import ElementTree

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.model.features import PreparedPost, rows_to_csr, segment_sums
from sentiment.model.preprocess import NEGATION_SUFFIX

# VADER scales a negated word's valence by this (vaderSentiment.N_SCALAR).
VADER_NEGATION_SCALAR = -0.74


def load_vader_lexicon() -> dict[str, float]:
    """The VADER lexicon shipped inside ``vaderSentiment`` (MIT): token -> valence.

    Valences run from -4 (most negative) to +4; emoticons such as ":)" are
    in it, emoji are not (see :func:`emoji_descriptions`).
    """
    lexicon: dict[str, float] = {}
    text = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text("utf-8")
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0]:
            lexicon[fields[0]] = float(fields[1])
    return lexicon


def load_pattern_lexicon() -> dict[str, tuple[float, float]]:
    """TextBlob's bundled pattern lexicon (PDDL): adjective -> (polarity, subjectivity).

    Polarity runs from -1 to +1, subjectivity from 0 (objective) to 1; a word
    listed with several senses gets their means.
    """
    path = resources.files("textblob") / "en" / "en-sentiment.xml"
    senses: dict[str, list[tuple[float, float]]] = {}
    # The package's own file, not user input, so the stdlib parser is safe.
    for word in ElementTree.fromstring(path.read_bytes()).iter("word"):
        scores = (float(word.get("polarity", 0)), float(word.get("subjectivity", 0)))
        senses.setdefault(word.get("form", ""), []).append(scores)
    return {
        form: (float(np.mean([p for p, _ in s])), float(np.mean([q for _, q in s])))
        for form, s in senses.items()
        if form
    }


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """How much positive, negative (and subjective) lexicon evidence a post has.

    ``source="vader"`` gives two columns, ``scale * log1p(sum of positive
    valences)`` and the same for negative valences (as positive numbers);
    ``source="pattern"`` adds a third, the summed subjectivity, which tells
    opinions from news. A token in negation scope (``word_NEG``) counts with
    its polarity times ``negation_scalar``, so "not good" adds to the
    negative column. Computed as (posts x lexicon terms) counts @ (terms x
    columns) scores: one dictionary lookup per token.

    Parameters
    ----------
    source : "vader" (vaderSentiment's lexicon) or "pattern"
        (TextBlob's adjective lexicon). Read at fit time; the fitted
        transformer carries it.
    scale : multiplier that puts the columns on the TF-IDF features' scale.
    negation_scalar : polarity multiplier for negated words (VADER's -0.74).
    """

    def __init__(
        self,
        source: str = "vader",
        scale: float = 0.5,
        negation_scalar: float = VADER_NEGATION_SCALAR,
    ) -> None:
        self.source = source
        self.scale = scale
        self.negation_scalar = negation_scalar

    def fit(self, posts: Any = None, y: Any = None) -> "LexiconFeatures":
        if self.source == "vader":
            lexicon = {t: (v, 0.0) for t, v in load_vader_lexicon().items()}
            names = ["positive", "negative"]
        elif self.source == "pattern":
            lexicon = load_pattern_lexicon()
            names = ["positive", "negative", "subjective"]
        else:
            raise ValueError(f"unknown lexicon source {self.source!r}")
        terms = list(lexicon)
        polarity = np.array([lexicon[t][0] for t in terms])
        # Every term twice: plain, then in negation scope.
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self.vocabulary_.update(
            {t + NEGATION_SUFFIX: i + len(terms) for i, t in enumerate(terms)}
        )
        signed = np.concatenate([polarity, polarity * self.negation_scalar])
        columns = [np.clip(signed, 0, None), np.clip(-signed, 0, None)]
        if len(names) == 3:
            subjectivity = np.array([lexicon[t][1] for t in terms])
            columns.append(np.concatenate([subjectivity, subjectivity]))
        self.scores_ = np.column_stack(columns).astype(np.float32)
        self.feature_names_ = names
        return self

    def transform(self, posts: Sequence[PreparedPost]) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        lookup = self.vocabulary_.get
        columns: list[int] = []
        indptr = [0]
        for post in posts:
            found = map(lookup, post.tokens)
            columns.extend(c for c in found if c is not None)
            indptr.append(len(columns))
        rows, sums = segment_sums(self.scores_[np.asarray(columns, np.intp)], indptr)
        return rows_to_csr(rows, self.scale * np.log1p(sums), len(posts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return np.array(self.feature_names_, dtype=object)
