"""The fast tier: the classic model scored from its exported arrays.

:class:`FastModel` computes the same features and probabilities as the fitted
scikit-learn pipeline (word and character TF-IDF, lexicon sums, mean word
vector, multinomial logistic regression) without scikit-learn, SciPy or
pandas. The per-post loop runs in the compiled ``_fastscore`` extension; when
it is missing, ``fast_pure.score_pure`` runs the same loop in Python (the same
arithmetic in the same order, so the same numbers, only slower).

Posts are analysed word by word (whitespace-separated chunks) and each
chunk's analysis is remembered: normalising and tokenising a post equals doing
so chunk by chunk, because no rule of ``normalize`` or of the token pattern
reaches across whitespace, except the spaced ellipsis (". . ."), for which a
post is analysed whole (see :meth:`FastModel.analyse`).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from array import array
from typing import Any, Sequence

import numpy as np

from sentiment import config
from sentiment.model.export import pack_strings, unpack_strings
from sentiment.model.fast_pure import NEGATION_CUE, SCOPE_END, post_features, score_pure
from sentiment.model.preprocess import (
    NEGATION_SUFFIX,
    NEGATIONS,
    SCOPE_END_RE,
    is_negation_cue,
    normalize,
)

log = logging.getLogger(__name__)

try:  # the compiled core; fast_pure gives the same numbers
    from sentiment.model import _fastscore
except ImportError as error:  # pragma: no cover - depends on the build
    _fastscore = None
    _IMPORT_ERROR: ImportError | None = error
else:
    _IMPORT_ERROR = None


# Chunk flags: its normalised text starts / ends with a dot.
STARTS_WITH_DOT = 1
ENDS_WITH_DOT = 2


class FastModel:
    """The exported classic model, ready to score texts.

    ``arrays`` and ``meta`` come from :func:`sentiment.model.export.read_arrays`.
    ``compiled`` = False forces the pure-Python path (tests compare the two).
    """

    def __init__(
        self, arrays: dict[str, np.ndarray], meta: dict[str, Any], compiled: bool = True
    ) -> None:
        self.meta = meta
        self._arrays = arrays  # kept for pickling (Dask ships the model)
        self._compiled_wanted = compiled
        self.classes_ = np.array(meta["classes"], dtype=object)
        self._strings = {name: arrays[name] for name in ("tokens", "char_terms")}
        n_tokens = len(arrays["word_col"])
        self._min_n, self._max_n = meta["char_ngram_range"]
        self._token_re = re.compile(meta["token_pattern"], _token_flags())
        self._emoji = {int(k): v for k, v in meta["emoji_descriptions"].items()}
        self._cache: dict[str, bytes] = {}
        self.blocks = [(str(name), int(width)) for name, width in meta["blocks"]]
        self.tables = _tables(arrays, meta, self.blocks, n_tokens)
        if compiled and _fastscore is None:
            log.warning(
                "the compiled scoring core is not built (%s); scoring in pure "
                "Python, several times slower. Reinstall with `pip install -e .`.",
                _IMPORT_ERROR,
            )
        self.compiled = compiled and _fastscore is not None
        self._scorer = None
        # The compiled core keeps its work in buffers of the instance and calls
        # back into Python (the normaliser), where another thread may run: the
        # page's sessions (threads) share one cached model, so one call at a
        # time. Re-entrant: a call back may analyse a chunk.
        self._lock = threading.RLock()
        if self.compiled:
            self._scorer = _fastscore.Scorer(**self.tables)
            self._scorer.set_analysis(
                _fastscore.StringTable(*code_points(arrays["tokens"])),
                _fastscore.StringTable(*code_points(arrays["char_terms"])),
                self._min_n,
                self._max_n,
                _fastscore.StringTable(*code_points(pack_strings(sorted(NEGATIONS)))),
                NEGATION_SUFFIX,
                self.normalize_tokenize,
            )

    def __getstate__(self) -> dict[str, Any]:
        """The arrays and settings only: the compiled tables are rebuilt on load."""
        return {
            "arrays": self._arrays,
            "meta": self.meta,
            "compiled": self._compiled_wanted,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["arrays"], state["meta"], state["compiled"])

    @functools.cached_property
    def _token_ids(self) -> dict[str, int]:
        """Token -> id (the pure path's lookup; the compiled core has its own)."""
        tokens = unpack_strings(self._strings["tokens"])
        return {token: i for i, token in enumerate(tokens)}

    @functools.cached_property
    def _char_ids(self) -> dict[str, int]:
        """Character n-gram -> column (the pure path's lookup)."""
        grams = unpack_strings(self._strings["char_terms"])
        return {gram: i for i, gram in enumerate(grams)}

    @property
    def n_word_features(self) -> int:
        """Columns of the word n-gram block (known-word evidence)."""
        return int(self.tables["n_word"])

    def analyse(self, chunk: str) -> bytes:
        """One chunk's tokens and character n-grams, packed as int32s.

        Layout: ``[n_tokens, n_grams, dot_flags]``, then per token its id,
        its negated form's id (-1 when unknown) and flags, then the columns
        of the n-grams of every word of the normalised chunk.
        """
        if self._scorer is not None:
            with self._lock:
                return self._scorer.analyse(chunk)
        return self.pack(*self.normalize_tokenize(chunk))

    def normalize_tokenize(self, chunk: str) -> tuple[str, list[str]]:
        """The chunk as the pipeline's TweetPreparer sees it: text and tokens."""
        text = normalize(chunk)
        if self._emoji and not text.isascii():
            text = text.translate(self._emoji)
        return text, self.split_tokens(text)

    def split_tokens(self, normalized: str) -> list[str]:
        """``preprocess.split_tokens`` with the pattern stored in the model
        (the same one, without importing NLTK)."""
        return self._token_re.findall(normalized)

    def pack(self, text: str, tokens: list[str]) -> bytes:
        """:meth:`analyse`'s packed form of a normalised text and its tokens."""
        ids = self._token_ids.get
        packed = [len(tokens), 0, 0]
        for token in tokens:
            flags = NEGATION_CUE if is_negation_cue(token) else 0
            if SCOPE_END_RE.fullmatch(token):
                flags |= SCOPE_END
            packed += (ids(token, -1), ids(token + NEGATION_SUFFIX, -1), flags)
        grams = self._char_ids.get
        for word in text.split():
            padded = f" {word} "
            for n in range(self._min_n, self._max_n + 1):
                if len(padded) <= n:
                    column = grams(padded, -1)
                    if column >= 0:
                        packed.append(column)
                    break
                for i in range(len(padded) - n + 1):
                    column = grams(padded[i : i + n], -1)
                    if column >= 0:
                        packed.append(column)
        packed[1] = len(packed) - 3 - 3 * len(tokens)
        packed[2] = (STARTS_WITH_DOT if text[:1] == "." else 0) | (
            ENDS_WITH_DOT if text[-1:] == "." else 0
        )
        return array("i", packed).tobytes()

    def chunks(self, text: str) -> list[bytes]:
        """The analysed chunks of one (cleaned) text, from the cache when seen."""
        cache = self._cache
        entries = []
        for chunk in text.split():
            entry = cache.get(chunk)
            if entry is None:
                entry = cache[chunk] = self.analyse(chunk)
            entries.append(entry)
        return entries

    def clear_cache(self) -> None:
        """Forget the analysed chunks (the compiled core keeps its own)."""
        self._cache.clear()
        if self._scorer is not None:
            with self._lock:
                self._scorer.clear_cache()

    def _trim_cache(self) -> None:
        compiled = 0 if self._scorer is None else self._scorer.cached_chunks()
        if max(len(self._cache), compiled) > config.FAST_WORD_CACHE:
            self.clear_cache()

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (``config.LABELS`` order) and known-word counts.

        ``texts`` are already cleaned (see ``inputs.prepare_text``).
        """
        if self._scorer is not None:
            with self._lock:
                self._trim_cache()
                return self._scorer.score(list(texts))
        self._trim_cache()
        return score_pure(self, texts)

    def features(self, text: str) -> tuple[list[int], list[float]]:
        """One text's feature columns and values (the explanations read them)."""
        return post_features(self, self._post_entries(text))

    def _post_entries(self, text: str) -> list[bytes]:
        entries = self.chunks(text)
        previous_end = False
        for entry in entries:
            flags = entry[8] if len(entry) >= 12 else 0
            if previous_end and flags & STARTS_WITH_DOT:
                return [self.analyse(text)]  # ". ." spans two chunks: whole post
            if len(entry) > 12:
                previous_end = bool(flags & ENDS_WITH_DOT)
        return entries


def code_points(blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A packed string list as code points end to end, and each one's bounds.

    All in numpy (no Python string per entry): it runs at every model load.
    """
    text = blob.tobytes().decode("utf-8")
    if not text:
        return np.zeros(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    newline = points == ord("\n")
    breaks = np.flatnonzero(newline)
    ends = np.append(breaks, len(points)) - np.arange(len(breaks) + 1)
    return points[~newline], np.concatenate([[0], ends]).astype(np.int64)


def _token_flags() -> int:
    from sentiment.model.preprocess import TOKEN_FLAGS

    return TOKEN_FLAGS


def _tables(
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    blocks: list[tuple[str, int]],
    n_tokens: int,
) -> dict[str, Any]:
    """The arrays both scoring paths read, laid out for few cache misses.

    Per token id one row ``[word column, lexicon row, pattern row, vector
    row]`` (-1: none); per word / character column one row ``[idf, the
    coefficient of each class]``.
    """
    offsets, start = {}, 0
    for name, width in blocks:
        offsets[name] = start
        start += width
    missing = np.full(n_tokens, -1, dtype=np.int32)
    empty = np.zeros((0, 1), dtype=np.float64)
    scales = meta["scales"]
    # Float16 as stored: read as they are, the values are those of any wider
    # copy, which would cost 14 MB and its page faults at every start.
    vectors = arrays.get("vectors")
    vectors = np.zeros((0, 1), np.float16) if vectors is None else vectors
    coef = arrays["coef"]
    n_word, n_char = len(arrays["word_idf"]), len(arrays["char_idf"])
    char = slice(offsets["char"], offsets["char"] + n_char)
    return {
        "token_table": np.column_stack(
            [
                arrays["word_col"],
                arrays.get("lexicon_row", missing),
                arrays.get("pattern_row", missing),
                arrays.get("vector_row", missing),
            ]
        ).astype(np.int32),
        "bigram_keys": arrays["bigram_keys"],
        "bigram_cols": arrays["bigram_cols"],
        "word_table": np.column_stack([arrays["word_idf"], coef[:, :n_word].T]),
        "char_table": np.column_stack([arrays["char_idf"], coef[:, char].T]),
        "char_sublinear": bool(meta["char_sublinear_tf"]),
        "lexicon_scores": arrays.get("lexicon_scores", empty),
        "pattern_scores": arrays.get("pattern_scores", empty),
        "vectors": vectors,
        "vector_logits": _vector_logits(vectors, coef, offsets.get("vectors", -1)),
        "coef": coef,
        "intercept": arrays["intercept"],
        "n_word": n_word,
        "char_offset": offsets["char"],
        "lexicon_offset": offsets.get("lexicon", -1),
        "pattern_offset": offsets.get("pattern", -1),
        "vector_offset": offsets.get("vectors", -1),
        "lexicon_scale": float(scales.get("lexicon", 0.0)),
        "pattern_scale": float(scales.get("pattern", 0.0)),
        "vector_scale": float(scales.get("vectors", 0.0)),
        "n_tokens": n_tokens,
    }


def _vector_logits(vectors: np.ndarray, coef: np.ndarray, offset: int) -> np.ndarray:
    """Each vector row's share of each class's logit (rows x classes).

    The mean vector's share is linear in the rows, so a post sums a few numbers
    per word instead of its whole vector. einsum, not a BLAS matmul: the same
    sums everywhere, and BLAS's threads are not woken (they spin afterwards).
    """
    if offset < 0:
        return np.zeros((0, coef.shape[0]), dtype=np.float64)
    block = coef[:, offset : offset + vectors.shape[1]]
    return np.einsum("rj,kj->rk", vectors, block)
