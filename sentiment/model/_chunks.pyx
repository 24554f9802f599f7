# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Each chunk of a post analysed once: its tokens' ids and flags and its
character n-grams' ids, packed as ints (``FastModel.analyse``'s bytes), and
remembered by the chunk's code points. The base class of ``_fastscore.Scorer``.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_4BYTE_KIND, PyUnicode_FromKindAndData
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport calloc, free, realloc

from sentiment.model._lookup cimport StringTable, fnv

from sentiment.model._chunk_tokens import ascii_normalize_tokenize


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


cdef class ChunkAnalyses:
    """The analysis of every chunk seen, made on first sight; see :meth:`analyse`."""

    def __init__(self):
        self.clear_cache()

    def __dealloc__(self):
        free(self.chunk_slots)
        free(self.chunk_points)
        free(self.key)

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

    cpdef bytes analyse(self, str chunk):
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
