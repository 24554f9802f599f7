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
* ``(request_id, item)`` is unique: a retried call with the same id adds no
  second row. The API gives every answer its own id and stores the caller's
  ``X-Request-ID`` in ``correlation_id``, so every answer has its row.
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

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:  # pandas loads only where a table is built (start-up)
    import pandas as pd

from sentiment import config
from sentiment.ops.corrections import Correction, migrate_corrections
from sentiment.ops.log_migrations import migrate
from sentiment.ops.log_queries import LogQueries, append_dropped, format_ts
from sentiment.ops.log_rows import COLUMNS, INSERT, SCHEMA, build_rows, utc_now

log = logging.getLogger(__name__)


_SYNC_LEVELS = {"NORMAL": 1, "FULL": 2}  # PRAGMA synchronous reads back a number


class LogStoreError(RuntimeError):
    """The log cannot be opened as configured (checked once, at start-up)."""


@dataclass(frozen=True)
class LogResult:
    """What one :meth:`PredictionLog.append` call did."""

    request_id: str
    rows: int  # rows written (a retried request id writes none)
    logged: bool  # False when the write failed and the rows were counted as dropped


def open_default_log() -> PredictionLog | None:
    """Open the log the environment configures, or None when logging is off.

    Raises LogStoreError when the file cannot be opened in WAL mode: call it at
    start-up so a misconfiguration stops the service instead of every write.
    """
    path = config.log_path_from_env()
    if path is None:
        return None
    return PredictionLog(
        path, config.store_text_from_env(), synchronous=config.log_sync_from_env()
    )


class PredictionLog(LogQueries):
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
        # Before the schema: a version-1 log's corrections table becomes the
        # history that the schema's corrections view reads.
        migrate_corrections(conn)
        conn.executescript(SCHEMA)
        migrate(conn)

    def set_autocheckpoint(self, pages: int) -> int:
        """Set this process's WAL auto-checkpoint size in pages (0: off, while
        ``log_checkpoint.checkpoint_alongside`` checkpoints); returns the old."""
        with self._lock:
            conn = self._connection()
            old = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            return int(old)

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
        correlation_ids: Sequence[str | None] | None = None,
    ) -> list[LogResult]:
        """:meth:`append` for several ``(request_id, texts, predictions)`` at once.

        All rows go in one transaction, so a server that scores requests in
        batches pays one commit per batch instead of one per request; each
        request still gets its own id and items, and one result, in order.
        ``correlation_ids`` (one per request) are the callers' own ids, stored
        beside the rows but not part of their key.
        """
        ids, rows = build_rows(
            source,
            model_version,
            requests,
            self.store_text if store_text is None else store_text,
            first_item,
            format_ts(timestamp) if timestamp else utc_now(),
            correlation_ids,
        )
        return self.write_rows(source, ids, rows)

    def write_rows(
        self,
        source: str,
        ids: Sequence[str],
        rows: list[list[tuple]],
        claim: Callable[[], Sequence[bool]] | None = None,
        insert: str = INSERT,
    ) -> list[LogResult]:
        """Commit ``build_rows``' rows in one transaction; never raises on I/O.

        ``insert`` is the statement (``post_log`` adds the brand columns).

        ``claim``, when given, is called once the write lock is held and says
        which requests to write: a queued writer uses it to skip requests whose
        callers stopped waiting, so a row is never added after its answer said
        it was not logged. Skipped requests get ``rows=0, logged=False`` and are
        not counted as dropped here (the caller counts them). A failed write
        counts the claimed requests' rows as dropped (see module doc).
        """
        taken: list[bool] | None = None

        def claim_once() -> list[bool]:
            nonlocal taken
            if taken is None:
                taken = [True] * len(ids) if claim is None else list(claim())
            return taken

        try:
            written = self._write(rows, claim_once, insert)
        except (sqlite3.Error, OSError) as e:
            for request_id, request_rows, kept in zip(ids, rows, claim_once()):
                if kept:
                    self.record_drop(source, request_id, len(request_rows), e)
            return [LogResult(request_id, 0, False) for request_id in ids]
        return [LogResult(i, n, k) for i, n, k in zip(ids, written, claim_once())]

    def copy_rows(
        self,
        source: str,
        request_id: str,
        scratch: Sequence[Path],
        select: str,
        params: dict[str, Any],
        rows: int,
    ) -> LogResult:
        """:meth:`write_rows` of the ``rows`` log rows (whole, in ``COLUMNS``
        order) that ``select`` reads from the SQLite files ``scratch``, attached
        as schemas ``scratch0``, ``scratch1``, ...: SQLite copies them, no
        Python object per row."""
        insert = f"INSERT INTO predictions ({', '.join(COLUMNS)}) {select} "
        insert += "ON CONFLICT (request_id, item) DO NOTHING"
        try:
            (written,) = self._write([[params]], insert=insert, attach=scratch)
        except (sqlite3.Error, OSError) as e:
            self.record_drop(source, request_id, rows, e)
            return LogResult(request_id, 0, False)
        return LogResult(request_id, written, True)

    def _write(
        self,
        requests: list[list[tuple]],
        claim: Callable[[], Sequence[bool]] | None = None,
        insert: str = INSERT,
        attach: Sequence[Path] = (),
    ) -> list[int]:
        """Insert the (claimed) requests' rows in one transaction; rows written
        each. ``attach``: files ``insert`` reads, as schemas ``scratch0``, ..."""
        claim = claim or (lambda: [True] * len(requests))
        if not any(requests):
            claim()
            return [0] * len(requests)
        written = []
        with self._lock:
            conn = self._connection()
            attached = 0
            try:
                for path in attach:  # ATTACH cannot run inside a transaction
                    conn.execute(
                        f"ATTACH DATABASE ? AS scratch{attached}", (str(path),)
                    )
                    attached += 1
                # IMMEDIATE takes the write lock up front, so the busy timeout
                # applies to it; a deferred transaction that upgrades can fail
                # at once with SQLITE_BUSY instead of waiting.
                conn.execute("BEGIN IMMEDIATE")
                for rows, kept in zip(requests, claim(), strict=True):
                    before = conn.total_changes
                    if kept:
                        conn.executemany(insert, rows)
                    written.append(conn.total_changes - before)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
            finally:
                for i in range(attached):
                    conn.execute(f"DETACH DATABASE scratch{i}")
        return written

    def record_drop(
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
        entry = {"ts": utc_now(), "source": source, "request_id": request_id}
        append_dropped(self.path, {**entry, "rows": rows, "error": str(error)})

    def record_correction(
        self, prediction_id: int, label: str, reviewer: str | None = None
    ) -> Correction:
        """Add a reviewer's label for a logged prediction to the history.

        Nothing is overwritten: the prediction's label is derived from every
        reviewer's latest one (see sentiment.ops.corrections), and the result
        says whether it is now agreed or a disagreement. Raises ValueError for
        an unknown label or prediction id. Unlike predictions, a correction
        that cannot be written raises: the reviewer is there to see it and retry.
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
                    "INSERT INTO correction_history (prediction_id, label, reviewer, "
                    "ts) VALUES (?, ?, ?, ?)",
                    (int(prediction_id), canonical, reviewer, utc_now()),
                )
                current, state, votes = conn.execute(
                    "SELECT label, state, votes FROM corrections "
                    "WHERE prediction_id = ?",
                    (int(prediction_id),),
                ).fetchone()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
        return Correction(int(prediction_id), canonical, current, state, votes)
