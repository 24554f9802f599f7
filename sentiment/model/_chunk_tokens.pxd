"""Declarations of :mod:`sentiment.model._chunk_tokens` (cimported by ``_chunks``)."""


cdef inline Py_ssize_t ascii_buffer_size(Py_ssize_t n) noexcept:
    """The bytes :func:`ascii_normalize` needs for a chunk of ``n`` code points."""
    return 3 * n + 8


cdef Py_ssize_t ascii_normalize(const Py_UCS4 *chunk, Py_ssize_t n,
                                char *buffer) noexcept
cdef Py_ssize_t token_end(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept
