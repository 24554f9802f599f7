"""Corrections: an append-only history; two reviewers never overwrite each other."""

from __future__ import annotations

import sqlite3

import pytest

from sentiment.ops.feedback import load_feedback
from sentiment.ops.log_migrations import LATEST_VERSION
from sentiment.ops.logstore import PredictionLog

TEXTS = ["zzqx vvbn", "qqpr wwxz", "i love pizza"]


@pytest.fixture()
def two_reviewers(tmp_path, tiny_predictor):
    """Two connections to one log (two page sessions, or two processes)."""
    path = tmp_path / "predictions.db"
    with PredictionLog(path) as writer:
        writer.append("page", None, "v", TEXTS, tiny_predictor.score(TEXTS, 0.99))
    ana, bo = PredictionLog(path), PredictionLog(path)
    yield ana, bo
    ana.close()
    bo.close()


def test_two_reviewers_saving_different_labels_is_a_disagreement(two_reviewers):
    ana, bo = two_reviewers
    # Both load the same queue, then both save.
    assert ana.review_queue()["id"].tolist() == bo.review_queue()["id"].tolist()
    first = ana.record_correction(1, "positive", reviewer="ana")
    second = bo.record_correction(1, "negative", reviewer="bo")
    agreed = bo.record_correction(2, "neutral", reviewer="bo")

    assert (first.state, first.label) == ("agreed", "positive")
    assert second.disagreement and second.label is None
    assert second.votes == "ana: positive, bo: negative"
    assert (agreed.state, agreed.label) == ("agreed", "neutral")
    # Nothing was overwritten: both labels are in the history.
    history = ana.correction_history()
    assert history[["prediction_id", "label", "reviewer"]].values.tolist() == [
        [1, "positive", "ana"],
        [1, "negative", "bo"],
        [2, "neutral", "bo"],
    ]
    # Back in the queue, first and marked; not in the training rows.
    queue = ana.review_queue()
    assert queue["id"].iloc[0] == 1 and queue["review"].iloc[0] == "disagreement"
    assert queue.set_index("id").loc[1, "votes"] == "ana: positive, bo: negative"
    assert 2 not in queue["id"].tolist()
    texts, labels, skipped = ana.feedback_rows()
    assert (texts, labels, skipped) == (["qqpr wwxz"], ["neutral"], [])
    stats = ana.stats()
    assert (stats["corrections"], stats["disagreements"]) == (1, 1)


def test_a_disagreement_is_settled_by_a_changed_mind_or_a_third_vote(two_reviewers):
    ana, bo = two_reviewers
    ana.record_correction(1, "positive", reviewer="ana")
    bo.record_correction(1, "negative", reviewer="bo")
    # A reviewer's latest label replaces only their own vote.
    settled = ana.record_correction(1, "negative", reviewer="ana")
    assert (settled.state, settled.label) == ("agreed", "negative")
    ana.record_correction(2, "positive", reviewer="ana")
    bo.record_correction(2, "neutral", reviewer="bo")
    third = bo.record_correction(2, "neutral", reviewer="cy")
    assert (third.state, third.label, third.votes) == (
        "agreed",
        "neutral",
        "ana: positive, bo: neutral, cy: neutral",
    )
    assert ana.feedback_rows()[1] == ["negative", "neutral"]
    assert len(ana.correction_history()) == 6  # every save kept


def test_the_history_is_append_only(two_reviewers):
    ana, _ = two_reviewers
    ana.record_correction(1, "positive", reviewer="ana")
    raw = sqlite3.connect(ana.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE correction_history SET label = 'negative'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM correction_history")
    raw.close()
    assert ana.corrections()["label"].tolist() == ["positive"]


def _downgrade_to_version_1(path, corrections):
    """Make the file a version-1 log: one corrections row per prediction."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        DROP VIEW corrections;
        DROP TRIGGER correction_history_no_update;
        DROP TRIGGER correction_history_no_delete;
        DROP TABLE correction_history;
        CREATE TABLE corrections (
            prediction_id INTEGER PRIMARY KEY REFERENCES predictions (id),
            label TEXT NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
            ts TEXT NOT NULL,
            reviewer TEXT
        );
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
        """)
    conn.executemany("INSERT INTO corrections VALUES (?, ?, ?, ?)", corrections)
    conn.commit()
    conn.close()


def test_a_version_1_log_is_migrated_without_losing_a_correction(
    tmp_path, tiny_predictor
):
    path = tmp_path / "old.db"
    with PredictionLog(path) as log:
        log.append("api", None, "v", TEXTS, tiny_predictor.score(TEXTS, 0.99))
        before = log.predictions()
    old = [
        (3, "positive", "2026-01-05T09:00:00.000000+00:00", None),
        (1, "negative", "2026-01-05T10:00:00.000000+00:00", "ana"),
        (2, "neutral", "2026-01-05T11:00:00.000000+00:00", "bo"),
    ]
    _downgrade_to_version_1(path, old)

    with PredictionLog(path) as log:
        history = log.correction_history()
        corrections = log.corrections()
        version = log.query("SELECT value FROM meta WHERE key = 'schema_version'")
        assert log.predictions().equals(before)
        assert log.feedback_rows()[1] == ["negative", "neutral", "positive"]
    assert version.iat[0, 0] == str(LATEST_VERSION)
    history["reviewer"] = history["reviewer"].fillna("-")
    moved = history[["prediction_id", "label", "reviewer"]].values.tolist()
    assert moved == [[3, "positive", "-"], [1, "negative", "ana"], [2, "neutral", "bo"]]
    assert history["ts"].dt.strftime("%H").tolist() == ["09", "10", "11"]
    assert corrections["state"].tolist() == ["agreed"] * 3
    assert corrections["votes"].tolist() == [
        "ana: negative",
        "bo: neutral",
        "(unnamed): positive",
    ]
    with PredictionLog(path) as log:  # opening again changes nothing
        assert len(log.correction_history()) == 3


def test_retraining_takes_agreed_corrections_and_warns_of_the_rest(
    two_reviewers, caplog
):
    ana, bo = two_reviewers
    ana.record_correction(1, "positive", reviewer="ana")
    bo.record_correction(1, "negative", reviewer="bo")
    bo.record_correction(2, "neutral", reviewer="bo")
    with caplog.at_level("WARNING"):
        data = load_feedback(ana.path)
    assert (data.texts, data.labels) == (["qqpr wwxz"], ["neutral"])
    assert "1 corrected post(s)" in caplog.text and "disagree" in caplog.text
