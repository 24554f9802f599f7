"""The classic model as plain arrays: what :mod:`sentiment.model.fast` scores with.

:func:`export_arrays` turns the fitted scikit-learn pipeline into numbers and
strings only (vocabularies, idf, lexicon scores, word vectors, coefficients,
normaliser settings); :func:`write_arrays` stores them as one uncompressed
``.npz``, and :func:`read_arrays` reads it back from bytes already hashed by
the caller, each array in place, never unpickling (object dtypes are refused).

Strings are stored as one UTF-8 blob joined by newlines: the tokens, words and
n-grams of a normalised post never contain whitespace other than the single
spaces inside word bigrams.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import config
from sentiment.files.storage import atomic_write
from sentiment.model.preprocess import NEGATION_SUFFIX, emoji_descriptions

# Bumped whenever the arrays or their meaning change; the reader refuses others.
ARRAYS_FORMAT_VERSION = 1


class ArraysError(ValueError):
    """The arrays file is not one this module wrote, or is damaged."""


def pack_strings(strings: list[str]) -> np.ndarray:
    """Strings as one uint8 array (UTF-8, newline-joined)."""
    if any("\n" in s for s in strings):
        raise ValueError("a vocabulary entry contains a newline")
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def unpack_strings(blob: np.ndarray) -> list[str]:
    """The inverse of :func:`pack_strings`."""
    text = blob.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def _in_column_order(vocabulary: dict[str, int]) -> list[str]:
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    return terms


# The only tokens with a space inside: spaced ellipses (". . ."), maybe negated.
_SPACED_TOKEN_RE = re.compile(r"\.(?: *\.)+(?:_NEG)?")


def is_unigram(term: str) -> bool:
    """Whether a word-vocabulary term can be a single token."""
    return " " not in term or bool(_SPACED_TOKEN_RE.fullmatch(term))


def bigram_splits(term: str) -> list[tuple[str, str]]:
    """The (token, token) pairs a word-vocabulary term can be a bigram of.

    A term without a space gives none. Tokens hold no space except spaced ellipses, so a
    term is cut at each space where both sides are plausible tokens.
    """
    pairs = []
    for i, char in enumerate(term):
        if char == " ":
            first, second = term[:i], term[i + 1 :]
            if all(
                part and (" " not in part or _SPACED_TOKEN_RE.fullmatch(part))
                for part in (first, second)
            ):
                pairs.append((first, second))
    return pairs


def export_arrays(pipeline: Any) -> dict[str, np.ndarray]:
    """Every number and string the fitted pipeline scores with, as named arrays.

    Tokens that any block looks up (word unigrams, the parts of word bigrams,
    lexicon terms, words with a vector, plain and negated) share one table,
    so scoring looks each token up once and reads every block's entry by its id.
    """
    from sentiment.model.preprocess import token_pattern

    prepare = pipeline.named_steps["prepare"]
    if not prepare.mark_negation:
        raise ValueError("only models that mark negation can be exported")
    union = pipeline.named_steps["features"]
    parts = dict(union.transformer_list)
    classifier = pipeline.named_steps["classifier"]
    word, char = parts["word"], parts["char"]
    counts, char_tfidf = char.named_steps["counts"], char.named_steps["tfidf"]
    if tuple(word.ngram_range) != (1, 2) or not word.sublinear_tf:
        raise ValueError("the fast scorer supports word n-grams (1, 2), sublinear tf")
    word_terms = _in_column_order(word.vocabulary_)
    char_terms = _in_column_order(counts.vocabulary_)

    tokens: dict[str, int] = {}
    pairs = {column: bigram_splits(term) for column, term in enumerate(word_terms)}
    for column, term in enumerate(word_terms):
        for part in [p for pair in pairs[column] for p in pair]:
            tokens.setdefault(part, len(tokens))
        if is_unigram(term):
            tokens.setdefault(term, len(tokens))
    lexicons = {name: parts[name] for name in ("lexicon", "pattern") if name in parts}
    for block in lexicons.values():
        for term in block.vocabulary_:
            tokens.setdefault(term, len(tokens))
    vectors = parts.get("vectors")
    if vectors is not None:
        for term in vectors.vocabulary_:
            tokens.setdefault(term, len(tokens))
            tokens.setdefault(term + NEGATION_SUFFIX, len(tokens))
    n_tokens = len(tokens)

    word_col = np.full(n_tokens, -1, dtype=np.int32)
    bigram_keys, bigram_cols = [], []
    for column, term in enumerate(word_terms):
        for first, second in pairs[column]:
            bigram_keys.append(tokens[first] * n_tokens + tokens[second])
            bigram_cols.append(column)
        if is_unigram(term):
            word_col[tokens[term]] = column
    keys = np.asarray(bigram_keys, dtype=np.int64)
    order = np.argsort(keys, kind="stable")

    arrays: dict[str, np.ndarray] = {
        "tokens": pack_strings(list(tokens)),
        "word_col": word_col,
        "bigram_keys": keys[order],
        "bigram_cols": np.asarray(bigram_cols, dtype=np.int32)[order],
        "word_idf": np.asarray(word.idf_, dtype=np.float64),
        "char_terms": pack_strings(char_terms),
        "char_idf": np.asarray(char_tfidf.idf_, dtype=np.float64),
    }
    for name, block in lexicons.items():
        rows = np.full(n_tokens, -1, dtype=np.int32)
        for term, row in block.vocabulary_.items():
            rows[tokens[term]] = row
        arrays[f"{name}_row"] = rows
        arrays[f"{name}_scores"] = np.asarray(block.scores_, dtype=np.float64)
    if vectors is not None:
        rows = np.full(n_tokens, -1, dtype=np.int32)
        for term, row in vectors.vocabulary_.items():
            rows[tokens[term]] = row
            rows[tokens[term + NEGATION_SUFFIX]] = row
        arrays["vector_row"] = rows
        arrays["vectors"] = np.asarray(vectors.vectors_, dtype=np.float16)

    classes = [str(c) for c in classifier.classes_]
    order = [classes.index(label) for label in config.LABELS]
    arrays["coef"] = np.ascontiguousarray(classifier.coef_[order], dtype=np.float64)
    arrays["intercept"] = np.asarray(classifier.intercept_[order], dtype=np.float64)
    descriptions = emoji_descriptions() if prepare.describe_emoji else {}
    meta = {
        "arrays_format_version": ARRAYS_FORMAT_VERSION,
        "classes": list(config.LABELS),
        # Column blocks of coef, in the feature union's order.
        "blocks": [
            [name, int(len(step.get_feature_names_out()))]
            for name, step in union.transformer_list
        ],
        "char_ngram_range": list(counts.ngram_range),
        "char_sublinear_tf": bool(char_tfidf.sublinear_tf),
        "scales": {
            **{name: float(block.scale) for name, block in lexicons.items()},
            **({"vectors": float(vectors.scale)} if vectors is not None else {}),
        },
        "token_pattern": token_pattern(),
        "emoji_descriptions": {str(k): v for k, v in descriptions.items()},
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    return arrays


def arrays_path(model_path: str | Path) -> Path:
    """The arrays file that sits beside a model (``model.pkl`` -> ``model.npz``)."""
    return Path(model_path).with_suffix(".npz")


def write_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write ``arrays`` to ``path`` atomically (uncompressed: it loads faster)."""

    def save(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(path, save)


def read_arrays(data: bytes, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and their settings from the bytes of an arrays file.

    Reads from memory, so what was hashed is what is loaded; never unpickles.
    """
    try:
        arrays = _stored_arrays(data)
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ArraysError(f"{name} is not a model arrays file ({error}).") from error
    if meta.get("arrays_format_version") != ARRAYS_FORMAT_VERSION:
        raise ArraysError(
            f"{name} has arrays format {meta.get('arrays_format_version')}, this "
            f"version reads {ARRAYS_FORMAT_VERSION}; retrain with this version."
        )
    return arrays, meta


def _stored_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of the uncompressed ``.npz`` in ``data``, read in place.

    ``np.load`` copies each array out of the archive and checks its CRC; the
    caller has already checked these bytes against the card's SHA-256, so
    each array is a read-only view of them (no copy). Raises ValueError for
    anything but stored ``.npy`` members of plain (never object) dtypes.
    """
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    for info in members:
        if info.compress_type != zipfile.ZIP_STORED or info.filename[-4:] != ".npy":
            raise ValueError(f"{info.filename} is not a stored .npy member")
        start = info.header_offset
        if data[start : start + 4] != b"PK\x03\x04":
            raise ValueError(f"{info.filename} has no local header")
        name_size, extra_size = struct.unpack_from("<HH", data, start + 26)
        start += 30 + name_size + extra_size
        # A .npy header is under 64 KiB (format versions 1 and 2 here).
        header = io.BytesIO(data[start : start + min(info.file_size, 65_600)])
        version = np.lib.format.read_magic(header)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(header)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(header)
        count = int(np.prod(shape, dtype=np.int64))
        if dtype.hasobject or header.tell() + count * dtype.itemsize > info.file_size:
            raise ValueError(f"{info.filename[:-4]} is not a plain array of its size")
        array = np.frombuffer(data, dtype, count, start + header.tell())
        arrays[info.filename[:-4]] = array.reshape(shape, order="F" if fortran else "C")
    return arrays
