"""Per-brand alerts on the demo file: the injected spike is found by posting
time and delivered once to a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pandas as pd
import pytest

from sentiment import brands, config, monitor
from sentiment.ops.brand_alerts import find_brand_alerts
from sentiment.ops.sampling import load_sample
from sentiment.ops.webhook import WebhookError, post_json
from tests.ops.webhook_receiver import webhook_receiver

EXAMPLES = config.PROJECT_ROOT / "examples"
SPIKE = ("Nimbus Air", "2026-10-20")  # injected by scripts/make_brand_posts.py


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory):
    """The demo file scored and logged once (scoring time: today)."""
    path = tmp_path_factory.mktemp("alerts") / "log.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.LOG_DB_ENV, str(path))
        code = brands.main(
            [
                "--watchlist",
                str(EXAMPLES / "brands.toml"),
                str(EXAMPLES / "brand_posts.csv"),
                "--no-progress",
            ]
        )
    assert code == 0
    return path


@pytest.fixture()
def log_copy(demo_log, tmp_path, monkeypatch):
    """A copy of the demo log per test, and no waiting between retries."""
    monkeypatch.setattr(config, "WEBHOOK_BACKOFF_S", 0.01)
    path = tmp_path / "log.db"
    for suffix in ("", "-wal", "-shm"):  # committed rows may still be in the WAL
        source = demo_log.with_name(demo_log.name + suffix)
        if source.exists():
            shutil.copy(source, path.with_name(path.name + suffix))
    return path


def alerts(capsys, db, *extra):
    code = monitor.main(["alerts", "--db", str(db), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_the_injected_spike_is_found_by_posting_time(log_copy, capsys):
    code, found = alerts(capsys, log_copy)
    assert code == 1 and found["time_basis"] == "posted"
    assert {(a["brand"], a["period"]) for a in found["alerts"]} == {SPIKE}
    assert {a["kind"] for a in found["alerts"]} == {"negative_share", "volume"}
    # By scoring time every post falls on the day of the test: no spike at all.
    code, by_scoring = alerts(capsys, log_copy, "--time", "scored")
    assert by_scoring["alerts"] == [] and code == 0


def test_each_alert_is_delivered_once_across_restarts(log_copy, capsys):
    with webhook_receiver(failures=2) as receiver:
        code, first = alerts(capsys, log_copy, "--webhook", receiver.url)
        # A new process: what was sent is remembered in the log file.
        code_again, again = alerts(capsys, log_copy, "--webhook", receiver.url)
    assert (code, first["new"], first["failed"]) == (1, 2, 0)
    assert receiver.attempts == 4  # two refusals, then each alert once
    assert len(receiver.accepted) == 2
    assert all(set(body) == {"text"} for body in receiver.accepted)
    assert all("Nimbus Air" in b["text"] for b in receiver.accepted)
    assert any("2026-10-20" in b["text"] for b in receiver.accepted)
    assert (code_again, again["new"]) == (0, 0)
    assert all(a["already_sent"] for a in again["alerts"])


def test_an_undelivered_alert_is_sent_on_the_next_run(log_copy, capsys):
    with webhook_receiver(failures=100) as down:
        code, first = alerts(capsys, log_copy, "--webhook", down.url)
    assert code == 2 and first["failed"] == 2 and down.accepted == []
    assert down.attempts == 2 * config.WEBHOOK_ATTEMPTS
    with webhook_receiver() as up:
        code, second = alerts(capsys, log_copy, "--webhook", up.url)
    assert second["new"] == 2 and len(up.accepted) == 2


def test_a_refused_webhook_is_not_retried():
    with webhook_receiver(failures=1, status=404) as receiver:
        with pytest.raises(WebhookError, match="check the webhook URL"):
            post_json(receiver.url, {"text": "x"}, backoff_s=0)
    assert receiver.attempts == 1
    assert "secret" not in str(receiver.url.split("/services")[0])


def test_quiet_brands_never_alert_below_the_minimum_volume():
    days = pd.date_range("2026-01-01", periods=20, freq="D", tz="UTC")
    posts = [12] * 19 + [30]
    negative = [2] * 19 + [30]  # 100 % negative and 2.5 times the volume
    series = pd.DataFrame(
        {"brand": "A", "period": days, "posts": posts, "n": posts, "negative": negative}
    )
    assert find_brand_alerts(series, "posted", min_posts=31) == []
    kinds = {a.kind for a in find_brand_alerts(series, "posted", min_posts=10)}
    assert kinds == {"negative_share", "volume"}


def test_spikes_and_drift_windows_follow_posting_time(log_copy, capsys, tiny_predictor):
    code = monitor.main(["spikes", "--db", str(log_copy), "--freq", "day", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert code == 1 and found["time_basis"] == "posted"
    assert [p["period"][:10] for p in found["periods"]] == [SPIKE[1]]

    sample = load_sample(
        log_copy,
        tiny_predictor,
        since=datetime(2026, 10, 20, tzinfo=timezone.utc),
        until=datetime(2026, 10, 21, tzinfo=timezone.utc),
    )
    posts = pd.read_csv(EXAMPLES / "brand_posts.csv", dtype=str)
    that_day = posts["created_at"].str.startswith(SPIKE[1])
    assert "windows by posted time" in sample.description
    # Every post of that day with a label (the non-English ones have none).
    assert sum(sample.label_counts.values()) <= that_day.sum()
    assert sum(sample.label_counts.values()) >= that_day.sum() - 10
