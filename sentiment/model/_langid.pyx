# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""fastText's prediction with a quantised supervised model (``lid.176.ftz``),
in C, for :mod:`sentiment.model.language`.

The same arithmetic as fastText 0.9.2 (``fasttext-predict``), step for step,
so every line gets the same label and the same probability: the line cut
into words as ``Dictionary::readWord`` does, each word's character n-grams
hashed (FNV-1a over signed chars) into the pruned buckets, their quantised
rows summed in float, the hierarchical softmax searched depth first. What
fastText spends on C++ streams, strings and hash maps per n-gram is spent
here on flat tables, which is most of its time; which bucket kept a row is
read from a rank table small enough to stay in the CPU's cache.

Only what ``lid.176.ftz`` uses is implemented; the file is read (and any
other layout refused) by :mod:`sentiment.model.fasttext_file`.
"""

import threading

import numpy as np

from libc.math cimport expf, log
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t

from sentiment.model.fasttext_file import LABEL_PREFIX, read_model_file

cdef extern from *:
    """
    /* a % d for 32-bit a and d, by multiplications (Lemire's fastmod):
       m = UINT64_MAX / d + 1, computed once. */
    static inline uint32_t _fast_mod(uint32_t a, uint64_t m, uint32_t d) {
        return (uint32_t) (((__uint128_t) (m * a) * d) >> 64);
    }
    """
    int __builtin_popcountll(unsigned long long) nogil
    uint32_t _fast_mod(uint32_t a, uint64_t m, uint32_t d) nogil

cdef uint32_t _FNV_OFFSET = 2166136261U
cdef uint32_t _FNV_PRIME = 16777619U


cdef inline uint32_t _fnv_step(uint32_t h, unsigned char c) noexcept nogil:
    # fastText hashes signed chars: bytes >= 0x80 are sign-extended.
    return (h ^ <uint32_t> <int32_t> <int8_t> c) * _FNV_PRIME


cdef inline bint _is_separator(unsigned char c) noexcept nogil:
    return (c == b' ' or c == b'\n' or c == b'\r' or c == b'\t' or c == b'\v'
            or c == b'\f' or c == 0)


cdef class LanguageModel:
    """A quantised fastText classifier, read from the bytes of its file."""

    cdef int dim, minn, maxn, nwords, osz, nsubq, dsub
    cdef uint32_t bucket
    cdef uint64_t bucket_magic  # for _fast_mod by bucket
    cdef int32_t eos_id
    cdef const float[::1] centroids
    cdef const float[::1] norm_centroids
    cdef const uint8_t[::1] codes
    cdef const uint8_t[::1] norm_codes
    cdef const float[:, ::1] output
    cdef const int32_t[::1] left
    cdef const int32_t[::1] right
    # Words: open addressing on the FNV hash; slot -> word id or -1.
    cdef const int32_t[::1] word_slots
    cdef uint64_t word_mask
    cdef const uint32_t[::1] word_hashes
    cdef const int64_t[::1] word_starts
    cdef const uint8_t[::1] word_bytes
    cdef const uint8_t[::1] word_is_label
    # Pruned buckets: bucket -> row - nwords, or -1 (one read per n-gram).
    cdef const uint64_t[::1] bucket_bits
    cdef const int32_t[::1] bucket_ranks
    cdef const int32_t[::1] pruned_rows
    cdef int32_t[::1] rows
    cdef list labels
    cdef object lock

    def __init__(self, bytes data):
        model = read_model_file(data)
        self.dim, self.minn, self.maxn = model.dim, model.minn, model.maxn
        self.bucket, self.nwords, self.eos_id = model.bucket, model.nwords, model.eos_id
        self.bucket_magic = 0xFFFFFFFFFFFFFFFFULL // self.bucket + 1
        self.labels, self.osz = model.labels, len(model.labels)
        self.bucket_bits, self.bucket_ranks = model.bucket_bits, model.bucket_ranks
        self.pruned_rows, self.codes = model.pruned_rows, model.codes
        self.nsubq, self.dsub = model.nsubq, model.dsub
        self.centroids, self.norm_centroids = model.centroids, model.norm_centroids
        self.norm_codes, self.output = model.norm_codes, model.output
        self.left, self.right = model.left, model.right
        self._index_words(model.words, model.word_types)
        self.rows = np.zeros(4096, dtype=np.int32)
        # ``rows`` is this instance's scratch space, and growing it runs
        # Python, where another thread could get in: one call at a time.
        self.lock = threading.Lock()

    def _index_words(self, words, types):
        hashes = np.array([_hash(w) for w in words], dtype=np.uint32)
        size = 1
        while size < 2 * len(words):
            size *= 2
        slots = np.full(size, -1, dtype=np.int32)
        for i, h in enumerate(hashes.tolist()):
            slot = h & (size - 1)
            while slots[slot] != -1:
                slot = (slot + 1) & (size - 1)
            slots[slot] = i
        lengths = np.array([len(w) for w in words], dtype=np.int64)
        self.word_slots, self.word_mask = slots, size - 1
        self.word_hashes = hashes
        self.word_starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.word_bytes = np.frombuffer(b"".join(words) or b"\0", dtype=np.uint8)
        self.word_is_label = np.array(types, dtype=np.uint8)

    def predict(self, lines):
        """``(label, probability)`` of each line: what fastText's
        ``predict(line + "\\n", k=1, threshold=0.0)`` gives."""
        found = []
        cdef bytes data
        cdef int32_t best
        cdef float score
        with self.lock:
            for line in lines:
                data = (<str?> line).encode("utf-8", "surrogatepass") + b"\n"
                best, score = self._predict(data)
                found.append((self.labels[best], expf(score)))
        return found

    cdef tuple _predict(self, bytes data):
        cdef const unsigned char *text = data
        cdef Py_ssize_t n = len(data), i = 0, start, count = 0
        cdef int32_t wid
        cdef bint done = False
        # Dictionary::getLine: words up to the first newline (or "</s>").
        while not done:
            while i < n and _is_separator(text[i]) and text[i] != b'\n':
                i += 1
            if i >= n:
                break
            if text[i] == b'\n':  # an empty word at a newline: end of sentence
                wid = self.eos_id
                done = True
                if wid >= 0:
                    self.rows[count] = wid
                    count += 1
                continue
            start = i
            while i < n and not _is_separator(text[i]):
                i += 1
            count = self._add_word(text + start, i - start, count)
            if count < 0:  # the word was "</s>" itself
                count = -count - 1
                done = True
        return self._search(count)

    cdef Py_ssize_t _add_word(self, const unsigned char *word, Py_ssize_t length,
                              Py_ssize_t count):
        """Rows of one word (``addSubwords``); the count after them, or
        ``-count - 1`` when the word is "</s>" (the line ends there)."""
        cdef uint32_t h = _FNV_OFFSET
        cdef Py_ssize_t k
        for k in range(length):
            h = _fnv_step(h, word[k])
        cdef int32_t wid = self._find_word(word, length, h)
        if wid >= 0 and self.word_is_label[wid]:
            return count
        if wid < 0 and length >= 9 and _starts_with_label(word, length):
            return count
        # At most maxn n-grams start at each byte of "<word>"; plus the word
        # itself and a "</s>" after it.
        self._reserve(count + self.maxn * (length + 2) + 2)
        if wid >= 0:
            self.rows[count] = wid
            count += 1
            if wid == self.eos_id:
                return -count - 1
        return self._add_subwords(word, length, count)

    cdef int _reserve(self, Py_ssize_t needed) except -1:
        """Room for ``needed`` rows in ``rows`` (a copy when it grows)."""
        if needed > self.rows.shape[0]:
            grown = np.zeros(2 * needed, dtype=np.int32)
            grown[: self.rows.shape[0]] = np.asarray(self.rows)
            self.rows = grown
        return 0

    cdef int32_t _find_word(self, const unsigned char *word, Py_ssize_t length,
                            uint32_t h):
        cdef uint64_t slot = h & self.word_mask
        cdef int32_t wid
        cdef int64_t begin
        cdef Py_ssize_t k
        while True:
            wid = self.word_slots[slot]
            if wid < 0:
                return -1
            begin = self.word_starts[wid]
            if (self.word_hashes[wid] == h
                    and self.word_starts[wid + 1] - begin == length):
                for k in range(length):
                    if self.word_bytes[begin + k] != word[k]:
                        break
                else:
                    return wid
            slot = (slot + 1) & self.word_mask

    cdef Py_ssize_t _add_subwords(self, const unsigned char *word,
                                  Py_ssize_t length, Py_ssize_t count):
        """``computeSubwords("<" + word + ">")`` with ``pushHash``: the
        pruned rows of its character n-grams, minn to maxn characters."""
        cdef Py_ssize_t size = length + 2, i, j, n
        cdef uint32_t h
        cdef int32_t row
        for i in range(size):
            if (_byte_at(word, length, i) & 0xC0) == 0x80:
                continue
            h = _FNV_OFFSET
            j = i
            n = 1
            while j < size and n <= self.maxn:
                h = _fnv_step(h, _byte_at(word, length, j))
                j += 1
                while j < size and (_byte_at(word, length, j) & 0xC0) == 0x80:
                    h = _fnv_step(h, _byte_at(word, length, j))
                    j += 1
                if n >= self.minn and not (n == 1 and (i == 0 or j == size)):
                    row = self._pruned_row(_fast_mod(h, self.bucket_magic, self.bucket))
                    if row >= 0:
                        self.rows[count] = self.nwords + row
                        count += 1
                n += 1
        return count

    cdef inline int32_t _pruned_row(self, uint32_t bucket) noexcept nogil:
        """The row of ``bucket`` after the words, or -1 (fasttext_file's rank table)."""
        cdef uint64_t word = self.bucket_bits[bucket >> 6]
        cdef uint64_t bit = (<uint64_t> 1) << (bucket & 63)
        if not word & bit:
            return -1
        return self.pruned_rows[self.bucket_ranks[bucket >> 6]
                                + __builtin_popcountll(word & (bit - 1))]

    cdef tuple _search(self, Py_ssize_t count):
        """``computeHidden`` then ``HierarchicalSoftmaxLoss::dfs`` with k=1."""
        cdef float hidden[64]  # fasttext_file.MAX_DIM
        cdef Py_ssize_t r, m, d
        cdef int32_t row
        cdef float norm
        cdef const float *c
        cdef const uint8_t *code
        for d in range(self.dim):
            hidden[d] = 0.0
        for r in range(count):
            row = self.rows[r]
            norm = self.norm_centroids[self.norm_codes[row]]
            code = &self.codes[self.nsubq * row]
            for m in range(self.nsubq):
                c = &self.centroids[(m * 256 + code[m]) * self.dsub]
                for d in range(self.dsub):
                    hidden[m * self.dsub + d] += norm * c[d]
        cdef float scale = <float> (1.0 / count) if count else 0.0
        for d in range(self.dim):
            hidden[d] *= scale
        cdef int32_t best = -1
        cdef float best_score = 0.0
        self._dfs(2 * self.osz - 2, 0.0, hidden, &best, &best_score)
        return best, best_score

    cdef void _dfs(self, int32_t node, float score, const float *hidden,
                   int32_t *best, float *best_score) noexcept:
        """One node of the depth-first search for the best leaf (k=1)."""
        if score < _std_log(0.0):  # fastText's threshold 0.0
            return
        if best[0] >= 0 and score < best_score[0]:
            return
        if self.left[node] == -1 and self.right[node] == -1:
            # A leaf reached here scores at least the best so far; fastText's
            # heap keeps the later of two equal scores.
            best[0], best_score[0] = node, score
            return
        cdef float f = 0.0, one = 1.0
        cdef Py_ssize_t d
        for d in range(self.dim):
            f += self.output[node - self.osz, d] * hidden[d]
        # As in C++: expf, a float sum, then a double division stored as float.
        f = <float> (1.0 / <double> (one + expf(-f)))
        self._dfs(self.left[node], score + _std_log(<float> (1.0 - <double> f)),
                  hidden, best, best_score)
        self._dfs(self.right[node], score + _std_log(f), hidden, best, best_score)


cdef inline float _std_log(float x) noexcept nogil:
    return <float> log(<double> x + 1e-5)


cdef inline unsigned char _byte_at(const unsigned char *word, Py_ssize_t length,
                                   Py_ssize_t i) noexcept nogil:
    """Byte ``i`` of ``"<" + word + ">"``."""
    if i == 0:
        return b'<'
    if i == length + 1:
        return b'>'
    return word[i - 1]


cdef bint _starts_with_label(const unsigned char *word, Py_ssize_t length):
    cdef Py_ssize_t k
    for k in range(9):
        if word[k] != LABEL_PREFIX[k]:
            return False
    return True


def _hash(bytes word):
    """``Dictionary::hash`` of a word."""
    cdef uint32_t h = _FNV_OFFSET
    cdef unsigned char c
    for c in word:
        h = _fnv_step(h, c)
    return h
