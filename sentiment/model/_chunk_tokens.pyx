# cython: language_level=3, boundscheck=False, wraparound=False
"""``FastModel.normalize_tokenize`` of one printable-ASCII chunk, compiled.

The compiled core analyses each new chunk of a post once; calling
``normalize`` and the token regex for the chunks that are not plain words
(``read:``, ``"I``, ``to...``, ``storm-ravaged``, ``1:50``, ``>:D<``,
``I’m``) cost a third of its time. For a chunk of printable ASCII
characters (``!`` to ``~``) and curly apostrophes, with no ``@``, ``#``,
``://`` or ``www.``, ``normalize`` only makes the apostrophes ASCII, shortens
runs of three or more equal characters to two and lower-cases (no link,
handle or hashtag rule applies, and there is no whitespace), and the
token pattern (``preprocess.token_pattern``: NLTK's casual-tokenizer pieces)
reduces to the alternatives below, tried in its order at each position:
emoticons, ``<...>`` tags, arrows, words with apostrophes or dashes, numbers
with one separator, plain words, dot runs, and any other single character.
Its handle, hashtag and e-mail pieces need ``@`` or ``#``, and its emoji
pieces non-ASCII characters. Any other chunk gets None: the caller then runs
the Python normaliser.
"""

from libc.string cimport strchr

cdef const char *EYES = b":;=8"
cdef const char *NOSES = b"-o*'"
cdef const char *MOUTHS = b")]([dp/:}{@|\\"  # lower case: the text is lowered


cdef inline bint _among(char c, const char *chars) noexcept:
    return c != 0 and strchr(chars, c) != NULL


cdef inline bint _is_letter(char c) noexcept:
    return (b'a' <= c <= b'z') or (b'A' <= c <= b'Z')


cdef inline bint _is_digit(char c) noexcept:
    return b'0' <= c <= b'9'


cdef inline bint _is_word(char c) noexcept:
    return _is_letter(c) or _is_digit(c) or c == b'_'


cdef Py_ssize_t _emoticon(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of the emoticon (or ``</3`` heart) at ``s[p]``, or ``p``."""
    cdef Py_ssize_t e = p + 1 if (s[p] == b'<' or s[p] == b'>') else p
    if e < n and _among(s[e], EYES):  # [<>]? eyes nose? mouth
        if e + 2 < n and _among(s[e + 1], NOSES) and _among(s[e + 2], MOUTHS):
            return e + 3
        if e + 1 < n and _among(s[e + 1], MOUTHS):
            return e + 2
    if _among(s[p], MOUTHS):  # mouth nose? eyes [<>]?
        e = p
        if p + 2 < n and _among(s[p + 1], NOSES) and _among(s[p + 2], EYES):
            e = p + 3
        elif p + 1 < n and _among(s[p + 1], EYES):
            e = p + 2
        if e > p:
            if e < n and (s[e] == b'<' or s[e] == b'>'):
                e += 1
            return e
    if s[p] == b'<':  # </?3
        if p + 2 < n and s[p + 1] == b'/' and s[p + 2] == b'3':
            return p + 3
        if p + 1 < n and s[p + 1] == b'3':
            return p + 2
    return p


cdef Py_ssize_t _tag_or_arrow(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of a ``<...>`` tag or an arrow (``-->``, ``<--``) at ``s[p]``, or ``p``."""
    cdef Py_ssize_t q = p + 1
    if s[p] == b'<':
        while q < n and s[q] != b'>':
            q += 1
        if q < n and q > p + 1:
            return q + 1
        q = p + 1
        while q < n and s[q] == b'-':
            q += 1
        return q if q > p + 1 else p
    if s[p] == b'-':
        while q < n and s[q] == b'-':
            q += 1
        return q + 1 if q < n and s[q] == b'>' else p
    return p


cdef Py_ssize_t _word_or_number(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of a word with apostrophes or dashes, a number like ``1:50`` or
    ``-3.5``, or a run of word characters at ``s[p]``, or ``p``."""
    cdef Py_ssize_t q, last
    if _is_letter(s[p]):  # letter, (letter | ' - _)+, letter: the longest
        q = p + 1
        while q < n and (_is_letter(s[q]) or _among(s[q], b"'-_")):
            q += 1
        last = q - 1
        while last >= p + 2 and not _is_letter(s[last]):
            last -= 1
        if last >= p + 2:
            return last + 1
    q = p + 1 if (s[p] == b'+' or s[p] == b'-') else p
    if q < n and _is_digit(s[q]):  # [+-]? digits [,/.:-] digits [+-]?
        while q < n and _is_digit(s[q]):
            q += 1
        if q + 1 < n and _among(s[q], b",/.:-") and _is_digit(s[q + 1]):
            q += 1
            while q < n and _is_digit(s[q]):
                q += 1
            if q < n and (s[q] == b'+' or s[q] == b'-'):
                q += 1
            return q
    q = p
    while q < n and _is_word(s[q]):
        q += 1
    return q


cdef Py_ssize_t _token_end(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of the token the pattern finds at ``s[p]`` (there always is one)."""
    cdef Py_ssize_t end = _emoticon(s, n, p)
    if end == p:
        end = _tag_or_arrow(s, n, p)
    if end == p:
        end = _word_or_number(s, n, p)
    if end == p and s[p] == b'.' and p + 1 < n and s[p + 1] == b'.':
        end = p + 2
        while end < n and s[end] == b'.':
            end += 1
    return end if end > p else p + 1


cdef inline char _lower(char c) noexcept:
    return c + 32 if b'A' <= c <= b'Z' else c


def ascii_normalize_tokenize(str chunk):
    """(normalised text, tokens) of a chunk as ``normalize`` and the token
    pattern give them, or None for a chunk outside this module's kind.

    The chunk's kind: printable ASCII and the apostrophes ``normalize``
    makes ASCII (U+2019, U+2018, U+02BC, which NFKC leaves alone), no ``@``
    or ``#``, and no ``://`` or ``www.`` (any case) once they are replaced.
    """
    cdef Py_ssize_t n = len(chunk), i, m = 0, p = 0, end
    cdef Py_UCS4 c
    cdef char previous = 0, before = 0
    if n == 0:
        return None
    buffer = bytearray(n)
    cdef char *s = buffer
    for i in range(n):
        c = chunk[i]
        if c == 0x2019 or c == 0x2018 or c == 0x02BC:
            c = u"'"
        elif not (u'!' <= c <= u'~') or c == u'@' or c == u'#':
            return None
        s[i] = <char> c
    for i in range(n - 2):  # a link: normalize's URL rule would apply
        if s[i] == b':' and s[i + 1] == b'/' and s[i + 2] == b'/':
            return None
        if (i + 3 < n and _lower(s[i]) == b'w' and _lower(s[i + 1]) == b'w'
                and _lower(s[i + 2]) == b'w' and s[i + 3] == b'.'):
            return None
    for i in range(n):
        # Elongation, before lower-casing (as normalize): the third and later
        # of a run of equal characters are dropped.
        if i >= 2 and s[i] == previous and s[i] == before:
            continue
        before = previous
        previous = s[i]
        s[m] = _lower(s[i])
        m += 1
    text = s[:m].decode("ascii")
    tokens = []
    while p < m:
        end = _token_end(s, m, p)
        tokens.append(text[p:end])
        p = end
    return text, tokens
