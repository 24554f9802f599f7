# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled scoring core of :mod:`sentiment.model.fast`.

The same per-post computation as ``fast_pure.score_pure``, with the same
arithmetic in the same order (so the same numbers), in C: negation scope,
word uni- and bigram and character n-gram counts, sublinear TF-IDF with L2
norm, lexicon sums, the mean word vector, the logits and the softmax. Each
chunk's analysis comes from the base class (:mod:`sentiment.model._chunks`).
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.unicode cimport PyUnicode_AsUCS4
from libc.math cimport exp, log, log1p, sqrt
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, realloc

from sentiment.model._chunks cimport (
    ENDS_WITH_DOT,
    NEGATION_CUE,
    SCOPE_END,
    STARTS_WITH_DOT,
    ChunkAnalyses,
    next_word,
)
from sentiment.model._lookup cimport PairTable
from sentiment.model._tally cimport Tally, tally_free, tally_init

import numpy as np

# What fast.py builds the scorer's lookups with, importable from here.
from sentiment.model._lookup import StringTable  # noqa: F401

cdef enum:
    SMALL_COUNTS = 64  # counts with 1 + log(count) in a table


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    void __builtin_prefetch(const void *) nogil


ctypedef fused table_value:  # a TF-IDF table's type (see Scorer.__init__)
    float
    double


