# cython: language_level=3, boundscheck=False, wraparound=False
"""``language.model_input`` of ASCII posts, compiled.

``language.languages`` asks the language model about every post of a file,
and preparing its line in Python cost a third as much as the model itself.
For a post of ASCII characters this gives the same line (or None) as
``model_input``: handles, hashtags and links removed as ``_NOT_LANGUAGE_RE``
removes them, whitespace collapsed as ``str.split`` collapses it, the cut,
and the lower-casing of shouted lines. Any other post goes to ``model_input``.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport Py_UCS1, PyUnicode_1BYTE_DATA


cdef inline bint _is_space(Py_UCS4 c) noexcept:
    # The ASCII whitespace of str.split() and of the re module's \s and \S.
    return c == 32 or 9 <= c <= 13 or 28 <= c <= 31


cdef inline bint _is_word(Py_UCS4 c) noexcept:
    # The ASCII characters of the re module's \w.
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 95


cdef inline bint _starts(const Py_UCS1 *text, Py_ssize_t i, Py_ssize_t n,
                         const char *prefix) noexcept:
    cdef Py_ssize_t k = 0
    while prefix[k]:
        if i + k >= n or text[i + k] != prefix[k]:
            return False
        k += 1
    return True


cdef Py_ssize_t _removed_end(const Py_UCS1 *text, Py_ssize_t i,
                             Py_ssize_t n) noexcept:
    """Where a match of ``[@#]\\w+|https?://\\S+|www\\.\\S+`` starting at
    ``text[i]`` ends, or ``i`` when none starts there (case matters)."""
    cdef Py_UCS4 c = text[i]
    cdef Py_ssize_t start, j
    if c == u'@' or c == u'#':
        j = i + 1
        while j < n and _is_word(text[j]):
            j += 1
        return j if j > i + 1 else i
    if c == u'h' and _starts(text, i, n, b"https://"):
        start = i + 8
    elif c == u'h' and _starts(text, i, n, b"http://"):
        start = i + 7
    elif c == u'w' and _starts(text, i, n, b"www."):
        start = i + 4
    else:
        return i
    j = start
    while j < n and not _is_space(text[j]):
        j += 1
    return j if j > start else i


cdef object _line(str post, char *line, Py_ssize_t width):
    """``model_input`` of an ASCII ``post``; ``line`` holds ``width`` chars."""
    # An ASCII str keeps one byte per character: read them in place.
    cdef const Py_UCS1 *text = PyUnicode_1BYTE_DATA(post)
    cdef Py_ssize_t n = len(post), i = 0, end, used = 0, upper = 0, lower = 0
    cdef bint gap = False, letters = False
    cdef Py_UCS4 c
    while i < n:
        c = text[i]
        if c == u'@' or c == u'#' or c == u'h' or c == u'w':
            end = _removed_end(text, i, n)
            if end > i:  # replaced by a space
                gap = True
                i = end
                continue
        i += 1
        if _is_space(c):
            gap = True
            continue
        if (65 <= c <= 90) or (97 <= c <= 122):
            letters = True
        if gap and used and used < width:
            line[used] = b' '
            used += 1
        gap = False
        if used < width:
            line[used] = <char> c
            used += 1
            if 65 <= c <= 90:
                upper += 1
            elif 97 <= c <= 122:
                lower += 1
        elif letters:  # the line is full and has words: nothing else counts
            break
    if not letters:
        return None
    # str.isupper(), and capitals over 80 % of the letters of a longer line.
    if (upper and not lower) or (used > 5 and upper > 0.8 * (upper + lower)):
        for i in range(used):
            if 65 <= line[i] <= 90:
                line[i] = line[i] + 32
    return line[:used].decode("ascii")


def language_lines(list texts, object fallback, Py_ssize_t width):
    """The model's line of each text: ASCII ``str`` posts here, each other
    one by ``fallback`` (``model_input``); ``width`` is its cut."""
    cdef list lines = []
    cdef char *line = <char *> PyMem_Malloc(width + 1)
    if line == NULL:
        raise MemoryError()
    try:
        for text in texts:
            if type(text) is str and (<str> text).isascii():
                lines.append(_line(<str> text, line, width))
            else:
                lines.append(fallback(text))
    finally:
        PyMem_Free(line)
    return lines
