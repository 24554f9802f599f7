# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Each chunk of a post analysed once: its tokens' ids and flags and its
character n-grams' ids, packed as ints (``FastModel.analyse``'s bytes), and
remembered by the chunk's code points. The base class of ``_fastscore.Scorer``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free
from cpython.unicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_AsUCS4,
    PyUnicode_AsUCS4Copy,
    PyUnicode_FromKindAndData,
)
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport calloc, free, realloc

from sentiment.model._lookup cimport StringTable, fnv

from sentiment.model._chunk_tokens cimport (
    ascii_buffer_size,
    ascii_normalize,
    token_end,
)


cdef bint _is_scope_end(const Py_UCS4 *token, Py_ssize_t n) noexcept:
    """``token[:n]`` fully matches ``[.,:;!?]+|but`` (preprocess.SCOPE_END_RE)."""
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    if n == 3 and token[0] == u'b' and token[1] == u'u' and token[2] == u't':
        return True
    if n == 0:
        return False
    for i in range(n):
        c = token[i]
        if not (c == u'.' or c == u',' or c == u':' or c == u';' or c == u'!'
                or c == u'?'):
            return False
    return True


cdef bint _has_nt(const Py_UCS4 *token, Py_ssize_t n) noexcept:
    """``"n't" in token[:n]``."""
    cdef Py_ssize_t i
    for i in range(n - 2):
        if token[i] == u'n' and token[i + 1] == u"'" and token[i + 2] == u't':
            return True
    return False


cdef void *_grown(void *buffer, Py_ssize_t *capacity, Py_ssize_t size,
                  size_t item) except NULL:
    """``buffer`` with room for at least ``size`` items (reallocated if not)."""
    if size > capacity[0] or buffer == NULL:
        size = max(size, 2 * capacity[0], 64)
        buffer = realloc(buffer, size * item)
        if buffer == NULL:
            raise MemoryError()
        capacity[0] = size
    return buffer


