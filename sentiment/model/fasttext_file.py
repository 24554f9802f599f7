"""What a fastText 0.9 model file (``lid.176.ftz``) holds, read from its bytes
without fastText, for the compiled prediction in :mod:`sentiment.model._langid`.

Only the layout ``lid.176.ftz`` has is accepted (supervised, hierarchical
softmax, word n-grams of 1, pruned buckets, input quantised with quantised
norms, dense output); any other file raises ValueError saying what differs.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import numpy as np

MAGIC = 793712314
VERSION = 12
MAX_BUCKETS = 16_000_000  # fastText's default is 2,000,000
MAX_DIM = 64  # the compiled model keeps the hidden vector on the stack
MAX_NGRAM = 16  # characters in a subword (lid.176: 2 to 4)
LOSS_HIERARCHICAL_SOFTMAX = 1
MODEL_SUPERVISED = 3
END_OF_SENTENCE = b"</s>"
LABEL_PREFIX = b"__label__"


class ModelFile(NamedTuple):
    """The parts prediction reads; arrays are views of the file's bytes."""

    dim: int
    minn: int
    maxn: int
    bucket: int
    nwords: int
    words: list[bytes]  # the words, then the labels
    word_types: list[int]  # 1 for a label
    labels: list[str]  # ISO codes, in the order of the output rows
    eos_id: int  # the id of "</s>", or -1
    # The buckets that kept a row: a bit per bucket, the set bits before each
    # 64-bit word, and the rows in bucket order (see _pruned_buckets).
    bucket_bits: np.ndarray
    bucket_ranks: np.ndarray
    pruned_rows: np.ndarray
    codes: np.ndarray  # product-quantised rows: nsubq codes per row
    nsubq: int
    dsub: int
    centroids: np.ndarray
    norm_codes: np.ndarray
    norm_centroids: np.ndarray
    output: np.ndarray  # labels x dim
    left: np.ndarray  # the Huffman tree of the labels (-1: none)
    right: np.ndarray


