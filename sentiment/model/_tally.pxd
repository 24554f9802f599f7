"""The scorer's per-column tally of one post (cimported by ``_fastscore``)."""

from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free


cdef struct Tally:
    # Per column of one table: its count in the post being scored, a bit per
    # column with a nonzero count and a bit per nonzero word of those bits.
    # Reading the bits in order visits the post's columns in increasing order
    # (what the sums need) without sorting them; all are zero between posts.
    int *counts
    uint64_t *bits
    uint64_t *summary
    Py_ssize_t n_summary


cdef inline int tally_init(Tally *tally, Py_ssize_t n_columns) except -1:
    cdef Py_ssize_t n_bits = n_columns // 64 + 1
    tally.n_summary = n_bits // 64 + 1
    tally.counts = <int *> calloc(n_columns + 1, sizeof(int))
    tally.bits = <uint64_t *> calloc(n_bits, sizeof(uint64_t))
    tally.summary = <uint64_t *> calloc(tally.n_summary, sizeof(uint64_t))
    if not (tally.counts and tally.bits and tally.summary):
        raise MemoryError()
    return 0


cdef inline void tally_free(Tally *tally) noexcept:
    free(tally.counts)
    free(tally.bits)
    free(tally.summary)
