"""What one row of the prediction log is: the schema, and the conversion of
predictions and texts into row values (text made storable, or its hash)."""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

if TYPE_CHECKING:  # pandas loads only where a table is built (start-up)
    import pandas as pd

from sentiment import config
from sentiment.files.output import PROBABILITY_COLUMNS
from sentiment.ops.corrections import CORRECTIONS_SCHEMA, SCHEMA_VERSION
from sentiment.ops.log_queries import format_ts

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,              -- UTC, ISO 8601 with microseconds
    source TEXT NOT NULL,          -- page, api, batch, cli, ...
    request_id TEXT NOT NULL,
    item INTEGER NOT NULL,         -- position of the text within its request
    model_version TEXT NOT NULL,   -- SHA-256 of model.pkl
    label TEXT,                    -- NULL when there was no text
    confidence REAL,
    {", ".join(f"{c} REAL" for c in PROBABILITY_COLUMNS)},
    needs_review INTEGER NOT NULL,
    status TEXT NOT NULL,
    text_length INTEGER NOT NULL,  -- characters of the text as received
    text TEXT,                     -- NULL when text storage is off
    text_sha256 TEXT NOT NULL,
    UNIQUE (request_id, item)
);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions (ts);
CREATE INDEX IF NOT EXISTS predictions_review ON predictions (ts)
    WHERE needs_review = 1;
{CORRECTIONS_SCHEMA};
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
"""


COLUMNS = [
    "ts",
    "source",
    "request_id",
    "item",
    "model_version",
    "label",
    "confidence",
    *PROBABILITY_COLUMNS,
    "needs_review",
    "status",
    "text_length",
    "text",
    "text_sha256",
    "correlation_id",
]

# The fields of a prediction record (prediction_records), and of text_columns.
RECORD_COLUMNS = COLUMNS[COLUMNS.index("label") : COLUMNS.index("text_length")]
TEXT_COLUMNS = ["text_length", "text", "text_sha256"]


# The caller's own id (the API's X-Request-ID) for following a request across
# services. It is not the log key: two answers that share it are two rows.
# Added by schema version 3 (ops.log_migrations).
CORRELATION_COLUMN = "correlation_id"
ADD_CORRELATION_COLUMN = f"ALTER TABLE predictions ADD COLUMN {CORRELATION_COLUMN} TEXT"


INSERT = (
    f"INSERT INTO predictions ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (request_id, item) DO NOTHING"
)


def utc_now() -> str:
    """The current time as stored in the log."""
    return format_ts(datetime.now(timezone.utc))


def safe_text(text: object) -> str:
    """Text that SQLite stores and reads back as valid UTF-8, whatever came in.

    Lone surrogates (from JSON ``"\\ud800"`` or undecodable bytes) and invalid
    bytes become visible escapes such as ``\\ud800`` / ``\\xff`` instead of
    breaking the insert; NUL and every valid character are kept.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", "backslashreplace")
    text = text if isinstance(text, str) else str(text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def text_sha256(text: object) -> str:
    """SHA-256 of the text as received (surrogates kept, so distinct inputs differ)."""
    if text is None:
        data = b""
    elif isinstance(text, (bytes, bytearray)):
        data = bytes(text)
    else:
        data = str(text).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def prediction_records(
    predictions: pd.DataFrame | Sequence[Any],
) -> Iterator[tuple]:
    """(label, confidence, probabilities..., needs_review, status) per prediction.

    ``predictions``: a ``Predictor.score`` DataFrame, ``Prediction`` objects,
    or an object with ``log_columns()`` (the pandas-free batch path).
    """
    if hasattr(predictions, "log_columns"):
        yield from zip(*predictions.log_columns())
        return
    if hasattr(predictions, "columns"):  # a DataFrame
        # Column lists, not itertuples: per-row pandas access costs milliseconds.
        columns = ["confidence", *PROBABILITY_COLUMNS]
        numbers = zip(*(predictions[c].tolist() for c in columns))
        for label, (confidence, *probabilities), needs_review, status in zip(
            predictions["sentiment"].tolist(),
            numbers,
            predictions["needs_review"].tolist(),
            predictions["status"].tolist(),
        ):
            yield (
                label or None,
                as_number(confidence),
                *map(as_number, probabilities),
                int(bool(needs_review)),
                str(status),
            )
        return
    for p in predictions:
        probabilities = p.probabilities or {}
        yield (
            p.label or None,
            as_number(p.confidence),
            *(as_number(probabilities.get(label)) for label in config.LABELS),
            int(bool(p.needs_review)),
            str(p.status),
        )


def text_columns(text: object, keep_text: bool) -> tuple[int, str | None, str]:
    """The log's ``text_length``, ``text`` (None when not kept) and ``text_sha256``."""
    if isinstance(text, str):
        try:  # the usual text: valid UTF-8 as it is, so one encoding serves both
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: see safe_text
            pass
        else:
            kept = text[: config.MAX_TEXT_CHARS] if keep_text else None
            return len(text), kept, hashlib.sha256(data).hexdigest()
    return (
        len(text) if isinstance(text, (str, bytes)) else 0,
        safe_text(text)[: config.MAX_TEXT_CHARS] if keep_text else None,
        text_sha256(text),
    )


def prediction_columns(
    predictions: pd.DataFrame | Sequence[Any], rows: int
) -> list[list[Any]]:
    """:func:`prediction_records` as ``RECORD_COLUMNS`` lists of ``rows`` values.

    Raises ValueError when there are not ``rows`` predictions.
    """
    if hasattr(predictions, "log_columns"):
        columns = predictions.log_columns()
    else:
        columns = transposed(prediction_records(predictions), len(RECORD_COLUMNS))
    if any(len(column) != rows for column in columns):
        raise ValueError(
            f"{rows} texts but {len(columns[0])} predictions: they must pair up"
        )
    return columns


def text_column_lists(texts: Sequence[object], keep_text: bool) -> list[list[Any]]:
    """:func:`text_columns` of every text, as ``TEXT_COLUMNS`` lists.

    The usual chunk (strings that are valid UTF-8) takes a list comprehension
    and C loops instead of a call and a tuple per text; any other falls back.
    """
    try:
        hashes = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]
    except (AttributeError, UnicodeEncodeError):  # not str, or lone surrogates
        rows = (text_columns(text, keep_text) for text in texts)
        return transposed(rows, len(TEXT_COLUMNS))
    lengths = list(map(len, texts))
    if not keep_text:
        return [lengths, [None] * len(lengths), hashes]
    if max(lengths, default=0) <= config.MAX_TEXT_CHARS:
        return [lengths, list(texts), hashes]
    return [lengths, [text[: config.MAX_TEXT_CHARS] for text in texts], hashes]


