"""The Monitoring page (app_pages/monitoring.py), driven by AppTest.

Each test logs to its own file (the ``log_db`` fixture); the page opens it
through ``open_default_log`` like in production.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sentiment import config
from sentiment.files import remote
from sentiment.model.artifacts import card_path
from sentiment.model.export import arrays_path
from sentiment.model.predictor import load_predictor
from sentiment.ops import views
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reference import build_reference, save_reference
from tests.app.conftest import (
    APP,
    MONITORING,
    TIMEOUT_S,
    analyse,
    assert_no_traceback,
    click,
    metrics,
    open_page,
    values,
)
from tests.conftest import tiny_dataset


def test_monitoring_with_an_empty_log_says_how_to_fill_it(app, log_db):
    open_page(app, MONITORING)

    assert_no_traceback(app)
    info = values(app.main.info)
    assert len(info) == 1 and "is empty" in info[0] and str(log_db) in info[0]
    assert not app.main.get("vega_lite_chart")


def test_monitoring_is_only_computed_while_its_page_is_open(app, monkeypatch):
    calls = []
    monitoring_view = views.monitoring_view

    def counted_monitoring_view(*args, **kwargs):
        calls.append(args)
        return monitoring_view(*args, **kwargs)

    # The page imports it from the module on each run, so this is what it calls.
    monkeypatch.setattr(views, "monitoring_view", counted_monitoring_view)
    app.run()
    assert not calls and not [s for s in app.selectbox if s.label == "Period"]

    open_page(app, MONITORING)

    assert len(calls) == 1 and [s for s in app.selectbox if s.label == "Period"]


SPIKE_HOUR = 38


@pytest.fixture()
def spiky_log(log_db, tiny_predictor) -> datetime:
    """40 hours of API traffic ending about now; hour 38 is mostly negative."""
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start -= timedelta(hours=40)
    with PredictionLog(log_db) as prediction_log:
        for hour in range(40):
            n_negative = 30 if hour == SPIKE_HOUR else 3 + hour % 2
            texts = ["i hate my car"] * n_negative + ["i love pizza"] * (
                40 - n_negative
            )
            prediction_log.append(
                "api",
                None,
                "v1" + "0" * 62,
                texts,
                tiny_predictor.score(texts),
                timestamp=start + timedelta(hours=hour, minutes=5),
            )
    return start


def test_monitoring_shows_volume_mix_alerts_and_stats(app, spiky_log):
    open_page(app, MONITORING)

    assert_no_traceback(app)
    page = app.main
    shown = metrics(page)
    assert shown["Predictions"] == "1,600"
    assert shown["Negative spikes"] == "1"
    assert shown["Logged predictions"] == "1,600"
    negative = (sum(3 + h % 2 for h in range(40) if h != SPIKE_HOUR) + 30) / 1_600
    assert shown["Negative"] == f"{negative:.1%}"
    assert len(page.get("vega_lite_chart")) == 4
    errors = values(page.error)
    assert len(errors) == 1 and "1 negative spike" in errors[0]
    alerts = next(d.value for d in page.dataframe if "share_negative" in d.value)
    assert len(alerts) == 1
    assert alerts["period"].iloc[0] == pd.Timestamp(
        spiky_log + timedelta(hours=SPIKE_HOUR)
    )
    assert alerts["share_negative"].iloc[0] == pytest.approx(30 / 40)
    sources = next(d.value for d in page.dataframe if "source" in d.value.columns)
    assert sources.values.tolist() == [["api", 1_600]]
    versions = next(d.value for d in page.dataframe if "model version" in d.value)
    assert versions["model version"].tolist() == ["v10000000000"]

    page.radio[0].set_value("day").run()

    assert_no_traceback(app)
    assert metrics(app.main)["Predictions"] == "1,600"
    assert "Label mix per day" in str(app.main.get("vega_lite_chart")[1].proto)


def test_a_window_without_predictions_asks_for_a_longer_one(
    app, log_db, tiny_predictor
):
    with PredictionLog(log_db) as prediction_log:
        prediction_log.append(
            "api",
            None,
            "v",
            ["i love pizza"],
            tiny_predictor.score(["i love pizza"]),
            timestamp=datetime.now(timezone.utc) - timedelta(days=3),
        )
    open_page(app, MONITORING)
    app.main.selectbox[0].set_value("Last 24 hours").run()

    assert_no_traceback(app)
    assert any("choose a longer period" in i for i in values(app.main.info))
    assert metrics(app.main)["Logged predictions"] == "1"


# --- drift --------------------------------------------------------------------


@pytest.fixture()
def tiny_profile(saved_tiny_model, tiny_pipeline) -> Path:
    """A reference profile beside the tiny model, as training writes one."""
    texts, labels = tiny_dataset(seed=1)
    predictor = load_predictor(saved_tiny_model, allow_outside_models_dir=True)
    profile = build_reference(
        tiny_pipeline, texts, predictor.score(texts), labels, "tiny"
    )
    return save_reference(profile, saved_tiny_model, predictor.card)


def test_check_drift_on_the_log_shows_the_verdict_tests_and_report(
    app, tiny_profile, tmp_path
):
    negative = "i hate my car\nthe team is awful\nso angry with pizza :("
    for _ in range(30):  # 90 posts, all negative: the label mix has moved
        analyse(app, negative)
    open_page(app, MONITORING)

    click(app, "Check drift")

    assert_no_traceback(app)
    page = app.main
    assert any("Drift detected" in e for e in values(page.error))
    table = next(d.value for d in page.dataframe if "verdict" in d.value)
    verdicts = dict(zip(table["test"], table["verdict"]))
    assert verdicts["label_mix"] == "drift"
    assert verdicts["domain_classifier"] == "skipped"
    notes = dict(zip(table["test"], table["note"]))
    assert "needs texts on both sides" in notes["domain_classifier"]
    assert page.download_button[0].label == "Download the drift report (HTML)"
    check = app.session_state["drift"]
    assert check.report.current.n == 90
    assert "DRIFT DETECTED" in check.html and "<svg" in check.html


def test_check_drift_without_a_reference_profile_explains(app):
    analyse(app, "i love pizza")
    open_page(app, MONITORING)

    click(app, "Check drift")

    assert_no_traceback(app)
    errors = values(app.main.error)
    assert any("No reference profile" in e for e in errors), errors


def test_check_drift_finds_the_profile_of_a_model_on_s3(
    bucket, saved_tiny_model, tiny_profile, log_db, monkeypatch
):
    """A model served from a URL is downloaded with its profile, which the
    drift check must find in the download, not beside the URL."""
    files = [saved_tiny_model, arrays_path(saved_tiny_model)]
    files += [card_path(saved_tiny_model), tiny_profile]
    remote.upload_files(files, f"{bucket}/models")
    monkeypatch.setenv(config.MODEL_PATH_ENV, f"{bucket}/models/model.pkl")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    for _ in range(10):
        analyse(app, "i hate my car\nso angry with pizza :(")
    open_page(app, MONITORING)

    click(app, "Check drift")

    assert_no_traceback(app)
    assert not any("No drift check" in e for e in values(app.main.error))
    assert app.session_state["drift"].report.current.n == 20
