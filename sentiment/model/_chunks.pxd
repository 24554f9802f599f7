"""Declarations of :mod:`sentiment.model._chunks` (the scorer's base class)."""

from cpython.unicode cimport Py_UNICODE_ISSPACE
from libc.stdint cimport uint32_t, uint64_t

from sentiment.model._lookup cimport StringTable

# A token's flags in an analysis, as preprocess.mark_negation_scope decides.
cdef enum:
    NEGATION_CUE = 1
    SCOPE_END = 2

# A chunk's flags: the dots of a "..." split across chunks (see Scorer.score).
cdef enum:
    STARTS_WITH_DOT = 1
    ENDS_WITH_DOT = 2


cdef inline Py_ssize_t next_word(const Py_UCS4 *text, Py_ssize_t n,
                                 Py_ssize_t *end) noexcept:
    """Where the next word of ``text[:n]`` (as ``str.split()`` splits) starts,
    at or after ``end[0]``, which moves to where it ends; -1 when none is left."""
    cdef Py_ssize_t i = end[0], start
    while i < n and Py_UNICODE_ISSPACE(text[i]):
        i += 1
    if i >= n:
        return -1
    start = i
    while i < n and not Py_UNICODE_ISSPACE(text[i]):
        i += 1
    end[0] = i
    return start


cdef struct ChunkSlot:
    uint64_t hash
    uint32_t start  # of the chunk's code points in ChunkAnalyses.chunk_points
    uint32_t length
    const int *entry  # its analysis (NULL: empty slot), a bytes in chunk_entries


cdef class ChunkAnalyses:
    cdef StringTable token_ids
    cdef StringTable char_ids
    cdef Py_UCS4 *key
    cdef Py_ssize_t key_capacity
    cdef int min_n, max_n
    cdef StringTable negations  # the words that open a negation scope
    cdef str negation_suffix
    cdef object normalize_tokenize
    # The analysis of every chunk seen (see _cached): a hash table over the
    # chunks' code points, so a post is split and looked up without a Python
    # string or dict lookup per chunk.
    cdef ChunkSlot *chunk_slots
    cdef uint64_t chunk_mask
    cdef Py_ssize_t n_chunks
    cdef uint32_t *chunk_points
    cdef Py_ssize_t points_used, points_capacity
    cdef list chunk_entries
    # Scratch buffers of a chunk's analysis: the ASCII normaliser's bytes, the
    # normalised text's code points, its tokens' bounds, the packed ints.
    cdef char *scratch
    cdef Py_UCS4 *text
    cdef int *spans
    cdef int *packed
    cdef Py_ssize_t scratch_capacity, text_capacity, spans_capacity, packed_capacity

    cpdef bytes analyse(self, str chunk)
    cdef Py_UCS4 *_key(self, Py_ssize_t size) except NULL
    cdef bytes _analysis(self, const Py_UCS4 *chunk, Py_ssize_t n)
    cdef bytes _analysis_of_python(self, const Py_UCS4 *chunk, Py_ssize_t n)
    cdef bytes _pack(self, Py_ssize_t m, Py_ssize_t n_tokens)
    cdef const int *_cached(self, const Py_UCS4 *chunk, Py_ssize_t length) except NULL
    cdef int _grow_chunks(self) except -1