cdef class Scorer(ChunkAnalyses):
    """Holds the model's arrays and reusable buffers; see ``fast._tables``.

    :meth:`set_analysis` (the base class's) gives it what analysing a chunk
    needs before the first :meth:`score`.
    """

    cdef const int[:, ::1] token_table
    cdef PairTable bigrams
    cdef const double[:, ::1] word_table
    cdef const double[:, ::1] char_table
    cdef const float[:, ::1] word_floats  # the same tables, when exact as floats
    cdef const float[:, ::1] char_floats
    cdef readonly bint floats
    cdef bint char_sublinear
    cdef const double[:, ::1] lexicon_scores
    cdef const double[:, ::1] pattern_scores
    cdef const double[:, ::1] vector_logits
    cdef const double[:, ::1] coef
    cdef const double[::1] intercept
    cdef long long char_offset, lexicon_offset, pattern_offset, vector_offset
    cdef double lexicon_scale, pattern_scale, vector_scale
    cdef long long n_tokens
    cdef int *ids
    cdef int *cols
    cdef int *counts
    cdef double *values
    cdef Py_ssize_t capacity
    cdef int n_classes
    cdef Py_UCS4 *text_buffer
    cdef Py_ssize_t text_capacity
    cdef Tally word_tally, char_tally
    # 1 + log(count) of the counts most posts have: the same values as the call
    # (made here, with the same function), without it for every column.
    cdef double sublinear_tf[SMALL_COUNTS]
    cdef const int **post_entries  # the analyses of the post being scored
    cdef Py_ssize_t post_capacity

    def __init__(self, token_table, bigram_keys, bigram_cols, word_table, char_table,
                 char_sublinear, lexicon_scores, pattern_scores, vector_logits, coef,
                 intercept, char_offset, lexicon_offset, pattern_offset,
                 vector_offset, lexicon_scale, pattern_scale, vector_scale, n_tokens,
                 **unused):
        self.token_table = np.ascontiguousarray(token_table, dtype=np.int32)
        self.bigrams = PairTable(bigram_keys, bigram_cols)
        self.word_table = np.ascontiguousarray(word_table, dtype=np.float64)
        self.char_table = np.ascontiguousarray(char_table, dtype=np.float64)
        # A model fitted on float32 features has float32 idf and coefficients:
        # read as floats, the same values take half the cache lines.
        word_floats = np.asarray(self.word_table, dtype=np.float32)
        char_floats = np.asarray(self.char_table, dtype=np.float32)
        self.floats = bool(np.array_equal(word_floats, self.word_table)
                           and np.array_equal(char_floats, self.char_table))
        if self.floats:
            self.word_floats, self.char_floats = word_floats, char_floats
        self.char_sublinear = char_sublinear
        self.lexicon_scores = np.ascontiguousarray(lexicon_scores, dtype=np.float64)
        self.pattern_scores = np.ascontiguousarray(pattern_scores, dtype=np.float64)
        self.vector_logits = np.ascontiguousarray(vector_logits, dtype=np.float64)
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept = np.ascontiguousarray(intercept, dtype=np.float64)
        self.char_offset = char_offset
        self.lexicon_offset = lexicon_offset
        self.pattern_offset = pattern_offset
        self.vector_offset = vector_offset
        self.lexicon_scale = lexicon_scale
        self.pattern_scale = pattern_scale
        self.vector_scale = vector_scale
        self.n_tokens = n_tokens
        self.n_classes = self.coef.shape[0]
        if self.n_classes > 16 or self.vector_logits.shape[1] != self.n_classes:
            raise ValueError("at most 16 classes, and vector logits for each")
        if self.lexicon_scores.shape[1] > 8 or self.pattern_scores.shape[1] > 8:
            raise ValueError("at most 8 lexicon columns")
        cdef int count
        for count in range(1, SMALL_COUNTS):
            self.sublinear_tf[count] = 1.0 + log(<double> count)
        self.capacity = 0
        self._reserve(1024)
        tally_init(&self.word_tally, self.word_table.shape[0])
        tally_init(&self.char_tally, self.char_table.shape[0])
        self.clear_cache()

    def __dealloc__(self):
        free(self.post_entries)
        free(self.text_buffer)
        free(self.ids)
        free(self.cols)
        free(self.counts)
        free(self.values)
        tally_free(&self.word_tally)
        tally_free(&self.char_tally)

    cdef void _reserve(self, Py_ssize_t size) except *:
        if size <= self.capacity:
            return
        size = max(size, 2 * self.capacity)
        self.ids = <int *> realloc(self.ids, size * sizeof(int))
        self.cols = <int *> realloc(self.cols, size * sizeof(int))
        self.counts = <int *> realloc(self.counts, size * sizeof(int))
        self.values = <double *> realloc(self.values, size * sizeof(double))
        if not (self.ids and self.cols and self.counts and self.values):
            raise MemoryError()
        self.capacity = size

    cdef Py_UCS4 *_text_points(self, Py_ssize_t length) except NULL:
        """A buffer for a post of ``length`` code points (and a terminator)."""
        if length + 1 > self.text_capacity:
            self.text_capacity = max(length + 1, 2 * self.text_capacity)
            self.text_buffer = <Py_UCS4 *> realloc(
                self.text_buffer, self.text_capacity * sizeof(Py_UCS4))
            if not self.text_buffer:
                raise MemoryError()
        return self.text_buffer

    cdef int _add_post_entry(self, Py_ssize_t n, const int *entry) except -1:
        if n >= self.post_capacity:
            self.post_capacity = max(2 * self.post_capacity, 64)
            self.post_entries = <const int **> realloc(
                self.post_entries, self.post_capacity * sizeof(const int *))
            if not self.post_entries:
                raise MemoryError()
        self.post_entries[n] = entry
        return 0

    def score(self, list texts):
        """Probabilities (n x classes) and known-word counts of cleaned texts.

        Each post is split as ``str.split()`` splits it, and each chunk's
        analysis comes from the cache (see :meth:`clear_cache`).
        """
        cdef Py_ssize_t n = len(texts), p, i, start, length, n_entries
        probabilities = np.empty((n, self.n_classes), dtype=np.float64)
        known = np.empty(n, dtype=np.int64)
        cdef double[:, ::1] probs = probabilities
        cdef long long[::1] known_view = known
        cdef const int *head
        cdef bint previous_end, fallback
        cdef str text
        cdef Py_UCS4 *points
        for p in range(n):
            text = texts[p]
            length = len(text)
            # The post's code points, read directly below (not text[i]: a call
            # with checks per character).
            points = self._text_points(length)
            PyUnicode_AsUCS4(text, points, length + 1, 0)
            n_entries = 0
            previous_end = False
            fallback = False
            i = 0
            while True:
                start = next_word(points, length, &i)
                if start < 0:
                    break
                head = self._cached(points + start, i - start)
                self._add_post_entry(n_entries, head)
                n_entries += 1
                if head[0] > 0 or head[1] > 0:
                    if previous_end and head[2] & STARTS_WITH_DOT:
                        fallback = True
                        break
                    previous_end = head[2] & ENDS_WITH_DOT
            if fallback:  # ". ." spans two chunks: the post is analysed whole
                whole = self.analyse(text)
                self.post_entries[0] = <const int *> PyBytes_AS_STRING(whole)
                n_entries = 1
            known_view[p] = self._score_post(n_entries, &probs[p, 0])
        return probabilities, known

    cdef Py_ssize_t _score_post(self, Py_ssize_t n_entries, double *out) except -1:
        cdef double logits[16]
        cdef Py_ssize_t k, i, t, e, n_ids = 0, total_tokens = 0, total_grams = 0
        cdef const int *ints
        cdef bint in_scope = False
        cdef int flags, marked
        for k in range(self.n_classes):
            logits[k] = self.intercept[k]
        for e in range(n_entries):
            ints = self.post_entries[e]
            total_tokens += ints[0]
            total_grams += ints[1]
        self._reserve(2 * total_tokens + total_grams + 1)
        # Negation scope, as preprocess.mark_negation_scope.
        for e in range(n_entries):
            ints = self.post_entries[e]
            for t in range(ints[0]):
                flags = ints[5 + 3 * t]
                marked = ints[3 + 3 * t]
                if flags & NEGATION_CUE:
                    if in_scope:
                        marked = ints[4 + 3 * t]
                    else:
                        in_scope = True
                elif in_scope:
                    if flags & SCOPE_END:
                        in_scope = False
                    else:
                        marked = ints[4 + 3 * t]
                self.ids[n_ids] = marked
                n_ids += 1
        cdef Py_ssize_t n_words = self._word_block(n_ids, logits)
        self._char_block(n_entries, logits)
        if self.lexicon_offset >= 0:
            self._lexicon(n_ids, 1, self.lexicon_scores,
                          self.lexicon_scale, self.lexicon_offset, logits)
        if self.pattern_offset >= 0:
            self._lexicon(n_ids, 2, self.pattern_scores,
                          self.pattern_scale, self.pattern_offset, logits)
        if self.vector_offset >= 0:
            self._vectors(n_ids, logits)
        cdef double top = logits[0], total = 0.0
        for k in range(1, self.n_classes):
            if logits[k] > top:
                top = logits[k]
        for k in range(self.n_classes):
            out[k] = exp(logits[k] - top)
            total += out[k]
        for k in range(self.n_classes):
            out[k] = out[k] / total
        return n_words

    cdef Py_ssize_t _tfidf(self, Py_ssize_t n, const table_value[:, ::1] table,
                           bint sublinear, Tally *tally, double *logits) noexcept:
        """TF-IDF (L2) of the n column ids in ``cols``, added to the logits.

        Columns are visited in increasing order (as ``fast_pure._tfidf``): the
        same sums, and the table is read front to back. ``tally`` counts them
        and gives them back in that order, and is left all zero.
        """
        cdef Py_ssize_t i, m = 0, k, word, s
        cdef int col, count
        cdef uint64_t pending, bits
        cdef double v, norm = 0.0
        for i in range(n):
            col = self.cols[i]
            if tally.counts[col] == 0:
                # The row is read below, in column order: fetch it now, while
                # the other columns are counted (the table is megabytes).
                __builtin_prefetch(&table[col, 0])
                tally.bits[col >> 6] |= (<uint64_t> 1) << (col & 63)
                tally.summary[col >> 12] |= (<uint64_t> 1) << ((col >> 6) & 63)
            tally.counts[col] += 1
        for s in range(tally.n_summary):
            pending = tally.summary[s]
            tally.summary[s] = 0
            while pending:
                word = s * 64 + __builtin_ctzll(pending)
                pending &= pending - 1
                bits = tally.bits[word]
                tally.bits[word] = 0
                while bits:
                    col = <int> (word * 64 + __builtin_ctzll(bits))
                    bits &= bits - 1
                    count = tally.counts[col]
                    tally.counts[col] = 0
                    if not sublinear:
                        v = count
                    elif count < SMALL_COUNTS:
                        v = self.sublinear_tf[count]
                    else:
                        v = 1.0 + log(<double> count)
                    v = v * table[col, 0]
                    self.values[m] = v
                    self.counts[m] = col
                    m += 1
                    norm += v * v
        norm = sqrt(norm)
        for i in range(m):
            v = self.values[i] / norm
            col = self.counts[i]
            for k in range(self.n_classes):
                logits[k] += v * table[col, 1 + k]
        return m

    cdef Py_ssize_t _word_block(self, Py_ssize_t n_ids, double *logits) noexcept:
        cdef Py_ssize_t i, n = 0
        cdef int a, b, col, found
        for i in range(n_ids):
            a = self.ids[i]
            if a >= 0:
                col = self.token_table[a, 0]
                if col >= 0:
                    self.cols[n] = col
                    n += 1
        for i in range(n_ids - 1):
            a = self.ids[i]
            b = self.ids[i + 1]
            if a < 0 or b < 0:
                continue
            found = self.bigrams.find(a * self.n_tokens + b)
            if found >= 0:
                self.cols[n] = found
                n += 1
        if n == 0:
            return 0
        if self.floats:
            return self._tfidf(n, self.word_floats, True, &self.word_tally, logits)
        return self._tfidf(n, self.word_table, True, &self.word_tally, logits)

    cdef void _char_block(self, Py_ssize_t n_entries, double *logits) except *:
        cdef Py_ssize_t n = 0, g, start, e
        cdef const int *ints
        for e in range(n_entries):
            ints = self.post_entries[e]
            start = 3 + 3 * ints[0]
            for g in range(ints[1]):
                self.cols[n] = ints[start + g]
                n += 1
        if n and self.floats:
            self._tfidf(n, self.char_floats, self.char_sublinear, &self.char_tally,
                        logits)
        elif n:
            self._tfidf(n, self.char_table, self.char_sublinear, &self.char_tally,
                        logits)

    cdef void _lexicon(self, Py_ssize_t n_ids, int field,
                       const double[:, ::1] scores, double scale, long long offset,
                       double *logits) noexcept:
        cdef double sums[8]
        cdef Py_ssize_t i, j, k, width = scores.shape[1]
        cdef int row
        cdef bint found = False
        cdef double v
        for j in range(width):
            sums[j] = 0.0
        for i in range(n_ids):
            if self.ids[i] < 0:
                continue
            row = self.token_table[self.ids[i], field]
            if row < 0:
                continue
            found = True
            for j in range(width):
                sums[j] += scores[row, j]
        if not found:
            return
        for j in range(width):
            v = scale * log1p(sums[j])
            for k in range(self.n_classes):
                logits[k] += v * self.coef[k, offset + j]

    cdef void _vectors(self, Py_ssize_t n_ids, double *logits) except *:
        """The mean word vector's share of the logits, from each row's share."""
        cdef Py_ssize_t i, k, n = 0
        cdef int row
        cdef double sums[16]
        cdef double factor
        for k in range(self.n_classes):
            sums[k] = 0.0
        for i in range(n_ids):
            if self.ids[i] < 0:
                continue
            row = self.token_table[self.ids[i], 3]
            if row < 0:
                continue
            n += 1
            for k in range(self.n_classes):
                sums[k] += self.vector_logits[row, k]
        if n == 0:
            return
        factor = self.vector_scale / n
        for k in range(self.n_classes):
            logits[k] += factor * sums[k]
