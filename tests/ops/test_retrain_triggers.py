"""The retraining triggers and the retrain_runs table, on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sentiment.ops import retrain_runs as runs
from sentiment.ops.log_queries import format_ts
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.retrain_triggers import (
    corrections_trigger,
    drift_trigger,
    new_files_trigger,
)
from tests.ops.retrain_data import log_traffic, posts, write_csv


@pytest.fixture()
def log_with_posts(tmp_path, tiny_predictor):
    texts, _ = posts("shop", 12, seed=5)
    db = tmp_path / "predictions.db"
    log_traffic(db, tiny_predictor, texts)
    with PredictionLog(db) as prediction_log:
        yield prediction_log


def test_corrections_fire_at_the_threshold_and_disagreements_do_not_count(
    log_with_posts,
):
    for prediction_id in (1, 2, 3):
        log_with_posts.record_correction(prediction_id, "negative", reviewer="ana")
    log_with_posts.record_correction(4, "negative", reviewer="ana")
    log_with_posts.record_correction(4, "positive", reviewer="bo")  # a tie
    below = corrections_trigger(log_with_posts, None, threshold=4)
    at = corrections_trigger(log_with_posts, None, threshold=3)
    assert (below.fired, at.fired) == (False, True)
    assert at.facts["new_agreed"] == 3


def test_corrections_older_than_the_last_run_do_not_count(log_with_posts):
    log_with_posts.record_correction(1, "negative", reviewer="ana")
    run_id = runs.start_run(log_with_posts, "corrections", {})
    since = runs.last_run(log_with_posts)["started_at"]
    assert runs.last_run(log_with_posts)["id"] == run_id
    assert corrections_trigger(log_with_posts, since, threshold=1).fired is False
    log_with_posts.record_correction(2, "neutral", reviewer="ana")
    assert corrections_trigger(log_with_posts, since, threshold=1).fired is True


def test_the_last_completed_run_skips_failed_and_running_ones(log_with_posts):
    assert runs.last_run(log_with_posts) is None
    rejected = runs.start_run(log_with_posts, "corrections", {})
    runs.finish_run(log_with_posts, rejected, runs.REJECTED, "worse")
    failed = runs.start_run(log_with_posts, "corrections", {})
    runs.finish_run(log_with_posts, failed, runs.FAILED, "OSError: disk full")
    runs.start_run(log_with_posts, "drift", {})
    assert runs.last_run(log_with_posts)["decision"] == runs.RUNNING
    assert runs.last_run(log_with_posts, completed=True)["id"] == rejected


def test_a_watched_file_fires_once_and_other_files_are_ignored(
    tmp_path, log_with_posts
):
    watch = tmp_path / "incoming"
    new = write_csv(watch / "batch1.csv", *posts("shop", 10, seed=1))
    (watch / "notes.txt").write_text("not labelled data")
    trigger = new_files_trigger(watch, runs.used_file_hashes(log_with_posts))
    assert trigger.fired and list(trigger.facts["files"]) == [str(new)]
    run_id = runs.start_run(log_with_posts, "new_files", {})
    runs.finish_run(
        log_with_posts,
        run_id,
        runs.REJECTED,
        "test",
        {"new_files": trigger.facts["files"]},
    )
    again = new_files_trigger(watch, runs.used_file_hashes(log_with_posts))
    assert again.fired is False and "0 new labelled file(s) of 1" in again.detail
    assert new_files_trigger(tmp_path / "absent", set()).fired is False


def test_finish_run_refuses_an_unknown_decision(log_with_posts):
    run_id = runs.start_run(log_with_posts, "manual", {})
    with pytest.raises(ValueError, match="decision must be one of"):
        runs.finish_run(log_with_posts, run_id, "maybe", "?")


def test_drift_waits_for_enough_posts_and_for_the_cool_down(
    tmp_path, log_with_posts, tiny_predictor
):
    base = write_csv(tmp_path / "base.csv", *posts("shop", 40, seed=2))
    few = drift_trigger(log_with_posts, base, tiny_predictor, None, min_rows=100)
    assert few.fired is False and few.facts["rows"] == 12
    now = datetime.now(timezone.utc)
    recent = format_ts(now - timedelta(hours=1))
    cooling = drift_trigger(
        log_with_posts, base, tiny_predictor, recent, 1, cooldown_hours=24, now=now
    )
    assert cooling.fired is False and "cool-down" in cooling.detail


def test_drift_fires_on_a_real_shift_and_not_on_a_random_split(
    tmp_path, tiny_predictor
):
    texts, labels = posts("shop", 600, seed=3)
    base = write_csv(tmp_path / "base.csv", texts[:300], labels[:300])
    verdicts = {}
    for name, traffic in {
        "random split": texts[300:],
        "shift": posts("match", 300, seed=4)[0],
    }.items():
        db = tmp_path / f"{name}.db"
        log_traffic(db, tiny_predictor, traffic)
        with PredictionLog(db) as prediction_log:
            verdicts[name] = drift_trigger(
                prediction_log, base, tiny_predictor, None, min_rows=200
            )
    assert verdicts["shift"].fired is True
    assert "domain_classifier" in verdicts["shift"].facts["flagged"]
    assert verdicts["random split"].fired is False
    assert verdicts["random split"].facts["flagged"] == []
    auc = {
        name: v.facts["statistics"]["domain_classifier"] for name, v in verdicts.items()
    }
    assert auc["shift"] > auc["random split"]
