"""The fast tier's per-post computation in pure Python: what the compiled
``_fastscore`` core does, in the same order with the same arithmetic, so the
same numbers, only slower. Used when the extension is not built, and by the
explanations (:meth:`FastModel.features`).

``model`` below is a :class:`sentiment.model.fast.FastModel`.
"""

from __future__ import annotations

import math
from array import array
from typing import Any, Sequence

import numpy as np

# Token flags, as preprocess.mark_negation_scope decides them.
NEGATION_CUE = 1
SCOPE_END = 2


def _marked_ids(entries: list[bytes]) -> list[int]:
    """The post's token ids with negation scope applied (mark_negation_scope)."""
    marked = []
    in_scope = False
    for entry in entries:
        ints = array("i", entry)
        for t in range(ints[0]):
            plain, negated, flags = ints[3 + 3 * t : 6 + 3 * t]
            if flags & NEGATION_CUE:
                if in_scope:
                    marked.append(negated)
                    continue
                in_scope = True
            elif in_scope:
                if flags & SCOPE_END:
                    in_scope = False
                else:
                    marked.append(negated)
                    continue
            marked.append(plain)
    return marked


def _tfidf(columns: list[int], table: np.ndarray, offset: int, sublinear: bool):
    """L2-normalised (sublinear) TF-IDF of one post's column ids, by column."""
    counts: dict[int, int] = {}
    for col in columns:
        counts[col] = counts.get(col, 0) + 1
    cols = sorted(counts)
    values = []
    total = 0.0
    for col in cols:  # in column order, as the compiled core sums
        c = counts[col]
        v = ((1.0 + math.log(c)) if sublinear else float(c)) * float(table[col, 0])
        values.append(v)
        total += v * v
    norm = math.sqrt(total)
    return [offset + col for col in cols], [v / norm for v in values]


def _lexicon(ids, field, scores, scale, offset, tokens):
    found = [int(tokens[i, field]) for i in ids if i >= 0 and tokens[i, field] >= 0]
    if not found:
        return [], []
    sums = [0.0] * scores.shape[1]
    for row in found:
        for j in range(scores.shape[1]):
            sums[j] += float(scores[row, j])
    return [offset + j for j in range(len(sums))], [scale * math.log1p(s) for s in sums]


def _vector_rows(tokens: np.ndarray, ids: list[int]) -> list[int]:
    """The word-vector rows of the post's tokens that have one."""
    return [int(tokens[i, 3]) for i in ids if i >= 0 and tokens[i, 3] >= 0]


def post_features(
    model: Any, entries: list[bytes], with_vectors: bool = True
) -> tuple[list, list]:
    """One post's feature columns (in the pipeline's numbering) and values;
    ``with_vectors=False`` leaves out the mean word vector's columns."""
    t = model.tables
    tokens = t["token_table"]
    ids = _marked_ids(entries)
    words = [int(tokens[i, 0]) for i in ids if i >= 0 and tokens[i, 0] >= 0]
    n_tokens, keys = t["n_tokens"], t["bigram_keys"]
    for a, b in zip(ids, ids[1:]):
        if a >= 0 and b >= 0:
            key = a * n_tokens + b
            k = int(np.searchsorted(keys, key))
            if k < len(keys) and keys[k] == key:
                words.append(int(t["bigram_cols"][k]))
    chars: list[int] = []
    for entry in entries:
        ints = array("i", entry)
        start = 3 + 3 * ints[0]
        chars.extend(ints[start : start + ints[1]])
    columns, values = [], []
    for block in (
        _tfidf(words, t["word_table"], 0, True) if words else ([], []),
        (
            _tfidf(chars, t["char_table"], t["char_offset"], t["char_sublinear"])
            if chars
            else ([], [])
        ),
    ):
        columns += block[0]
        values += block[1]
    for field, name in ((1, "lexicon"), (2, "pattern")):
        if t[f"{name}_offset"] >= 0:
            cols, vals = _lexicon(
                ids,
                field,
                t[f"{name}_scores"],
                t[f"{name}_scale"],
                t[f"{name}_offset"],
                tokens,
            )
            columns += cols
            values += vals
    if with_vectors and t["vector_offset"] >= 0:
        rows = _vector_rows(tokens, ids)
        if rows:
            dims = t["vectors"].shape[1]
            sums = [0.0] * dims
            for r in rows:
                for j in range(dims):
                    sums[j] += float(t["vectors"][r, j])
            factor = t["vector_scale"] / len(rows)
            columns += [t["vector_offset"] + j for j in range(dims)]
            values += [s * factor for s in sums]
    return columns, values


def score_pure(model: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The compiled core's computation in Python: probabilities, known words."""
    t = model.tables
    coef, intercept = t["coef"], t["intercept"]
    n_classes = len(intercept)
    probabilities = np.zeros((len(texts), n_classes))
    known = np.zeros(len(texts), dtype=np.int64)
    n_word = model.n_word_features
    for row, text in enumerate(texts):
        entries = model._post_entries(text)
        columns, values = post_features(model, entries, with_vectors=False)
        logits = [float(intercept[k]) for k in range(n_classes)]
        for col, value in zip(columns, values):
            for k in range(n_classes):
                logits[k] += value * float(coef[k, col])
        if t["vector_offset"] >= 0:
            _add_vector_logits(t, _marked_ids(entries), logits)
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = 0.0
        for e in exps:
            total += e
        probabilities[row] = [e / total for e in exps]
        known[row] = sum(1 for col in columns if col < n_word)
    return probabilities, known


def _add_vector_logits(t: dict[str, Any], ids: list[int], logits: list[float]) -> None:
    """The mean word vector's share of the logits, summed as the compiled core
    sums it: each row's share (``vector_logits``), then scaled once."""
    rows = _vector_rows(t["token_table"], ids)
    if not rows:
        return
    sums = [0.0] * len(logits)
    for r in rows:
        for k in range(len(logits)):
            sums[k] += float(t["vector_logits"][r, k])
    factor = t["vector_scale"] / len(rows)
    for k in range(len(logits)):
        logits[k] += factor * sums[k]
