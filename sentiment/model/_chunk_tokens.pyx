# cython: language_level=3, boundscheck=False, wraparound=False
"""``FastModel.normalize_tokenize`` of one printable-ASCII chunk, compiled.

The compiled core analyses each new chunk of a post once; calling
``normalize`` and the token regex for the chunks other than plain words
(``read:``, ``"I``, ``to...``, ``storm-ravaged``, ``1:50``, ``>:D<``,
``I’m``, ``"@user:``) cost a third of its time, so every printable-ASCII
chunk, plain words included, is read here instead. A chunk of printable ASCII
that is one whole link is ``<url>``. For any other chunk of printable ASCII
characters (``!`` to ``~``) and curly apostrophes, with no ``://`` or
``www.`` and at most one handle or hashtag, ``normalize`` only makes the
apostrophes ASCII, puts ``<user>`` or the hashtag's words in place of the
handle or hashtag, shortens runs of three or more equal characters to two
and lower-cases (no link rule applies, and the only spaces are those it puts
in), and the token pattern (``preprocess.token_pattern``: NLTK's
casual-tokenizer pieces) reduces to the alternatives below, tried in its
order at each position: emoticons, ``<...>`` tags, arrows, words with
apostrophes or dashes, numbers with one separator, plain words, dot runs,
and any other single character. Its handle, hashtag and e-mail pieces need
an ``@`` or ``#`` left in the text, and its emoji pieces non-ASCII
characters. Any other chunk gets None: the caller then runs the Python
normaliser. ``_chunks`` cimports :func:`ascii_normalize` and
:func:`token_end` and works on the chunk's code points in its own buffers;
:func:`ascii_normalize_tokenize` is the same as Python values (the tests).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_AsUCS4Copy
from libc.string cimport strchr

cdef const char *EYES = b":;=8"
cdef const char *NOSES = b"-o*'"
cdef const char *MOUTHS = b")]([dp/:}{@|\\"  # lower case: the text is lowered
cdef const char *USER = b"<user>"
cdef const char *URL = b"<url>"


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
        while q < n and s[q] != b'>' and s[q] != b' ':
            q += 1
        if q < n and s[q] == b'>' and q > p + 1:
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


cdef Py_ssize_t _dots(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of the dot run at ``s[p]`` (``\\.(?:[^\\S\\r\\n]*\\.){1,}``; spaces may
    stand between the dots), or ``p``."""
    cdef Py_ssize_t end = p + 1, q
    if s[p] != b'.':
        return p
    while True:
        q = end
        while q < n and s[q] == b' ':
            q += 1
        if q >= n or s[q] != b'.':
            return end if end > p + 1 else p
        end = q + 1


cdef Py_ssize_t token_end(const char *s, Py_ssize_t n, Py_ssize_t p) noexcept:
    """End of the token the pattern finds at ``s[p]``, a character other than
    a space (there always is one)."""
    cdef Py_ssize_t end = _emoticon(s, n, p)
    if end == p:
        end = _tag_or_arrow(s, n, p)
    if end == p:
        end = _word_or_number(s, n, p)
    if end == p:
        end = _dots(s, n, p)
    return end if end > p else p + 1


cdef inline char _lower(char c) noexcept:
    return c + 32 if b'A' <= c <= b'Z' else c


cdef Py_ssize_t _replace_tag(const char *raw, Py_ssize_t n, Py_ssize_t at,
                             char *out) noexcept:
    """Write ``raw`` with its handle or hashtag at ``raw[at]`` replaced as
    ``normalize`` replaces it (before its elongation and case rules) to
    ``out``; its length, or -1 when the rule would not replace it."""
    cdef Py_ssize_t end = at + 1, i, m = 0
    while end < n and _is_word(raw[end]):
        end += 1
    # The rules' look-behind: no word character just before the @ or #.
    if end == at + 1 or (at > 0 and _is_word(raw[at - 1])):
        return -1
    for i in range(at):
        out[m] = raw[i]
        m += 1
    if raw[at] == b'@':  # " <user> ", and the spaces collapse
        if m:
            out[m] = b' '
            m += 1
        for i in range(6):
            out[m] = USER[i]
            m += 1
        if end < n:
            out[m] = b' '
            m += 1
    else:  # the hashtag's words: a space where a capital follows a small letter
        for i in range(at + 1, end):
            if i > at + 1 and b'a' <= raw[i - 1] <= b'z' and b'A' <= raw[i] <= b'Z':
                out[m] = b' '
                m += 1
            out[m] = raw[i]
            m += 1
    for i in range(end, n):
        out[m] = raw[i]
        m += 1
    return m


