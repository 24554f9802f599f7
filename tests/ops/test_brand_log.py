"""The log's schema upgrades (version 3's columns, version 5's partial indexes)
and idempotent writes of posts."""

from __future__ import annotations

import sqlite3

from sentiment.ops.log_migrations import LATEST_VERSION, MIGRATIONS, schema_version
from sentiment.ops.log_rows import COLUMNS, CORRELATION_COLUMN, SCHEMA
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.post_log import append_posts


def _v1_file(path):
    """A log written before issues 12 and 13: the base schema and one row."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    columns = [c for c in COLUMNS if c != CORRELATION_COLUMN]
    conn.execute(
        f"INSERT INTO predictions ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        ("2026-01-01T00:00:00.000000+00:00", "api", "r1", 0, "v", "positive")
        + (0.9, 0.05, 0.05, 0.9, 0, "ok", 4, "good", "0" * 64),
    )
    conn.commit()
    conn.close()


def test_an_old_log_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    _v1_file(path)
    with PredictionLog(path) as log:
        frame = log.query("SELECT text, posted_at, brand, content_key FROM predictions")
        assert frame.to_dict("records") == [
            {"text": "good", "posted_at": None, "brand": None, "content_key": None}
        ]
        conn = sqlite3.connect(path)
        assert schema_version(conn) == LATEST_VERSION == 5
        conn.close()
    # Opening it again does not apply the upgrade twice.
    with PredictionLog(path) as log:
        assert log.stats()["predictions"] == 1


def _index_sql(conn, name):
    return conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
    ).fetchone()[0]


def test_key_and_posting_time_are_indexed_only_where_set(tmp_path):
    path = tmp_path / "old.db"
    _v1_file(path)
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[3] + MIGRATIONS[4]:  # a version-4 file
        conn.execute(statement)
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    assert "WHERE" not in _index_sql(conn, "predictions_content_key")
    with PredictionLog(path) as log:
        assert log.stats()["predictions"] == 1
    for name, column in [
        ("predictions_content_key", "content_key"),
        ("predictions_posted_at", "posted_at"),
    ]:
        assert f"WHERE {column} IS NOT NULL" in _index_sql(conn, name)
    # The row without a key is not in the index; lookups still use it.
    count = "SELECT COUNT(*) FROM predictions INDEXED BY predictions_content_key"
    assert conn.execute(count + " WHERE content_key IS NOT NULL").fetchone() == (0,)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM predictions WHERE content_key = ?", ("k",)
    ).fetchall()
    assert "predictions_content_key" in str(plan)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM predictions WHERE posted_at IS NOT NULL"
    ).fetchall()
    assert "predictions_posted_at" in str(plan)
    conn.close()


def test_the_same_posts_logged_twice_are_stored_once(tmp_path, tiny_predictor):
    texts = ["i love the phone", "i hate my car", "i love the phone"]
    scored = tiny_predictor.score(texts)
    times = ["2026-10-01T10:00:00.000000+00:00", None, None]
    keys = ["k1", "k2", "k3"]
    with PredictionLog(tmp_path / "log.db") as log:
        first = append_posts(
            log,
            "batch",
            None,
            "v",
            texts,
            scored,
            times,
            ["A", "B", ""],
            ["en"] * 3,
            keys,
        )
        again = append_posts(
            log,
            "batch",
            None,
            "v",
            texts,
            scored,
            times,
            ["A", "B", ""],
            ["en"] * 3,
            keys,
        )
        # Rows without a key are plain predictions: always written.
        old_style = log.append("api", None, "v", texts[:1], scored[:1])
        rows = log.query("SELECT posted_at, brand, content_key FROM predictions")
    assert (first.rows, again.rows, old_style.rows) == (3, 0, 1)
    assert again.logged
    rows = rows.astype(object).where(rows.notna(), None)
    assert rows["content_key"].tolist() == ["k1", "k2", "k3", None]
    assert rows["posted_at"].tolist()[:2] == [times[0], None]
    assert rows["brand"].tolist()[:3] == ["A", "B", None]