cdef class ChunkAnalyses:
    """The analysis of every chunk seen, made on first sight; see :meth:`analyse`."""

    def __init__(self):
        self.clear_cache()

    def __dealloc__(self):
        free(self.chunk_slots)
        free(self.chunk_points)
        free(self.key)
        free(self.scratch)
        free(self.text)
        free(self.spans)
        free(self.packed)

    def set_analysis(self, StringTable token_ids, StringTable char_ids, int min_n,
                     int max_n, StringTable negations, str negation_suffix,
                     object normalize_tokenize):
        """What :meth:`analyse` needs: the lookups (``negations``: the words
        that open a negation scope) and the Python normaliser."""
        self.token_ids = token_ids
        self.char_ids = char_ids
        self.min_n = min_n
        self.max_n = max_n
        self.negations = negations
        self.negation_suffix = negation_suffix
        self.normalize_tokenize = normalize_tokenize

    cpdef bytes analyse(self, str chunk):
        """``FastModel.analyse`` of one chunk (the same bytes, faster)."""
        cdef Py_UCS4 *points = PyUnicode_AsUCS4Copy(chunk)
        if points == NULL:
            raise MemoryError()
        try:
            return self._analysis(points, len(chunk))
        finally:
            PyMem_Free(points)

    cdef bytes _analysis(self, const Py_UCS4 *chunk, Py_ssize_t n):
        """:meth:`analyse` of the chunk ``chunk[:n]``.

        A printable-ASCII chunk is normalised and split into tokens by
        ``_chunk_tokens`` (what ``normalize`` and the token pattern give) in
        this object's buffers, with no Python object but the result; anything
        else goes through the Python normaliser.
        """
        cdef Py_ssize_t m, i, p = 0, end, n_tokens = 0
        cdef char *s
        self.scratch = <char *> _grown(self.scratch, &self.scratch_capacity,
                                       ascii_buffer_size(n), 1)
        s = self.scratch
        m = ascii_normalize(chunk, n, s)
        if m < 0:
            return self._analysis_of_python(chunk, n)
        self.text = <Py_UCS4 *> _grown(self.text, &self.text_capacity, m,
                                       sizeof(Py_UCS4))
        self.spans = <int *> _grown(self.spans, &self.spans_capacity, 2 * m,
                                    sizeof(int))
        for i in range(m):
            self.text[i] = s[i]
        while p < m:
            if s[p] == b' ':
                p += 1
                continue
            end = token_end(s, m, p)
            self.spans[2 * n_tokens] = <int> p
            self.spans[2 * n_tokens + 1] = <int> end
            n_tokens += 1
            p = end
        return self._pack(m, n_tokens)

    cdef bytes _analysis_of_python(self, const Py_UCS4 *chunk, Py_ssize_t n):
        """:meth:`_analysis` by the Python normaliser and token pattern."""
        cdef Py_ssize_t m, t, start = 0, n_tokens
        text, tokens = self.normalize_tokenize(
            PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chunk, n)
        )
        m = len(text)
        n_tokens = len(tokens)
        self.text = <Py_UCS4 *> _grown(self.text, &self.text_capacity, m + 1,
                                       sizeof(Py_UCS4))
        self.spans = <int *> _grown(self.spans, &self.spans_capacity,
                                    2 * n_tokens, sizeof(int))
        PyUnicode_AsUCS4(text, self.text, m + 1, 0)
        # The pattern's matches, in order; only whitespace lies between them,
        # so each is found from where the one before ended.
        for t in range(n_tokens):
            start = text.find(tokens[t], start)
            if start < 0:
                raise ValueError(f"token {tokens[t]!r} is not in its text")
            self.spans[2 * t] = <int> start
            start += len(tokens[t])
            self.spans[2 * t + 1] = <int> start
        return self._pack(m, n_tokens)

    cdef Py_UCS4 *_key(self, Py_ssize_t size) except NULL:
        """A scratch buffer of at least ``size`` code points."""
        self.key = <Py_UCS4 *> _grown(self.key, &self.key_capacity, size,
                                      sizeof(Py_UCS4))
        return self.key

    cdef bytes _pack(self, Py_ssize_t m, Py_ssize_t n_tokens):
        """The analysis of the normalised text ``self.text[:m]`` and its tokens
        (``self.spans``: start and end of each), packed as ints."""
        cdef Py_ssize_t t, i, g, size, count = 3, length, start, word
        cdef Py_ssize_t suffix = len(self.negation_suffix)
        cdef const Py_UCS4 *text = self.text
        cdef const Py_UCS4 *token
        cdef int flags, column
        cdef Py_UCS4 *key
        # Each word of length L has at most L + 2 n-grams of each size.
        cdef Py_ssize_t bound = 3 + 3 * n_tokens + 3 * m * (self.max_n - self.min_n + 1)
        self.packed = <int *> _grown(self.packed, &self.packed_capacity, bound,
                                     sizeof(int))
        cdef int *out = self.packed
        out[0] = <int> n_tokens
        for t in range(n_tokens):
            start = self.spans[2 * t]
            length = self.spans[2 * t + 1] - start
            token = text + start
            flags = 0
            if self.negations.find(token, length) >= 0 or _has_nt(token, length):
                flags = NEGATION_CUE
            if _is_scope_end(token, length):
                flags |= SCOPE_END
            key = self._key(length + suffix)
            for i in range(length):
                key[i] = token[i]
            for i in range(suffix):
                key[length + i] = self.negation_suffix[i]
            out[count] = self.token_ids.find(key, length)
            out[count + 1] = self.token_ids.find(key, length + suffix)
            out[count + 2] = flags
            count += 3
        # The character n-grams of each word (as str.split() splits), padded.
        key = self._key(m + 2)
        i = 0
        while True:
            word = next_word(text, m, &i)
            if word < 0:
                break
            size = i - word + 2
            key[0] = u' '
            for start in range(size - 2):
                key[start + 1] = text[word + start]
            key[size - 1] = u' '
            for g in range(self.min_n, self.max_n + 1):
                if size <= g:
                    column = self.char_ids.find(key, size)
                    if column >= 0:
                        out[count] = column
                        count += 1
                    break
                for start in range(size - g + 1):
                    column = self.char_ids.find(key + start, g)
                    if column >= 0:
                        out[count] = column
                        count += 1
        out[1] = <int> (count - 3 - 3 * n_tokens)
        flags = 0
        if m:
            if text[0] == u'.':
                flags |= STARTS_WITH_DOT
            if text[m - 1] == u'.':
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
        cdef uint64_t h = fnv(chunk, length), slot = h & self.chunk_mask
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
        entry = self._analysis(chunk, length)
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
