"""The pipeline's feature steps: scikit-learn transformers over tweets.

* :class:`TweetPreparer` normalizes and tokenizes each post once; the steps
  after it read the :class:`PreparedPost` it returns instead of redoing that
  work (it was most of the scoring time).
* :class:`CharNgramCounter` counts character n-grams inside words like
  ``TfidfVectorizer(analyzer="char_wb")``, but per distinct word of a batch
  rather than per occurrence: tweets repeat their words, so this is several
  times faster.
* :class:`LexiconFeatures` sums the lexicon scores of a post's words (VADER's
  valences, or TextBlob's pattern polarity and subjectivity; negated words
  flipped and damped as VADER does), as a sparse product.

Every function the fitted pipeline refers to lives here, so a pickled model
loads wherever the package is installed.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.model.preprocess import (
    emoji_descriptions,
    normalize,
    split_tokens,
    tokenize,
)


class PreparedPost(NamedTuple):
    """One post after :func:`normalize` (``text``) and :func:`tokenize` (``tokens``)."""

    text: str
    tokens: list[str]


def post_tokens(post: PreparedPost) -> list[str]:
    """The tokens of a prepared post (the word vectorizer's tokenizer)."""
    return post.tokens


class TweetPreparer(TransformerMixin, BaseEstimator):
    """Normalize and tokenize each post once for all the feature steps after it.

    Stateless: ``fit`` learns nothing. ``transform`` takes strings and returns
    a list of :class:`PreparedPost`. With ``describe_emoji`` each emoji is
    followed by its name in words (:func:`emoji_descriptions`).
    ``mark_negation`` = False leaves out the ``_NEG`` marks (only to measure
    what they are worth).
    """

    def __init__(self, describe_emoji: bool = True, mark_negation: bool = True) -> None:
        self.describe_emoji = describe_emoji
        self.mark_negation = mark_negation

    def fit(self, texts: Iterable[str], y: Any = None) -> "TweetPreparer":
        return self

    def transform(self, texts: Iterable[str]) -> list[PreparedPost]:
        split = tokenize if self.mark_negation else split_tokens
        descriptions = emoji_descriptions() if self.describe_emoji else {}
        prepared = []
        for text in texts:
            normalized = normalize(text)
            if descriptions and not normalized.isascii():
                normalized = normalized.translate(descriptions)
            prepared.append(PreparedPost(normalized, split(normalized)))
        return prepared

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _gram_slices(size: int, min_n: int, max_n: int) -> tuple[slice, ...]:
    """Slices that cut a padded word of ``size`` characters into its n-grams."""
    key = (size, min_n, max_n)
    cached = _SLICES.get(key)
    if cached is None:
        spans: list[slice] = []
        for n in range(min_n, max_n + 1):
            if size <= n:
                spans.append(slice(0, size))
                break
            spans.extend(slice(i, i + n) for i in range(size - n + 1))
        cached = _SLICES.setdefault(key, tuple(spans))
    return cached


# Slice tuples per (padded word length, min_n, max_n), shared by all counters.
_SLICES: dict[tuple[int, int, int], tuple[slice, ...]] = {}


def word_char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """Character n-grams of one word padded with a space on each side.

    The same n-grams as scikit-learn's ``analyzer="char_wb"``: a padded word
    shorter than ``n`` gives itself once, and longer n are skipped.

    >>> word_char_ngrams("ok", 2, 4)
    [' o', 'ok', 'k ', ' ok', 'ok ', ' ok ']
    """
    padded = f" {word} "
    return list(map(padded.__getitem__, _gram_slices(len(padded), min_n, max_n)))


def _word_counts(
    posts: Sequence[PreparedPost],
) -> tuple[sp.csr_matrix, list[str]]:
    """Posts x distinct-words count matrix, and the distinct words in column order."""
    index: dict[str, int] = {}
    columns: list[int] = []
    indptr = [0]
    for post in posts:
        for word in post.text.split():
            columns.append(index.setdefault(word, len(index)))
        indptr.append(len(columns))
    data = np.ones(len(columns), dtype=np.float32)
    counts = sp.csr_matrix(
        (data, np.asarray(columns, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(posts), len(index)),
    )
    counts.sum_duplicates()
    return counts, list(index)


class CharNgramCounter(TransformerMixin, BaseEstimator):
    """Counts of character n-grams within words, over :class:`PreparedPost` texts.

    Equivalent to ``CountVectorizer(analyzer="char_wb", ngram_range, min_df,
    max_features)`` on the normalized text, computed as (posts x words) @
    (words x n-grams) so each distinct word of a batch is cut into n-grams
    once. Follow it with a ``TfidfTransformer``.

    Parameters
    ----------
    ngram_range : (min_n, max_n) n-gram lengths, spaces padding included.
    min_df : keep n-grams found in at least this many training posts.
    max_features : then keep at most this many, the most frequent.
    cached_words : the n-gram counts of this many of the most frequent
        training words are kept with the model, so scoring only cuts up the
        rarer words (the same counts, a few times faster).
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_features: int | None = None,
        cached_words: int = 0,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.cached_words = cached_words

    def fit(self, posts: Sequence[PreparedPost], y: Any = None) -> "CharNgramCounter":
        self.fit_transform(posts)
        return self

    def fit_transform(
        self, posts: Sequence[PreparedPost], y: Any = None, **fit_params: Any
    ) -> sp.csr_matrix:
        min_n, max_n = self.ngram_range
        if not 1 <= min_n <= max_n:
            raise ValueError(f"invalid ngram_range {self.ngram_range}")
        post_words, words = _word_counts(posts)
        every_gram: dict[str, int] = {}
        word_grams = self._word_gram_matrix(words, every_gram, grow=True)
        counts = (post_words @ word_grams).tocsc()
        document_frequency = np.diff(counts.indptr)
        keep = np.flatnonzero(document_frequency >= self.min_df)
        if self.max_features is not None and len(keep) > self.max_features:
            frequency = np.asarray(counts[:, keep].sum(axis=0)).ravel()
            # Stable sort: ties keep n-gram id order, so fits are reproducible.
            order = np.argsort(-frequency, kind="stable")[: self.max_features]
            keep = keep[order]
        if len(keep) == 0:
            raise ValueError(
                "no character n-gram reaches min_df; lower min_df or add data"
            )
        names = np.array(list(every_gram), dtype=object)[keep]
        alphabetical = np.argsort(names, kind="stable")
        keep, names = keep[alphabetical], names[alphabetical]
        self.vocabulary_ = {str(gram): i for i, gram in enumerate(names)}
        self.n_features_out_ = len(keep)
        frequency = np.asarray(post_words.sum(axis=0)).ravel()
        cached = np.argsort(-frequency, kind="stable")[: self.cached_words]
        self.cached_word_rows_ = {words[w]: i for i, w in enumerate(cached)}
        # One column id per n-gram occurrence, each word's ids contiguous.
        cached_grams = word_grams[cached][:, keep].tocsr()
        per_word = np.asarray(cached_grams.sum(axis=1)).ravel().astype(np.int64)
        self.cached_word_ends_ = np.cumsum(per_word)
        self.cached_gram_columns_ = np.repeat(
            cached_grams.indices, cached_grams.data.astype(np.int64)
        ).astype(np.int32)
        return counts[:, keep].tocsr()

    def transform(self, posts: Sequence[PreparedPost]) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        post_words, words = _word_counts(posts)
        min_n, max_n = self.ngram_range
        lookup = self.vocabulary_.get
        cached_row = self.cached_word_rows_.get
        ends, columns = self.cached_word_ends_, self.cached_gram_columns_
        pieces: list[Any] = []
        for word in words:
            row = cached_row(word)
            if row is None:
                padded = f" {word} "
                slices = _gram_slices(len(padded), min_n, max_n)
                found = map(lookup, map(padded.__getitem__, slices), repeat(-1))
                pieces.append([c for c in found if c >= 0])
            else:
                pieces.append(columns[ends[row - 1] if row else 0 : ends[row]])
        lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
        indptr = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = (
            np.concatenate(pieces).astype(np.int32, copy=False)
            if indptr[-1]
            else np.zeros(0, dtype=np.int32)
        )
        word_grams = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr),
            shape=(len(words), self.n_features_out_),
        )
        return (post_words @ word_grams).tocsr()

    def _word_gram_matrix(
        self, words: list[str], vocabulary: dict[str, int], grow: bool
    ) -> sp.csr_matrix:
        """Words x n-grams counts; ``grow`` adds unseen n-grams to ``vocabulary``."""
        min_n, max_n = self.ngram_range
        unknown = -1
        columns: list[int] = []
        ends = []
        # map() over dict methods keeps the per-n-gram work in C; this loop is
        # most of the scoring time otherwise.
        lookup = vocabulary.get
        for word in words:
            padded = f" {word} "
            grams = map(padded.__getitem__, _gram_slices(len(padded), min_n, max_n))
            if grow:
                for gram in grams:
                    columns.append(vocabulary.setdefault(gram, len(vocabulary)))
            else:
                columns.extend(map(lookup, grams, repeat(unknown)))
            ends.append(len(columns))
        column_array = np.asarray(columns, dtype=np.int32)
        known = column_array != unknown
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        indptr[1:] = (
            np.cumsum(known)[np.asarray(ends, dtype=np.int64) - 1] if ends else []
        )
        matrix = sp.csr_matrix(
            (
                np.ones(int(known.sum()), dtype=np.float32),
                column_array[known],
                indptr,
            ),
            shape=(len(words), len(vocabulary) if grow else self.n_features_out_),
        )
        matrix.sum_duplicates()
        return matrix

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The n-grams, in column order."""
        check_is_fitted(self, "vocabulary_")
        return np.array(list(self.vocabulary_), dtype=object)


def segment_sums(
    values: np.ndarray, indptr: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``values`` rows per post, ``indptr`` giving each post's rows.

    Returns the indices of the posts with at least one row and their sums.
    Plain numpy rather than a sparse product: for the single post of an API
    call, scipy's constructors cost more than the arithmetic.
    """
    bounds = np.asarray(indptr)
    nonempty = np.flatnonzero(np.diff(bounds))
    if not len(values):
        return nonempty, values
    return nonempty, np.add.reduceat(values, bounds[nonempty], axis=0)


def rows_to_csr(rows: np.ndarray, values: np.ndarray, n_rows: int) -> sp.csr_matrix:
    """A float32 CSR matrix of ``n_rows`` rows: ``values[i]`` in row ``rows[i]``
    (increasing), every other row empty; built from its arrays directly."""
    width = values.shape[1]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    indptr[rows + 1] = width
    return sp.csr_matrix(
        (
            values.astype(np.float32, copy=False).ravel(),
            np.tile(np.arange(width, dtype=np.int32), len(rows)),
            np.cumsum(indptr),
        ),
        shape=(n_rows, width),
    )
