"""Reviewers' corrections: an append-only history, and the label derived from it.

Every correction a reviewer saves is one new row of ``correction_history``
(prediction id, label, reviewer, time); rows are never updated or deleted
(triggers refuse it), so two reviewers who save different labels for the same
post cannot overwrite each other.

The rule for the current label (the ``corrections`` view):

* each reviewer's latest label for a prediction is that reviewer's vote (a
  reviewer who changes their mind replaces only their own vote);
* the label with more votes than any other is the prediction's label, and the
  row is ``agreed``;
* a tie at the top (one reviewer says positive, another negative) is a
  ``disagreement``: the prediction goes back to the review queue, marked so,
  until a reviewer changes their label or another reviewer breaks the tie.

Retraining uses agreed rows only. Corrections saved without a reviewer's name
(logs from before names were recorded) count as one reviewer, "(unnamed)".
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sentiment import config

SCHEMA_VERSION = 2
UNNAMED = "(unnamed)"
AGREED = "agreed"
DISAGREEMENT = "disagreement"


@dataclass(frozen=True)
class Correction:
    """What one ``PredictionLog.record_correction`` call led to."""

    prediction_id: int
    saved: str  # the label this reviewer saved
    label: str | None  # the prediction's label now; None in a disagreement
    state: str  # AGREED or DISAGREEMENT
    votes: str  # every reviewer's latest label, e.g. "ana: positive, bo: negative"

    @property
    def disagreement(self) -> bool:
        return self.state == DISAGREEMENT


_LABEL_CHECK = f"label IN ({', '.join(repr(label) for label in config.LABELS)})"

_HISTORY_TABLE = f"""
CREATE TABLE IF NOT EXISTS correction_history (
    id INTEGER PRIMARY KEY,
    prediction_id INTEGER NOT NULL REFERENCES predictions (id),
    label TEXT NOT NULL CHECK ({_LABEL_CHECK}),
    reviewer TEXT,
    ts TEXT NOT NULL
)"""

CORRECTIONS_SCHEMA = f"""
{_HISTORY_TABLE};
CREATE INDEX IF NOT EXISTS correction_history_prediction
    ON correction_history (prediction_id);
CREATE TRIGGER IF NOT EXISTS correction_history_no_update
    BEFORE UPDATE ON correction_history
    BEGIN SELECT RAISE(ABORT, 'correction_history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS correction_history_no_delete
    BEFORE DELETE ON correction_history
    BEGIN SELECT RAISE(ABORT, 'correction_history is append-only'); END;
CREATE VIEW IF NOT EXISTS corrections AS
WITH votes AS (
    SELECT prediction_id, COALESCE(reviewer, '{UNNAMED}') AS reviewer, label, ts,
        ROW_NUMBER() OVER (
            PARTITION BY prediction_id, COALESCE(reviewer, '{UNNAMED}')
            ORDER BY id DESC
        ) AS nth
    FROM correction_history
),
tally AS (
    SELECT prediction_id, label, COUNT(*) AS n
    FROM votes WHERE nth = 1 GROUP BY prediction_id, label
),
ranked AS (
    SELECT prediction_id, label,
        RANK() OVER (PARTITION BY prediction_id ORDER BY n DESC) AS place
    FROM tally
)
SELECT prediction_id,
    CASE WHEN COUNT(*) = 1 THEN MAX(label) END AS label,
    CASE WHEN COUNT(*) = 1 THEN '{AGREED}' ELSE '{DISAGREEMENT}' END AS state,
    (SELECT MAX(ts) FROM votes v WHERE v.prediction_id = r.prediction_id) AS ts,
    (SELECT group_concat(reviewer || ': ' || label, ', ') FROM votes v
        WHERE v.prediction_id = r.prediction_id AND nth = 1) AS votes
FROM ranked r WHERE place = 1 GROUP BY prediction_id
"""


def migrate_corrections(conn: sqlite3.Connection) -> int:
    """Move a version-1 log's ``corrections`` table into the history; rows moved.

    Version 1 kept one row per prediction (the last writer's); each becomes
    one history row with its label, reviewer and time, in one transaction, so
    a crash leaves the old table or the new one. Does nothing on a newer log.
    """
    if not _has_table(conn, "corrections"):
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _has_table(conn, "corrections"):  # another process was first
            conn.execute("ROLLBACK")
            return 0
        conn.execute(_HISTORY_TABLE)
        moved = conn.execute(
            "INSERT INTO correction_history (prediction_id, label, reviewer, ts) "
            "SELECT prediction_id, label, reviewer, ts FROM corrections "
            "ORDER BY ts, prediction_id"
        ).rowcount
        conn.execute("DROP TABLE corrections")
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return moved


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None
