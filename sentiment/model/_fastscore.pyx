# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled scoring core of :mod:`sentiment.model.fast`.

The same per-post computation as ``fast_pure.score_pure``, with the same
arithmetic in the same order (so the same numbers), in C: negation scope,
word uni- and bigram and character n-gram counts, sublinear TF-IDF with L2
norm, lexicon sums, the mean word vector, the logits and the softmax.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.unicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_AsUCS4,
    PyUnicode_FromKindAndData,
    Py_UNICODE_ISSPACE,
)
from libc.math cimport exp, log, log1p, sqrt
from libc.stdlib cimport free, realloc

import numpy as np

from sentiment.model._chunk_tokens import ascii_normalize_tokenize

cdef int NEGATION_CUE = 1
cdef int SCOPE_END = 2
cdef int STARTS_WITH_DOT = 1
cdef int ENDS_WITH_DOT = 2
cdef enum:
    SMALL_COUNTS = 64  # counts with 1 + log(count) in a table


cdef bint _is_scope_end(str token):
    """``token`` fully matches ``[.,:;!?]+|but`` (preprocess.SCOPE_END_RE)."""
    cdef Py_UCS4 c
    if token == u"but":
        return True
    if len(token) == 0:
        return False
    for c in token:
        if not (c == u'.' or c == u',' or c == u':' or c == u';' or c == u'!'
                or c == u'?'):
            return False
    return True


from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    void __builtin_prefetch(const void *) nogil


cdef struct Tally:
    # Per column of one table: its count in the post being scored, a bit per
    # column with a nonzero count and a bit per nonzero word of those bits.
    # Reading the bits in order visits the post's columns in increasing order
    # (what the sums need) without sorting them; all are zero between posts.
    int *counts
    uint64_t *bits
    uint64_t *summary
    Py_ssize_t n_summary


cdef int _tally_init(Tally *tally, Py_ssize_t n_columns) except -1:
    cdef Py_ssize_t n_bits = n_columns // 64 + 1
    tally.n_summary = n_bits // 64 + 1
    tally.counts = <int *> calloc(n_columns + 1, sizeof(int))
    tally.bits = <uint64_t *> calloc(n_bits, sizeof(uint64_t))
    tally.summary = <uint64_t *> calloc(tally.n_summary, sizeof(uint64_t))
    if not (tally.counts and tally.bits and tally.summary):
        raise MemoryError()
    return 0


cdef void _tally_free(Tally *tally) noexcept:
    free(tally.counts)
    free(tally.bits)
    free(tally.summary)


cdef inline uint64_t _fnv(const Py_UCS4 *points, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ <uint64_t> points[i]) * 1099511628211ULL
    return h


cdef inline uint64_t _mix(uint64_t x) noexcept nogil:
    """splitmix64's finaliser: every bit of ``x`` moves the low bits."""
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL
    return x ^ (x >> 31)


cdef struct PairSlot:
    int64_t key  # -1: empty
    int32_t column


cdef class PairTable:
    """Word bigram key (``a * n_tokens + b``) -> column, open addressing.

    A probe reads one 16-byte slot: key and column together, so a lookup is
    one cache line, where a StringTable reads four (bigrams are looked up in
    every post, and the table is megabytes).
    """

    cdef PairSlot *slots
    cdef uint64_t mask

    def __init__(self, keys, columns):
        cdef const int64_t[::1] key_view = np.ascontiguousarray(keys, dtype=np.int64)
        cdef const int32_t[::1] column_view = np.ascontiguousarray(
            columns, dtype=np.int32
        )
        cdef Py_ssize_t n = key_view.shape[0], i
        cdef uint64_t size = 1, slot
        if column_view.shape[0] != n:
            raise ValueError("one column per bigram key")
        while size < 2 * <uint64_t> n + 2:
            size *= 2
        self.mask = size - 1
        self.slots = <PairSlot *> calloc(size, sizeof(PairSlot))
        if not self.slots:
            raise MemoryError()
        for i in range(<Py_ssize_t> size):
            self.slots[i].key = -1
        for i in range(n):
            if key_view[i] < 0:
                raise ValueError("bigram keys are not negative")
            slot = _mix(<uint64_t> key_view[i]) & self.mask
            while self.slots[slot].key >= 0:
                slot = (slot + 1) & self.mask
            self.slots[slot].key = key_view[i]
            self.slots[slot].column = column_view[i]

    def __dealloc__(self):
        free(self.slots)

    cdef int32_t find(self, int64_t key) noexcept nogil:
        """The column of bigram ``key`` (the first given, as a dict), or -1."""
        cdef uint64_t slot = _mix(<uint64_t> key) & self.mask
        while True:
            if self.slots[slot].key == key:
                return self.slots[slot].column
            if self.slots[slot].key < 0:
                return -1
            slot = (slot + 1) & self.mask


