"""Declarations of :mod:`sentiment.model._lookup` (cimported by the scorer)."""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


cdef inline uint64_t fnv(const Py_UCS4 *points, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ <uint64_t> points[i]) * 1099511628211ULL
    return h


cdef struct PairSlot:
    int64_t key  # -1: empty
    int32_t column


cdef class PairTable:
    cdef PairSlot *slots
    cdef uint64_t mask
    cdef int32_t find(self, int64_t key) noexcept nogil


cdef class StringTable:
    cdef const uint32_t[::1] points
    cdef const int64_t[::1] offsets
    cdef uint64_t *hashes
    cdef int32_t *ids
    cdef uint64_t mask
    cdef PairTable short  # the strings _short_key packs: one probe, one cache line
    cdef int32_t find(self, const Py_UCS4 *key, Py_ssize_t n) noexcept nogil