cdef bint _starts_with(const char *s, Py_ssize_t n, const char *prefix) noexcept:
    """``s[:n]`` starts with ``prefix`` (lower case) in any case, and goes on."""
    cdef Py_ssize_t i = 0
    while prefix[i]:
        if i >= n or _lower(s[i]) != prefix[i]:
            return False
        i += 1
    return i < n


cdef bint _whole_link(const char *s, Py_ssize_t n) noexcept:
    """The chunk is one link: normalize's URL rule (``(?:https?://|www\\.)\\S+``,
    any case) makes all of it ``<url>``."""
    return (_starts_with(s, n, b"http://") or _starts_with(s, n, b"https://")
            or _starts_with(s, n, b"www."))


def ascii_normalize_tokenize(str chunk):
    """(normalised text, tokens) of a chunk as ``normalize`` and the token
    pattern give them, or None for a chunk outside this module's kind.

    The chunk's kind: printable ASCII and the apostrophes ``normalize``
    makes ASCII (U+2019, U+2018, U+02BC, which NFKC leaves alone), no
    ``://`` or ``www.`` (any case) once they are replaced unless the whole
    chunk is one link, and at most one ``@`` or ``#``, which must start a
    handle or hashtag (``(@|#)\\w+`` after no word character): what
    ``normalize`` puts in its place is then made here, and no ``@`` or ``#``
    is left for the token pattern. The scorer calls :func:`ascii_normalize`
    and :func:`token_end` directly; this is their Python face (the tests).
    """
    cdef Py_ssize_t n = len(chunk), m, p = 0, end
    cdef Py_UCS4 *points = PyUnicode_AsUCS4Copy(chunk)
    if points == NULL:
        raise MemoryError()
    cdef char *buffer = <char *> PyMem_Malloc(ascii_buffer_size(n))
    if buffer == NULL:
        PyMem_Free(points)
        raise MemoryError()
    try:
        m = ascii_normalize(points, n, buffer)
        if m < 0:
            return None
        text = buffer[:m].decode("ascii")
        tokens = []
        while p < m:
            if buffer[p] == b' ':
                p += 1
                continue
            end = token_end(buffer, m, p)
            tokens.append(text[p:end])
            p = end
        return text, tokens
    finally:
        PyMem_Free(points)
        PyMem_Free(buffer)


cdef Py_ssize_t ascii_normalize(const Py_UCS4 *chunk, Py_ssize_t n,
                                char *buffer) noexcept:
    """The normalised text of ``chunk[:n]``, written at the start of ``buffer``
    (:func:`ascii_buffer_size` bytes): its length, or -1 for a chunk outside
    :func:`ascii_normalize_tokenize`'s kind."""
    cdef Py_ssize_t i, m = 0, at = -1, tags = 0
    cdef Py_UCS4 c
    cdef char previous = 0, before = 0
    # The raw characters after the room that the text, a handle's "<user>"
    # included, may need (2n + 8): the text is written ahead of what is read.
    cdef char *raw = buffer + 2 * n + 8
    cdef char *s = buffer
    if n == 0:
        return -1
    for i in range(n):
        c = chunk[i]
        if c == 0x2019 or c == 0x2018 or c == 0x02BC:
            c = u"'"
        elif not (u'!' <= c <= u'~'):
            return -1
        elif c == u'@' or c == u'#':
            tags += 1
            at = i
        raw[i] = <char> c
    if _whole_link(raw, n):
        for i in range(5):
            s[i] = URL[i]
        return 5
    if tags > 1:
        return -1
    for i in range(n - 2):  # a link: normalize's URL rule would apply
        if raw[i] == b':' and raw[i + 1] == b'/' and raw[i + 2] == b'/':
            return -1
        if (i + 3 < n and _lower(raw[i]) == b'w' and _lower(raw[i + 1]) == b'w'
                and _lower(raw[i + 2]) == b'w' and raw[i + 3] == b'.'):
            return -1
    if at >= 0:
        n = _replace_tag(raw, n, at, s)
        if n < 0:
            return -1
        raw = s
    for i in range(n):
        # Elongation, before lower-casing (as normalize): the third and later
        # of a run of equal characters are dropped.
        if i >= 2 and raw[i] == previous and raw[i] == before:
            continue
        before = previous
        previous = raw[i]
        s[m] = _lower(raw[i])
        m += 1
    return m
