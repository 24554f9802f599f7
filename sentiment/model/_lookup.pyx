# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Exact lookups without Python objects, for the compiled scorer.

:class:`StringTable` maps strings (as code points) to ids, :class:`PairTable`
64-bit keys to ids; both answer what a dict would, in one or a few probes.
"""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free

import numpy as np


cdef inline uint64_t _mix(uint64_t x) noexcept nogil:
    """splitmix64's finaliser: every bit of ``x`` moves the low bits."""
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL
    return x ^ (x >> 31)


cdef class PairTable:
    """A non-negative 64-bit key (a word bigram ``a * n_tokens + b``, a packed
    short string) -> id, open addressing.

    A probe reads one 16-byte slot: key and column together, so a lookup is
    one cache line, where a long string's lookup reads four (bigrams are looked
    up in every post, and the table is megabytes).
    """

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
                raise ValueError("keys are not negative")
            slot = _mix(<uint64_t> key_view[i]) & self.mask
            while self.slots[slot].key >= 0:
                slot = (slot + 1) & self.mask
            self.slots[slot].key = key_view[i]
            self.slots[slot].column = column_view[i]

    def __dealloc__(self):
        free(self.slots)

    cdef int32_t find(self, int64_t key) noexcept nogil:
        """The id of ``key`` (the first given, as a dict), or -1."""
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
    boundaries (``offsets``). A string :func:`_short_key` packs is found by its
    key in a :class:`PairTable`; any other by open addressing on a 64-bit
    FNV-1a hash, a match confirmed by comparing the code points. Either way it
    answers exactly what a dict would, without creating a substring.
    """

    def __init__(self, points, offsets):
        self.points = np.ascontiguousarray(points, dtype=np.uint32)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        cdef Py_ssize_t n = self.offsets.shape[0] - 1, i
        keys = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] key_view = keys
        # Each string is base + offsets[i], offsets[i + 1] - offsets[i] long.
        cdef const Py_UCS4 *base = <const Py_UCS4 *> &self.points[0] if n else NULL
        for i in range(n):
            key_view[i] = _short_key(base + self.offsets[i],
                                     self.offsets[i + 1] - self.offsets[i])
        packed = np.flatnonzero(keys >= 0)
        self.short = PairTable(keys[packed], packed.astype(np.int32))
        # The rest (longer strings, or with a code point of 4096 or more) in
        # the hashed table: a short string is never looked up there.
        cdef uint64_t size = 1, slot, h
        while size < 2 * <uint64_t> (n - len(packed)) + 2:
            size *= 2
        self.mask = size - 1
        self.hashes = <uint64_t *> calloc(size, sizeof(uint64_t))
        self.ids = <int32_t *> calloc(size, sizeof(int32_t))
        if not (self.hashes and self.ids):
            raise MemoryError()
        for i in range(<Py_ssize_t> size):
            self.ids[i] = -1
        for i in range(n):
            if key_view[i] >= 0:
                continue
            h = fnv(base + self.offsets[i], self.offsets[i + 1] - self.offsets[i])
            slot = h & self.mask
            while self.ids[slot] >= 0:
                slot = (slot + 1) & self.mask
            self.hashes[slot] = h
            self.ids[slot] = <int32_t> i

    def __dealloc__(self):
        free(self.hashes)
        free(self.ids)

    cdef int32_t find(self, const Py_UCS4 *key, Py_ssize_t n) noexcept nogil:
        """The id of the string ``key[:n]``, or -1."""
        cdef int64_t packed = _short_key(key, n)
        if packed >= 0:
            return self.short.find(packed)
        cdef uint64_t h = fnv(key, n), slot = h & self.mask
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
