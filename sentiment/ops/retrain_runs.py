"""The ``retrain_runs`` table of the prediction log: one row per retraining run
of ``python -m sentiment.retrain`` (what fired it, the SHA-256 of the data it
used, the gate's metrics, the decision and why).

A run is inserted as ``running`` before training starts and completed after
the gate, so a run that crashed stays visible (no ``finished_at``). The table
itself is created by schema version 4 (sentiment.ops.log_migrations).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sentiment.ops.log_queries import format_ts
from sentiment.ops.logstore import PredictionLog

if TYPE_CHECKING:  # pandas loads only where a table is built
    import pandas as pd

RUNNING = "running"
PROMOTED = "promoted"
REJECTED = "rejected"
FAILED = "failed"
DECISIONS = (RUNNING, PROMOTED, REJECTED, FAILED)
JSON_COLUMNS = ("trigger_detail", "data_hashes", "metrics")


def _now() -> str:
    return format_ts(datetime.now(timezone.utc))


def _write(prediction_log: PredictionLog, sql: str, params: tuple) -> int:
    """Run one write in its own transaction; return the row id it touched."""
    with prediction_log._lock:
        conn = prediction_log._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(sql, params)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return int(cursor.lastrowid or 0)


def start_run(
    prediction_log: PredictionLog, trigger: str, detail: dict[str, Any]
) -> int:
    """Record that a run starts (decision ``running``); return its id."""
    return _write(
        prediction_log,
        "INSERT INTO retrain_runs (started_at, trigger, trigger_detail, decision) "
        "VALUES (?, ?, ?, ?)",
        (_now(), trigger, json.dumps(detail, default=str), RUNNING),
    )


def finish_run(
    prediction_log: PredictionLog,
    run_id: int,
    decision: str,
    reason: str,
    data_hashes: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    candidate_path: str | None = None,
    candidate_sha256: str | None = None,
) -> None:
    """Complete run ``run_id`` with its outcome."""
    if decision not in DECISIONS[1:]:
        raise ValueError(f"decision must be one of {DECISIONS[1:]}, not {decision!r}")
    _write(
        prediction_log,
        "UPDATE retrain_runs SET finished_at = ?, decision = ?, reason = ?, "
        "data_hashes = ?, metrics = ?, candidate_path = ?, candidate_sha256 = ? "
        "WHERE id = ?",
        (
            _now(),
            decision,
            reason,
            json.dumps(data_hashes or {}, default=str),
            json.dumps(metrics or {}, default=str),
            candidate_path,
            candidate_sha256,
            int(run_id),
        ),
    )


def list_runs(prediction_log: PredictionLog, limit: int = 200) -> pd.DataFrame:
    """The latest runs, newest first; JSON columns parsed into dicts."""
    frame = prediction_log.query(
        "SELECT * FROM retrain_runs ORDER BY id DESC LIMIT ?", (int(limit),)
    )
    for column in JSON_COLUMNS:
        # NULL (a run still going) reads as NaN once pandas sees other rows.
        frame[column] = [
            json.loads(v) if isinstance(v, str) else {} for v in frame[column]
        ]
    return frame


def last_run(
    prediction_log: PredictionLog, completed: bool = False
) -> dict[str, Any] | None:
    """The most recent run as a dict (None when there is none); ``completed``:
    the most recent that reached the gate (promoted or rejected)."""
    frame = list_runs(prediction_log)
    if completed:
        frame = frame[frame["decision"].isin([PROMOTED, REJECTED])]
    return None if frame.empty else frame.iloc[0].to_dict()


def used_file_hashes(prediction_log: PredictionLog) -> set[str]:
    """SHA-256 of every watched file an earlier run took in (whatever it decided):
    a file fires one run, not one per schedule tick."""
    frame = prediction_log.query(
        "SELECT data_hashes FROM retrain_runs WHERE data_hashes IS NOT NULL"
    )
    used: set[str] = set()
    for value in frame["data_hashes"]:
        used.update(json.loads(value).get("new_files", {}).values())
    return used