cdef inline int64_t _short_key(const Py_UCS4 *points, Py_ssize_t n) noexcept nogil:
    """``points[:n]`` packed in one integer, or -1 when it does not fit.

    Up to five code points below 4096 (ASCII, Latin, Greek, Cyrillic, Arabic,
    Indic...), 12 bits each, after the length: every such string has its own
    key, and the keys of different lengths never meet.
    """
    cdef int64_t key = n
    cdef Py_ssize_t i
    if n > 5:
        return -1
    for i in range(n):
        if points[i] >= 4096:
            return -1
        key = (key << 12) | <int64_t> points[i]
    return key


cdef class StringTable:
    """An exact string -> id table over code points, read without Python objects.

    Built from all strings' code points laid end to end (``points``) and their
    boundaries (``offsets``); open addressing on a 64-bit FNV-1a hash, and a
    match is confirmed by comparing the code points, so it answers exactly
    what a dict would, without creating a substring or touching its objects.
    """

    cdef const uint32_t[::1] points
    cdef const int64_t[::1] offsets
    cdef uint64_t *hashes
    cdef int32_t *ids
    cdef uint64_t mask
    cdef PairTable short  # the strings _short_key packs: one probe, one cache line

    def __init__(self, points, offsets):
        self.points = np.ascontiguousarray(points, dtype=np.uint32)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        cdef Py_ssize_t n = self.offsets.shape[0] - 1, i
        cdef uint64_t size = 1, slot, h
        while size < 2 * <uint64_t> n + 2:
            size *= 2
        self.mask = size - 1
        self.hashes = <uint64_t *> calloc(size, sizeof(uint64_t))
        self.ids = <int32_t *> calloc(size, sizeof(int32_t))
        if not (self.hashes and self.ids):
            raise MemoryError()
        for i in range(<Py_ssize_t> size):
            self.ids[i] = -1
        for i in range(n):
            h = _fnv(<const Py_UCS4 *> &self.points[0] + self.offsets[i],
                     self.offsets[i + 1] - self.offsets[i])
            slot = h & self.mask
            while self.ids[slot] >= 0:
                slot = (slot + 1) & self.mask
            self.hashes[slot] = h
            self.ids[slot] = <int32_t> i
        keys = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] key_view = keys
        for i in range(n):
            key_view[i] = _short_key(
                <const Py_UCS4 *> &self.points[0] + self.offsets[i],
                self.offsets[i + 1] - self.offsets[i])
        packed = np.flatnonzero(keys >= 0)
        self.short = PairTable(keys[packed], packed.astype(np.int32))

    def __dealloc__(self):
        free(self.hashes)
        free(self.ids)

    cdef int32_t find(self, const Py_UCS4 *key, Py_ssize_t n) noexcept nogil:
        """The id of the string ``key[:n]``, or -1."""
        cdef int64_t packed = _short_key(key, n)
        if packed >= 0:
            return self.short.find(packed)
        cdef uint64_t h = _fnv(key, n), slot = h & self.mask
        cdef int32_t found
        cdef Py_ssize_t start, i
        while True:
            found = self.ids[slot]
            if found < 0:
                return -1
            if self.hashes[slot] == h:
                start = self.offsets[found]
                if self.offsets[found + 1] - start == n:
                    i = 0
                    while i < n and self.points[start + i] == key[i]:
                        i += 1
                    if i == n:
                        return found
            slot = (slot + 1) & self.mask


cdef struct ChunkSlot:
    uint64_t hash
    uint32_t start  # of the chunk's code points in Scorer.chunk_points
    uint32_t length
    const int *entry  # its analysis (NULL: empty slot), a bytes in chunk_entries


