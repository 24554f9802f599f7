"""Schema upgrades of the prediction log, applied when a log is opened.

The ``meta`` table's ``schema_version`` says which upgrades a file has had:
1 the first release; 2 the append-only correction history (moved by
``corrections.migrate_corrections``, which must run before the schema script,
whose ``corrections`` view replaces the old table); 3 the columns below; 4 the
``retrain_runs`` table of ``python -m sentiment.retrain``; 5 the content key
and posting time indexed only where set.
Each upgrade runs once, in one ``BEGIN IMMEDIATE`` transaction that reads the
version again, so two processes opening an old file at the same moment do
not both apply it. Columns are only ever added (nullable), so older readers
keep working and rows written before an upgrade read as NULL.
"""

from __future__ import annotations

import re
import sqlite3

from sentiment.ops.log_rows import ADD_CORRELATION_COLUMN

# Version 3 (issues 12 and 13): the caller's correlation id; posting time,
# brands, language and a content key per row (a post logged twice keeps one
# row), and the alerts already delivered.
_V3 = [
    ADD_CORRELATION_COLUMN,
    "ALTER TABLE predictions ADD COLUMN posted_at TEXT",  # UTC ISO 8601, or NULL
    "ALTER TABLE predictions ADD COLUMN brand TEXT",  # brands, '|'-separated
    "ALTER TABLE predictions ADD COLUMN language TEXT",  # ISO 639 code
    "ALTER TABLE predictions ADD COLUMN content_key TEXT",
    "CREATE UNIQUE INDEX IF NOT EXISTS predictions_content_key "
    "ON predictions (content_key)",
    "CREATE INDEX IF NOT EXISTS predictions_posted_at ON predictions (posted_at)",
    """CREATE TABLE IF NOT EXISTS alerts_sent (
        alert_key TEXT PRIMARY KEY,    -- brand|kind|period
        brand TEXT NOT NULL,
        kind TEXT NOT NULL,            -- negative_share or volume
        period TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        destination TEXT NOT NULL,     -- the webhook's host, never its secret path
        payload TEXT NOT NULL
    )""",
]
# Version 4 (issue 14): one row per retraining run, what fired it and its outcome
# (see sentiment.ops.retrain_runs; the JSON columns hold objects).
_V4 = [
    """CREATE TABLE IF NOT EXISTS retrain_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,      -- UTC ISO 8601
        finished_at TEXT,              -- NULL while running (or if it crashed)
        trigger TEXT NOT NULL,         -- fired triggers, '+'-separated
        trigger_detail TEXT,           -- JSON: every trigger's verdict and facts
        data_hashes TEXT,              -- JSON: SHA-256 of each data source
        metrics TEXT,                  -- JSON: gate metrics of candidate, current
        decision TEXT NOT NULL,        -- running, promoted, rejected, failed
        reason TEXT,
        candidate_path TEXT,
        candidate_sha256 TEXT
    )""",
]
# Version 5: batch and API rows have neither a content key nor a posting time,
# so indexing those NULLs only cost every insert (a 49,555-row batch copy
# 0.137 -> 0.122 s, benchmarks/results.md) and disk. Lookups by key (``=``)
# and ``posted_at IS NOT NULL`` still use the partial indexes; uniqueness of
# the keys that are set is unchanged.
_V5 = [
    "DROP INDEX IF EXISTS predictions_content_key",
    "CREATE UNIQUE INDEX predictions_content_key ON predictions (content_key) "
    "WHERE content_key IS NOT NULL",
    "DROP INDEX IF EXISTS predictions_posted_at",
    "CREATE INDEX predictions_posted_at ON predictions (posted_at) "
    "WHERE posted_at IS NOT NULL",
]
MIGRATIONS: dict[int, list[str]] = {3: _V3, 4: _V4, 5: _V5}
LATEST_VERSION = max(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the file's meta table (1 when it predates it)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file up to ``LATEST_VERSION``; returns the version it now has."""
    if schema_version(conn) >= LATEST_VERSION:
        return LATEST_VERSION
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn)  # another process may have upgraded it
        for target in sorted(v for v in MIGRATIONS if v > version):
            for statement in MIGRATIONS[target]:
                if not _adds_existing_column(conn, statement):
                    conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                (str(target),),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return LATEST_VERSION


def _adds_existing_column(conn: sqlite3.Connection, statement: str) -> bool:
    """Whether ``statement`` adds a column the table already has (a file written
    by a build between releases): adding it again would fail the upgrade."""
    match = _ADD_COLUMN.match(statement)
    if match is None:
        return False
    table, column = match.groups()
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)")
