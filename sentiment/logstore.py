"""The prediction log: every answered prediction is one row in a SQLite file.

Where: ``SENTIMENT_LOG_DB`` (default ``logs/predictions.db`` under the project
root); ``SENTIMENT_LOG_DB=off`` switches logging off and ``SENTIMENT_LOG_TEXT=0``
stores a SHA-256 of each text instead of the text.

Guarantees:

* One transaction per call (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a batch is
  written whole or not at all, and a caller that answers only after
  :meth:`PredictionLog.append` returns never answers a prediction that is not
  in the file: in WAL mode a commit survives the process being killed
  (``synchronous=NORMAL``, the default) and also a power cut or kernel crash
  with ``SENTIMENT_LOG_SYNC=FULL``, at the cost of one fsync per commit.
* ``(request_id, item)`` is unique: a retried request adds no second row.
* Many processes may write at once; WAL mode and the busy timeout are set and
  read back when the log is opened, and opening fails if they did not take.

Failure policy: if a write fails at run time (database locked beyond the busy
timeout, disk full, file removed) the prediction is still answered; the rows
are counted as dropped (``PredictionLog.dropped`` in the process, and one JSON
line per failed call in ``<db>-dropped.jsonl``, which ``python -m
sentiment.monitor status`` totals) and an error is logged. Nothing is lost
silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd

from sentiment import config

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PROBABILITY_COLUMNS = [f"prob_{label}" for label in config.LABELS]

_SCHEMA = f"""
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
CREATE TABLE IF NOT EXISTS corrections (
    prediction_id INTEGER PRIMARY KEY REFERENCES predictions (id),
    label TEXT NOT NULL CHECK (label IN ({", ".join(f"'{x}'" for x in config.LABELS)})),
    ts TEXT NOT NULL,
    reviewer TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
"""

_COLUMNS = [
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
]
_INSERT = (
    f"INSERT INTO predictions ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (request_id, item) DO NOTHING"
)
_SYNC_LEVELS = {"NORMAL": 1, "FULL": 2}  # PRAGMA synchronous reads back a number
_PERIOD_CHARS = {"hour": 13, "day": 10}  # prefix of the ISO timestamp
_PERIOD_FORMAT = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}


class LogStoreError(RuntimeError):
    """The log cannot be opened as configured (checked once, at start-up)."""


@dataclass(frozen=True)
class LogResult:
    """What one :meth:`PredictionLog.append` call did."""

    request_id: str
    rows: int  # rows written (a retried request id writes none)
    logged: bool  # False when the write failed and the rows were counted as dropped


def utc_now() -> str:
    """The current time as stored in the log."""
    return format_ts(datetime.now(timezone.utc))


def format_ts(moment: datetime) -> str:
    """A datetime as the log stores it (UTC, microseconds); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


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


def log_path_from_env(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The configured log file, or None when logging is switched off."""
    value = environ.get(config.LOG_DB_ENV, "").strip()
    if value.lower() in config.LOG_OFF_VALUES:
        return None
    return Path(value) if value else config.DEFAULT_LOG_DB


def store_text_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether texts are stored (``SENTIMENT_LOG_TEXT``, default yes)."""
    value = environ.get(config.LOG_TEXT_ENV, "1").strip().lower()
    return value not in config.LOG_OFF_VALUES


def open_default_log() -> PredictionLog | None:
    """Open the log the environment configures, or None when logging is off.

    Raises LogStoreError when the file cannot be opened in WAL mode: call it at
    start-up so a misconfiguration stops the service instead of every write.
    """
    path = log_path_from_env()
    if path is None:
        return None
    synchronous = os.environ.get(config.LOG_SYNC_ENV, config.LOG_SYNCHRONOUS)
    return PredictionLog(path, store_text_from_env(), synchronous=synchronous)


def dropped_path(db_path: str | Path) -> Path:
    """The JSON-lines file where failed writes are recorded."""
    return Path(f"{db_path}-dropped.jsonl")


def dropped_rows(db_path: str | Path) -> int:
    """Rows that could not be written to the log at ``db_path``, over all runs."""
    path = dropped_path(db_path)
    if not path.is_file():
        return 0
    total = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                total += int(json.loads(line)["rows"])
            except (ValueError, KeyError, TypeError):
                total += 1  # a half-written line still stands for a drop
    return total


class PredictionLog:
    """An append-only SQLite log of predictions, plus reviewers' corrections.

    One connection per process, shared by its threads under a lock (SQLite
    serialises writers anyway); a forked child opens its own.
    """

    def __init__(
        self,
        path: str | Path,
        store_text: bool = True,
        busy_timeout_ms: int = config.LOG_BUSY_TIMEOUT_MS,
        synchronous: str = config.LOG_SYNCHRONOUS,
    ) -> None:
        self.path = Path(path)
        self.store_text = store_text
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.synchronous = str(synchronous).strip().upper()
        if self.synchronous not in _SYNC_LEVELS:
            raise LogStoreError(
                f"synchronous must be NORMAL or FULL, not {synchronous!r} "
                f"(check {config.LOG_SYNC_ENV})."
            )
        self.dropped = 0  # rows this process failed to write
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._connection()
        except (sqlite3.Error, OSError) as e:
            raise LogStoreError(
                f"Cannot open the prediction log {self.path}: {e}. Point "
                f"{config.LOG_DB_ENV} at a writable local file, or set it to 'off'."
            ) from e

    # -- connection -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # Called with self._lock held.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
            try:
                self._configure(conn)
            except BaseException:
                conn.close()
                raise
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        if (str(mode).lower(), timeout, sync) != (
            "wal",
            self.busy_timeout_ms,
            _SYNC_LEVELS[self.synchronous],
        ):
            raise LogStoreError(
                f"{self.path}: journal_mode={mode}, busy_timeout={timeout}, "
                f"synchronous={sync}; need wal, {self.busy_timeout_ms} and "
                f"{self.synchronous}. WAL needs a local file system (not NFS/SMB) "
                "and a writable folder."
            )
        conn.executescript(_SCHEMA)

    def settings(self) -> dict[str, Any]:
        """Journal mode, synchronous level (1 NORMAL, 2 FULL) and busy timeout."""
        with self._lock:
            conn = self._connection()
            return {
                "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
                "busy_timeout_ms": conn.execute("PRAGMA busy_timeout").fetchone()[0],
            }

    def close(self) -> None:
        """Close this process's connection (it reopens on the next use)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------

    def append(
        self,
        source: str,
        request_id: str | None,
        model_version: str,
        texts: Sequence[object],
        predictions: pd.DataFrame | Sequence[Any],
        store_text: bool | None = None,
        first_item: int = 0,
        timestamp: datetime | None = None,
    ) -> LogResult:
        """Write one row per text in a single transaction; never raises on I/O.

        ``predictions`` is the DataFrame of ``Predictor.score`` or a sequence of
        ``Prediction`` objects, one per text, in order. ``request_id`` (a new
        UUID when None) and ``first_item + i`` identify each row. On failure the
        rows are counted as dropped and ``logged`` is False (see module doc).
        """
        (result,) = self.append_many(
            source,
            model_version,
            [(request_id, texts, predictions)],
            store_text,
            first_item,
            timestamp,
        )
        return result

    def append_many(
        self,
        source: str,
        model_version: str,
        requests: Sequence[
            tuple[str | None, Sequence[object], pd.DataFrame | Sequence[Any]]
        ],
        store_text: bool | None = None,
        first_item: int = 0,
        timestamp: datetime | None = None,
    ) -> list[LogResult]:
        """:meth:`append` for several ``(request_id, texts, predictions)`` at once.

        All rows go in one transaction, so a server that scores requests in
        batches pays one commit per batch instead of one per request; each
        request still gets its own id and items, and one result, in order.
        """
        keep_text = self.store_text if store_text is None else store_text
        ts = format_ts(timestamp) if timestamp else utc_now()
        ids: list[str] = []
        rows: list[list[tuple]] = []
        for request_id, texts, predictions in requests:
            records = list(_prediction_records(predictions))
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
                        len(text) if isinstance(text, (str, bytes)) else 0,
                        safe_text(text)[: config.MAX_TEXT_CHARS] if keep_text else None,
                        text_sha256(text),
                    )
                    for i, (text, record) in enumerate(zip(texts, records))
                ]
            )
        try:
            written = self._write(rows)
        except (sqlite3.Error, OSError) as e:
            for request_id, request_rows in zip(ids, rows):
                self._record_drop(source, request_id, len(request_rows), e)
            return [LogResult(request_id, 0, False) for request_id in ids]
        return [LogResult(i, n, True) for i, n in zip(ids, written)]

    def _write(self, requests: list[list[tuple]]) -> list[int]:
        """Insert each request's rows in one transaction; rows written per request."""
        if not any(requests):
            return [0] * len(requests)
        written = []
        with self._lock:
            conn = self._connection()
            # IMMEDIATE takes the write lock up front, so the busy timeout
            # applies to it; a deferred transaction that upgrades can fail
            # at once with SQLITE_BUSY instead of waiting.
            conn.execute("BEGIN IMMEDIATE")
            try:
                for rows in requests:
                    before = conn.total_changes
                    conn.executemany(_INSERT, rows)
                    written.append(conn.total_changes - before)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
        return written

    def _record_drop(
        self, source: str, request_id: str, rows: int, error: Exception
    ) -> None:
        self.dropped += rows
        log.error(
            "Prediction log %s: %d row(s) of request %s from %s NOT written (%s); "
            "%d dropped by this process so far.",
            self.path,
            rows,
            request_id,
            source,
            error,
            self.dropped,
        )
        entry = {
            "ts": utc_now(),
            "source": source,
            "request_id": request_id,
            "rows": rows,
            "error": str(error),
        }
        try:
            with open(dropped_path(self.path), "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
        except OSError as e:  # disk full: the error log and counter remain
            log.error("Could not record the drop in %s: %s", dropped_path(self.path), e)

    def record_correction(
        self, prediction_id: int, label: str, reviewer: str | None = None
    ) -> None:
        """Store a reviewer's label for a logged prediction (a later one replaces it).

        Raises ValueError for an unknown label or prediction id. Unlike
        predictions, a correction that cannot be written raises: the reviewer
        is there to see it and retry.
        """
        canonical = config.LABEL_ALIASES.get(str(label).strip().lower())
        if canonical is None:
            raise ValueError(
                f"Unknown label {label!r}: use one of {', '.join(config.LABELS)}."
            )
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = conn.execute(
                    "SELECT 1 FROM predictions WHERE id = ?", (int(prediction_id),)
                ).fetchone()
                if not found:
                    raise ValueError(f"No logged prediction with id {prediction_id}.")
                conn.execute(
                    "INSERT INTO corrections (prediction_id, label, ts, reviewer) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (prediction_id) DO UPDATE SET "
                    "label = excluded.label, ts = excluded.ts, "
                    "reviewer = excluded.reviewer",
                    (int(prediction_id), canonical, utc_now(), reviewer),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise

    # -- reading ----------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read-only SELECT and return its rows."""
        with self._lock:
            cursor = self._connection().execute(sql, params)
            names = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    def predictions(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> pd.DataFrame:
        """Logged predictions in a time range (``ts`` as UTC datetimes)."""
        where, params = _time_filter(since, until)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        sql = "SELECT * FROM predictions"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return _with_datetimes(self.query(sql, params))

    def recent(self, limit: int = 100) -> pd.DataFrame:
        """The latest predictions, newest first."""
        return self.predictions(limit=limit, newest_first=True)

    def review_queue(self, limit: int = 100) -> pd.DataFrame:
        """Uncorrected predictions marked needs_review, newest first."""
        return _with_datetimes(
            self.query(
                "SELECT p.id, p.ts, p.source, p.text, p.label, p.confidence, "
                f"{', '.join('p.' + c for c in PROBABILITY_COLUMNS)}, p.status "
                "FROM predictions p LEFT JOIN corrections c ON c.prediction_id = p.id "
                "WHERE p.needs_review = 1 AND c.prediction_id IS NULL "
                "ORDER BY p.id DESC LIMIT ?",
                (int(limit),),
            )
        )

    def corrections(self) -> pd.DataFrame:
        """Every correction with the prediction it corrects."""
        return _with_datetimes(
            self.query(
                "SELECT c.prediction_id, p.text, c.label, p.label AS predicted, "
                "p.confidence, p.model_version, c.ts, c.reviewer "
                "FROM corrections c JOIN predictions p ON p.id = c.prediction_id "
                "ORDER BY c.prediction_id"
            )
        )

    def feedback_rows(self) -> tuple[list[str], list[str], list[int]]:
        """Corrections as training rows: ``(texts, labels, skipped_ids)``.

        Corrections of predictions logged without text (text storage off) or
        with an empty text cannot train anything; their prediction ids are
        returned in ``skipped_ids``.
        """
        frame = self.corrections()
        usable = frame["text"].fillna("").str.strip() != ""
        return (
            frame.loc[usable, "text"].tolist(),
            frame.loc[usable, "label"].tolist(),
            frame.loc[~usable, "prediction_id"].astype(int).tolist(),
        )

    def time_series(
        self,
        freq: str = "hour",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pd.DataFrame:
        """Per hour or day: volume, label counts and shares, mean confidence.

        Counted in SQL (cheap on millions of rows); every period between the
        first and the last is present, with ``n = 0`` where nothing was logged.
        """
        if freq not in _PERIOD_CHARS:
            raise ValueError(f"freq must be one of {sorted(_PERIOD_CHARS)}, not {freq}")
        where, params = _time_filter(since, until)
        where.append("label IS NOT NULL")
        counts = ", ".join(
            f"SUM(label = '{label}') AS {label}" for label in config.LABELS
        )
        frame = self.query(
            f"SELECT substr(ts, 1, {_PERIOD_CHARS[freq]}) AS period, COUNT(*) AS n, "
            f"{counts}, AVG(confidence) AS mean_confidence, "
            "SUM(needs_review) AS needs_review FROM predictions "
            f"WHERE {' AND '.join(where)} GROUP BY period ORDER BY period",
            params,
        )
        return _fill_periods(frame, freq)

    def stats(self) -> dict[str, Any]:
        """Counts and settings for ``python -m sentiment.monitor status``."""
        one = lambda sql: self.query(sql).iat[0, 0]  # noqa: E731
        by = lambda col: dict(  # noqa: E731
            self.query(
                f"SELECT {col}, COUNT(*) FROM predictions GROUP BY {col}"
            ).itertuples(index=False, name=None)
        )
        return {
            "path": str(self.path),
            "bytes": sum(
                p.stat().st_size
                for p in (self.path, Path(f"{self.path}-wal"))
                if p.exists()
            ),
            **self.settings(),
            "predictions": int(one("SELECT COUNT(*) FROM predictions")),
            "first": one("SELECT MIN(ts) FROM predictions"),
            "last": one("SELECT MAX(ts) FROM predictions"),
            "by_source": by("source"),
            "by_model_version": by("model_version"),
            "awaiting_review": int(
                one(
                    "SELECT COUNT(*) FROM predictions p LEFT JOIN corrections c "
                    "ON c.prediction_id = p.id "
                    "WHERE p.needs_review = 1 AND c.prediction_id IS NULL"
                )
            ),
            "corrections": int(one("SELECT COUNT(*) FROM corrections")),
            "dropped_rows": dropped_rows(self.path),
        }

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: "ok" when the file is sound."""
        return "; ".join(self.query("PRAGMA integrity_check").iloc[:, 0].astype(str))


def _prediction_records(
    predictions: pd.DataFrame | Sequence[Any],
) -> Iterator[tuple]:
    """(label, confidence, probabilities..., needs_review, status) per prediction."""
    if isinstance(predictions, pd.DataFrame):
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
                _number(confidence),
                *map(_number, probabilities),
                int(bool(needs_review)),
                str(status),
            )
        return
    for p in predictions:
        probabilities = p.probabilities or {}
        yield (
            p.label or None,
            _number(p.confidence),
            *(_number(probabilities.get(label)) for label in config.LABELS),
            int(bool(p.needs_review)),
            str(p.status),
        )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _time_filter(
    since: datetime | None, until: datetime | None
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("ts >= ?")
        params.append(format_ts(since))
    if until is not None:
        where.append("ts < ?")
        params.append(format_ts(until))
    return where, params


def _with_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    if "ts" in frame.columns:
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return frame


def _fill_periods(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    labels = list(config.LABELS)
    if frame.empty:
        columns = ["n", *labels, "mean_confidence", "needs_review"]
        empty = pd.DataFrame(columns=columns, dtype=float)
        empty.index = pd.DatetimeIndex([], tz="UTC", name="period")
        return _add_shares(empty)
    frame["period"] = pd.to_datetime(
        frame["period"], format=_PERIOD_FORMAT[freq], utc=True
    )
    frame = frame.set_index("period")
    full = pd.date_range(
        frame.index.min(), frame.index.max(), freq="h" if freq == "hour" else "D"
    )
    frame = frame.reindex(full)
    counts = ["n", *labels, "needs_review"]
    frame[counts] = frame[counts].fillna(0).astype(int)
    frame.index.name = "period"
    return _add_shares(frame)


def _add_shares(frame: pd.DataFrame) -> pd.DataFrame:
    volume = frame["n"].where(frame["n"] > 0)
    for label in config.LABELS:
        frame[f"share_{label}"] = frame[label] / volume
    return frame