cdef class Scorer:
    """Holds the model's arrays and reusable buffers; see ``fast._tables``."""

    cdef const int[:, ::1] token_table
    cdef PairTable bigrams
    cdef const double[:, ::1] word_table
    cdef const double[:, ::1] char_table
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
    cdef StringTable token_ids
    cdef StringTable char_ids
    cdef Py_UCS4 *key
    cdef Py_ssize_t key_capacity
    cdef Py_UCS4 *text_buffer
    cdef Py_ssize_t text_capacity
    cdef int min_n, max_n
    cdef frozenset negations
    cdef str negation_suffix
    cdef object normalize_tokenize
    cdef Tally word_tally, char_tally
    # 1 + log(count) of the counts most posts have: the same values as the call
    # (made here, with the same function), without it for every column.
    cdef double sublinear_tf[SMALL_COUNTS]
    # The analysis of every chunk seen (see :meth:`_cached`): a hash table over
    # the chunks' code points, so a post is split and looked up without a
    # Python string or dict lookup per chunk.
    cdef ChunkSlot *chunk_slots
    cdef uint64_t chunk_mask
    cdef Py_ssize_t n_chunks
    cdef uint32_t *chunk_points
    cdef Py_ssize_t points_used, points_capacity
    cdef list chunk_entries
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
        _tally_init(&self.word_tally, self.word_table.shape[0])
        _tally_init(&self.char_tally, self.char_table.shape[0])
        self.clear_cache()

    def __dealloc__(self):
        free(self.chunk_slots)
        free(self.chunk_points)
        free(self.post_entries)
        free(self.key)
        free(self.text_buffer)
        free(self.ids)
        free(self.cols)
        free(self.counts)
        free(self.values)
        _tally_free(&self.word_tally)
        _tally_free(&self.char_tally)

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

    def set_analysis(self, StringTable token_ids, StringTable char_ids, int min_n,
                     int max_n,
                     frozenset negations, str negation_suffix,
                     object normalize_tokenize):
        """What :meth:`analyse` needs: the lookups and the Python normaliser."""
        self.token_ids = token_ids
        self.char_ids = char_ids
        self.min_n = min_n
        self.max_n = max_n
        self.negations = negations
        self.negation_suffix = negation_suffix
        self.normalize_tokenize = normalize_tokenize

    def analyse(self, str chunk):
        """``FastModel.analyse`` of one chunk (the same bytes, faster).

        A printable-ASCII chunk is read by ``_chunk_tokens``, which gives what
        normalize and the token pattern give; anything else goes through them.
        """
        analysed = ascii_normalize_tokenize(chunk)
        if analysed is None:
            analysed = self.normalize_tokenize(chunk)
        return self._pack(analysed[0], analysed[1])

    cdef Py_UCS4 *_key(self, Py_ssize_t size) except NULL:
        """A scratch buffer of at least ``size`` code points."""
        if size > self.key_capacity:
            self.key = <Py_UCS4 *> realloc(self.key, size * sizeof(Py_UCS4))
            if not self.key:
                raise MemoryError()
            self.key_capacity = size
        return self.key

    cdef Py_UCS4 *_text_points(self, Py_ssize_t length) except NULL:
        """A buffer for a post of ``length`` code points (and a terminator)."""
        if length + 1 > self.text_capacity:
            self.text_capacity = max(length + 1, 2 * self.text_capacity)
            self.text_buffer = <Py_UCS4 *> realloc(
                self.text_buffer, self.text_capacity * sizeof(Py_UCS4))
            if not self.text_buffer:
                raise MemoryError()
        return self.text_buffer

    cdef bytes _pack(self, str text, list tokens):
        cdef Py_ssize_t n_tokens = len(tokens), t, i, g, size, count = 3, length
        cdef Py_ssize_t suffix = len(self.negation_suffix)
        cdef Py_ssize_t bound = 3 + 3 * n_tokens + 9 * len(text) + 9
        cdef int flags
        cdef str token, word
        cdef Py_UCS4 *key
        buffer = bytearray(bound * sizeof(int))
        cdef int *out = <int *> PyByteArray_AS_STRING(buffer)
        out[0] = <int> n_tokens
        for t in range(n_tokens):
            token = tokens[t]
            flags = NEGATION_CUE if (token in self.negations or u"n't" in token) else 0
            if _is_scope_end(token):
                flags |= SCOPE_END
            length = len(token)
            key = self._key(length + suffix)
            for i in range(length):
                key[i] = token[i]
            for i in range(suffix):
                key[length + i] = self.negation_suffix[i]
            out[count] = self.token_ids.find(key, length)
            out[count + 1] = self.token_ids.find(key, length + suffix)
            out[count + 2] = flags
            count += 3
        for word in text.split():
            size = len(word) + 2
            key = self._key(size)
            key[0] = u' '
            for i in range(size - 2):
                key[i + 1] = word[i]
            key[size - 1] = u' '
            for g in range(self.min_n, self.max_n + 1):
                if size <= g:
                    i = self.char_ids.find(key, size)
                    if i >= 0:
                        out[count] = <int> i
                        count += 1
                    break
                for i in range(size - g + 1):
                    length = self.char_ids.find(key + i, g)
                    if length >= 0:
                        out[count] = <int> length
                        count += 1
        out[1] = <int> (count - 3 - 3 * n_tokens)
        flags = 0
        if len(text):
            if text[0] == u'.':
                flags |= STARTS_WITH_DOT
            if text[len(text) - 1] == u'.':
                flags |= ENDS_WITH_DOT
        out[2] = flags
        return PyBytes_FromStringAndSize(<char *> out, count * sizeof(int))

    def cached_chunks(self):
        """How many chunks' analyses are remembered."""
        return self.n_chunks

    def clear_cache(self):
        """Forget every chunk's analysis (memory stays bounded)."""
        free(self.chunk_slots)
        self.chunk_slots = <ChunkSlot *> calloc(1024, sizeof(ChunkSlot))
        if not self.chunk_slots:
            raise MemoryError()
        self.chunk_mask = 1023
        self.n_chunks = 0
        self.points_used = 0
        self.chunk_entries = []

    cdef const int *_cached(self, const Py_UCS4 *chunk,
                            Py_ssize_t length) except NULL:
        """The analysis of the chunk ``chunk[:length]``, made on first sight."""
        cdef uint64_t h = _fnv(chunk, length), slot = h & self.chunk_mask
        cdef Py_ssize_t i
        cdef ChunkSlot *found
        while self.chunk_slots[slot].entry != NULL:
            found = &self.chunk_slots[slot]
            if found.hash == h and found.length == length:
                i = 0
                while i < length and self.chunk_points[found.start + i] == chunk[i]:
                    i += 1
                if i == length:
                    return found.entry
            slot = (slot + 1) & self.chunk_mask
        entry = self.analyse(
            PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chunk, length)
        )
        self.chunk_entries.append(entry)
        if self.points_used + length > self.points_capacity:
            self.points_capacity = max(2 * self.points_capacity,
                                       self.points_used + length, 4096)
            if self.points_capacity >= 0xFFFFFFFF:
                raise MemoryError("chunk cache over 4G code points")
            self.chunk_points = <uint32_t *> realloc(
                self.chunk_points, self.points_capacity * sizeof(uint32_t))
            if not self.chunk_points:
                raise MemoryError()
        for i in range(length):
            self.chunk_points[self.points_used + i] = chunk[i]
        found = &self.chunk_slots[slot]
        found.hash = h
        found.start = <uint32_t> self.points_used
        found.length = <uint32_t> length
        found.entry = <const int *> PyBytes_AS_STRING(entry)
        self.points_used += length
        self.n_chunks += 1
        # Up to three quarters full: linear probes stay short, and a worker's
        # table for a few hundred thousand chunks stays a few megabytes.
        if 4 * self.n_chunks > 3 * <Py_ssize_t> self.chunk_mask:
            self._grow_chunks()
        return <const int *> PyBytes_AS_STRING(entry)

    cdef int _grow_chunks(self) except -1:
        """Twice the slots, every chunk moved to its slot in the new table."""
        cdef uint64_t size = 2 * (self.chunk_mask + 1), i, slot
        cdef ChunkSlot *old = self.chunk_slots
        cdef ChunkSlot *slots = <ChunkSlot *> calloc(size, sizeof(ChunkSlot))
        if not slots:
            raise MemoryError()
        for i in range(self.chunk_mask + 1):
            if old[i].entry != NULL:
                slot = old[i].hash & (size - 1)
                while slots[slot].entry != NULL:
                    slot = (slot + 1) & (size - 1)
                slots[slot] = old[i]
        self.chunk_slots = slots
        self.chunk_mask = size - 1
        free(old)
        return 0

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
                while i < length and Py_UNICODE_ISSPACE(points[i]):
                    i += 1
                if i >= length:
                    break
                start = i
                while i < length and not Py_UNICODE_ISSPACE(points[i]):
                    i += 1
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

    cdef Py_ssize_t _tfidf(self, Py_ssize_t n, const double[:, ::1] table,
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
        if n:
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
