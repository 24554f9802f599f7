"""The prediction log's read side: the queries the page, the monitor CLI and
retraining run on the SQLite file (:class:`LogQueries`, mixed into
:class:`~sentiment.ops.logstore.PredictionLog`)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pandas loads only where a table is built (start-up)
    import pandas as pd

from sentiment import config
from sentiment.ops.corrections import AGREED, DISAGREEMENT
from sentiment.files.output import PROBABILITY_COLUMNS

log = logging.getLogger(__name__)

_PERIOD_CHARS = {"hour": 13, "day": 10}  # prefix of the ISO timestamp
_PERIOD_FORMAT = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}
# Which time a trend, spike or drift window follows: when the post was scored
# (``ts``), or when it was posted where the row has it (schema version 2), else
# when it was scored. "auto" is "posted" as soon as the log holds posting times.
TIME_BASES = {"scored": "ts", "posted": "COALESCE(posted_at, ts)"}


def format_ts(moment: datetime) -> str:
    """A datetime as the log stores it (UTC, microseconds); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def dropped_path(db_path: str | Path) -> Path:
    """The JSON-lines file where failed writes are recorded."""
    return Path(f"{db_path}-dropped.jsonl")


def append_dropped(db_path: str | Path, entry: dict[str, Any]) -> None:
    """Record one failed write (``entry``, with its ``rows``) in
    :func:`dropped_path`; when even that fails (disk full), it is logged, and
    the caller's error log and counter remain."""
    try:
        with open(dropped_path(db_path), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError as e:
        log.error("Could not record the drop in %s: %s", dropped_path(db_path), e)


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


class LogQueries:
    """Read-only queries over the ``predictions`` and the corrections.

    The class that mixes this in provides the connection, its lock and the
    file's path.
    """

    path: Path
    _lock: threading.Lock

    def _connection(self) -> sqlite3.Connection:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """Journal mode, synchronous level (1 NORMAL, 2 FULL) and busy timeout."""
        with self._lock:
            conn = self._connection()
            return {
                "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
                "busy_timeout_ms": conn.execute("PRAGMA busy_timeout").fetchone()[0],
            }

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read-only SELECT and return its rows."""
        import pandas as pd

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
        basis: str = "scored",
    ) -> pd.DataFrame:
        """Logged predictions in a time range (``ts`` as UTC datetimes).

        ``basis`` is the time the range applies to (see ``TIME_BASES``).
        """
        where, params = _time_filter(since, until, self.time_expression(basis))
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

    def review_queue(self, limit: int = 100) -> pd.DataFrame:
        """Predictions to review: disagreements first, then uncorrected
        predictions marked needs_review, newest first.

        ``review`` says which ("disagreement" or "new"); ``votes`` lists the
        reviewers' labels of a disagreement.
        """
        return _with_datetimes(
            self.query(
                "SELECT p.id, p.ts, p.source, p.text, p.label, p.confidence, "
                f"{', '.join('p.' + c for c in PROBABILITY_COLUMNS)}, p.status, "
                f"COALESCE(c.state, 'new') AS review, c.votes "
                "FROM predictions p LEFT JOIN corrections c ON c.prediction_id = p.id "
                f"WHERE (p.needs_review = 1 AND c.prediction_id IS NULL) "
                f"OR c.state = '{DISAGREEMENT}' "
                f"ORDER BY c.state = '{DISAGREEMENT}' DESC, p.id DESC LIMIT ?",
                (int(limit),),
            )
        )

    def corrections(self) -> pd.DataFrame:
        """Per corrected prediction: its current label (None in a disagreement),
        ``state`` ("agreed" or "disagreement"), the reviewers' ``votes``, the
        time of the latest correction, and the prediction it corrects."""
        return _with_datetimes(
            self.query(
                "SELECT c.prediction_id, p.text, c.label, p.label AS predicted, "
                "p.confidence, p.model_version, c.ts, c.state, c.votes "
                "FROM corrections c JOIN predictions p ON p.id = c.prediction_id "
                "ORDER BY c.prediction_id"
            )
        )

    def correction_history(self) -> pd.DataFrame:
        """Every correction ever saved, oldest first (the table is append-only)."""
        return _with_datetimes(
            self.query(
                "SELECT id, prediction_id, label, reviewer, ts "
                "FROM correction_history ORDER BY id"
            )
        )

    def feedback_rows(self) -> tuple[list[str], list[str], list[int]]:
        """Agreed corrections as training rows: ``(texts, labels, skipped_ids)``.

        Disagreements are left out (they have no label until reviewers agree).
        Agreed corrections of predictions logged without text (text storage
        off) or with an empty text cannot train anything; their prediction ids
        are returned in ``skipped_ids``.
        """
        frame = self.corrections()
        frame = frame[frame["state"] == AGREED]
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
        basis: str = "scored",
    ) -> pd.DataFrame:
        """Per hour or day: volume, label counts and shares, mean confidence.

        Counted in SQL (cheap on millions of rows); every period between the
        first and the last is present, with ``n = 0`` where nothing was logged.
        ``basis``: periods of the scoring or the posting time (``TIME_BASES``).
        """
        if freq not in _PERIOD_CHARS:
            raise ValueError(f"freq must be one of {sorted(_PERIOD_CHARS)}, not {freq}")
        moment = self.time_expression(basis)
        where, params = _time_filter(since, until, moment)
        where.append("label IS NOT NULL")
        counts = ", ".join(
            f"SUM(label = '{label}') AS {label}" for label in config.LABELS
        )
        frame = self.query(
            f"SELECT substr({moment}, 1, {_PERIOD_CHARS[freq]}) AS period, "
            f"COUNT(*) AS n, "
            f"{counts}, AVG(confidence) AS mean_confidence, "
            "SUM(needs_review) AS needs_review FROM predictions "
            f"WHERE {' AND '.join(where)} GROUP BY period ORDER BY period",
            params,
        )
        return _fill_periods(frame, freq)

    def has_posting_times(self) -> bool:
        """Whether any logged row carries the time its post was posted."""
        return not self.query(
            "SELECT 1 FROM predictions WHERE posted_at IS NOT NULL LIMIT 1"
        ).empty

    def time_basis(self, basis: str = "auto") -> str:
        """ "posted" or "scored": ``basis``, with "auto" resolved for this log."""
        if basis == "auto":
            return "posted" if self.has_posting_times() else "scored"
        if basis not in TIME_BASES:
            raise ValueError(
                f"time basis must be auto, posted or scored, not {basis!r}"
            )
        return basis

    def time_expression(self, basis: str = "scored") -> str:
        """The SQL expression of the time ``basis`` (resolved) stands for."""
        return TIME_BASES[self.time_basis(basis)]

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
                    "WHERE (p.needs_review = 1 AND c.prediction_id IS NULL) "
                    f"OR c.state = '{DISAGREEMENT}'"
                )
            ),
            "corrections": int(
                one(f"SELECT COUNT(*) FROM corrections WHERE state = '{AGREED}'")
            ),
            "disagreements": int(
                one(f"SELECT COUNT(*) FROM corrections WHERE state = '{DISAGREEMENT}'")
            ),
            "dropped_rows": dropped_rows(self.path),
        }

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: "ok" when the file is sound."""
        return "; ".join(self.query("PRAGMA integrity_check").iloc[:, 0].astype(str))


def _time_filter(
    since: datetime | None, until: datetime | None, moment: str = "ts"
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append(f"{moment} >= ?")
        params.append(format_ts(since))
    if until is not None:
        where.append(f"{moment} < ?")
        params.append(format_ts(until))
    return where, params


def _with_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if "ts" in frame.columns:
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return frame


def _fill_periods(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    import pandas as pd

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