def transposed(rows: Iterable[tuple], width: int) -> list[list[Any]]:
    """The ``width`` columns of ``rows`` (empty lists when there is no row)."""
    return [list(column) for column in zip(*rows)] or [[] for _ in range(width)]


def as_number(value: Any) -> float | None:
    """A float for SQLite: None for a missing value or NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def build_rows(
    source: str,
    model_version: str,
    requests: Sequence[
        tuple[str | None, Sequence[object], pd.DataFrame | Sequence[Any]]
    ],
    keep_text: bool,
    first_item: int,
    ts: str,
    correlation_ids: Sequence[str | None] | None = None,
) -> tuple[list[str], list[list[tuple]]]:
    """The request ids (new UUIDs for None) and row values of ``requests``.

    Each request is ``(request_id, texts, predictions)``, the predictions one
    per text (see :func:`prediction_records`); ``correlation_ids`` has one
    entry per request, or is None.
    """
    if correlation_ids is None:
        correlation_ids = [None] * len(requests)
    ids: list[str] = []
    rows: list[list[tuple]] = []
    for (request_id, texts, predictions), correlation_id in zip(
        requests, correlation_ids, strict=True
    ):
        records = list(prediction_records(predictions))
        if len(records) != len(texts):
            raise ValueError(
                f"{len(texts)} texts but {len(records)} predictions: they must "
                "pair up"
            )
        ids.append(request_id or uuid.uuid4().hex)
        rows.append(
            [
                (
                    ts,
                    source,
                    ids[-1],
                    first_item + i,
                    model_version,
                    *record,
                    *text_columns(text, keep_text),
                    correlation_id,
                )
                for i, (text, record) in enumerate(zip(texts, records))
            ]
        )
    return ids, rows