class _Reader:
    """Little-endian values read one after another from the file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def values(self, fmt: str) -> tuple[Any, ...]:
        size = self._take(struct.calcsize("<" + fmt))
        return struct.unpack_from("<" + fmt, self.data, self.at - size)

    def array(self, dtype: Any, count: int) -> np.ndarray:
        if count < 0:
            raise ValueError(f"the model file gives a negative size ({count})")
        size = self._take(count * np.dtype(dtype).itemsize)
        return np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at - size)

    def word(self) -> bytes:
        end = self.data.find(b"\0", self.at)
        if end < 0:
            raise ValueError("the model file is cut short (in its words)")
        word, self.at = self.data[self.at : end], end + 1
        return word

    def _take(self, size: int) -> int:
        """Move past ``size`` bytes; ValueError when the file has fewer left."""
        if self.at + size > len(self.data):
            raise ValueError(
                f"the model file is cut short: {size:,} bytes needed at byte "
                f"{self.at:,}, {len(self.data) - self.at:,} left"
            )
        self.at += size
        return size


def read_model_file(data: bytes) -> ModelFile:
    """The parts of the model file ``data``; ValueError for another layout or a
    file cut short."""
    return _read(_Reader(data))


def _read(reader: _Reader) -> ModelFile:
    magic, version = reader.values("ii")
    if magic != MAGIC or version != VERSION:
        raise ValueError("not a fastText 0.9 model file")
    dim, _, _, _, _, word_ngrams, loss, model, bucket, minn, maxn, _ = reader.values(
        "12i"
    )
    reader.values("d")
    if loss != LOSS_HIERARCHICAL_SOFTMAX or model != MODEL_SUPERVISED:
        raise ValueError("only supervised hierarchical-softmax models are supported")
    if word_ngrams != 1:
        raise ValueError("only models without word n-grams are supported")
    if not 0 < bucket <= MAX_BUCKETS:
        raise ValueError(f"{bucket} buckets: expected 1 to {MAX_BUCKETS:,}")
    if not 0 <= minn <= maxn <= MAX_NGRAM:
        raise ValueError(f"n-grams of {minn} to {maxn} characters: at most {MAX_NGRAM}")
    size, nwords, nlabels = reader.values("iii")
    if not 0 <= nwords <= size or size - nwords != nlabels or nlabels < 1:
        raise ValueError(f"{size} entries, {nwords} words, {nlabels} labels")
    _, prune_size = reader.values("qq")
    if prune_size <= 0:
        raise ValueError("only models with pruned buckets (.ftz) are supported")
    words, counts, types = [], [], []
    for _ in range(size):
        words.append(reader.word())
        count, kind = reader.values("qb")
        counts.append(count)
        types.append(kind)
    pairs = reader.array(np.int32, 2 * prune_size).reshape(-1, 2)
    quantised, qnorm = reader.values("??")
    if not quantised or not qnorm:
        raise ValueError("only models quantised with -qnorm are supported")
    rows, columns = reader.values("qq")
    bucket_bits, bucket_ranks, pruned_rows = _pruned_buckets(
        pairs, bucket, rows - nwords
    )
    (code_size,) = reader.values("i")
    codes = reader.array(np.uint8, code_size)
    pq_dim, nsubq, dsub, lastdsub = reader.values("4i")
    centroids = reader.array(np.float32, pq_dim * 256)
    norm_codes = reader.array(np.uint8, rows)
    norm_dim, _, _, _ = reader.values("4i")
    norm_centroids = reader.array(np.float32, norm_dim * 256)
    (quantised_output,) = reader.values("?")
    if quantised_output:
        raise ValueError("only models with a dense output matrix are supported")
    out_rows, out_columns = reader.values("qq")
    output = reader.array(np.float32, out_rows * out_columns)
    if reader.at != len(reader.data) or columns != dim or out_columns != dim:
        raise ValueError("the model file does not have the expected layout")
    if out_rows != nlabels:  # a row per node of the labels' tree
        raise ValueError(f"{out_rows} output rows for {nlabels} labels")
    # The compiled model sums nsubq x dsub values into a hidden vector of dim
    # (at most MAX_DIM) floats and reads norms as norm_centroids[code].
    quantisation = (dim, nsubq * dsub, lastdsub, code_size, norm_dim)
    if not 0 < dim <= MAX_DIM or quantisation != (pq_dim, dim, dsub, rows * nsubq, 1):
        raise ValueError("unsupported quantisation layout")
    left, right = _huffman_tree(counts[nwords:])
    return ModelFile(
        dim=dim,
        minn=minn,
        maxn=maxn,
        bucket=bucket,
        nwords=nwords,
        words=words,
        word_types=types,
        labels=[w[len(LABEL_PREFIX) :].decode() for w in words[nwords:]],
        eos_id=words.index(END_OF_SENTENCE) if END_OF_SENTENCE in words else -1,
        bucket_bits=bucket_bits,
        bucket_ranks=bucket_ranks,
        pruned_rows=pruned_rows,
        codes=codes,
        nsubq=nsubq,
        dsub=dsub,
        centroids=centroids,
        norm_codes=norm_codes,
        norm_centroids=norm_centroids,
        output=output.reshape(out_rows, out_columns),
        left=left,
        right=right,
    )


def _pruned_buckets(
    pairs: np.ndarray, bucket: int, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which buckets kept a row, and the rows (after the words), as a rank
    table: bucket ``b`` has a row when bit ``b`` is set, and it is
    ``rows[ranks[b // 64] + (set bits of word b // 64 below b)]``.

    About 400 KB for lid.176's 2,000,000 buckets and 42,765 rows (a table of
    every bucket would take 8 MB, and each n-gram's read would miss the cache).
    """
    keys, rows = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    if len(keys) and (keys.min() < 0 or keys.max() >= bucket):
        raise ValueError("a pruned bucket outside the model's buckets")
    if len(keys) and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError("a pruned bucket's row outside the input matrix")
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if np.any(keys[1:] == keys[:-1]):
        raise ValueError("a bucket pruned twice")
    bits = np.zeros(bucket // 64 + 1, dtype=np.uint64)
    np.bitwise_or.at(bits, keys >> 6, np.left_shift(1, keys & 63).astype(np.uint64))
    counts = np.bitwise_count(bits).astype(np.int64)
    ranks = (np.cumsum(counts) - counts).astype(np.int32)
    return bits, ranks, rows[order].astype(np.int32)


def _huffman_tree(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``HierarchicalSoftmaxLoss::buildTree``: each node's children (-1: a leaf)."""
    osz = len(counts)
    count = [1e15] * (2 * osz - 1)
    left, right = [-1] * (2 * osz - 1), [-1] * (2 * osz - 1)
    count[:osz] = counts
    leaf, node = osz - 1, osz
    for i in range(osz, 2 * osz - 1):
        smallest = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                smallest.append(leaf)
                leaf -= 1
            else:
                smallest.append(node)
                node += 1
        left[i], right[i] = smallest
        count[i] = count[smallest[0]] + count[smallest[1]]
    return np.array(left, dtype=np.int32), np.array(right, dtype=np.int32)
