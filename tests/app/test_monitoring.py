"""The page's prediction logging and its Monitoring tab, driven by AppTest.

Each test logs to its own file (the ``log_db`` fixture); the page opens it
through ``open_default_log`` like in production.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sentiment import config
from sentiment.model.predictor import load_predictor
from sentiment.ops.log_queries import dropped_rows
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reference import build_reference, save_reference
from streamlit.testing.v1 import AppTest
from tests.conftest import tiny_dataset

from tests.app.conftest import (
    APP,
    TIMEOUT_S,
    analyse,
    assert_no_traceback,
    click,
    posts_csv,
    upload,
    values,
)

TEXT_SWITCH = "Store post texts in the prediction log"


def logged(log_db: Path) -> pd.DataFrame:
    """Every row of the log, oldest first."""
    with PredictionLog(log_db) as prediction_log:
        return prediction_log.predictions()


def open_tab(app: AppTest, label: str) -> AppTest:
    """Select a tab as a click would (the tabs rerun the page on a switch)."""
    app.session_state["tab"] = label
    return app.run()


def monitoring(app: AppTest):
    return app.tabs[3]


def metrics(element) -> dict[str, str]:
    return {m.label: m.value for m in element.metric}


# --- logging ------------------------------------------------------------------


def test_analysing_logs_each_post_once_however_often_the_page_reruns(
    app, log_db, saved_tiny_model
):
    analyse(app, "i love pizza\n\nso angry with my car :(")
    app.run()
    app.slider[0].set_value(0.9).run()  # a rerun that rescores the same posts

    assert_no_traceback(app)
    rows = logged(log_db)
    assert rows["text"].tolist() == ["i love pizza", "so angry with my car :("]
    assert rows["item"].tolist() == [0, 1] and rows["request_id"].nunique() == 1
    assert set(rows["source"]) == {"page"}
    assert rows["label"].tolist() == ["positive", "negative"]
    card = load_predictor(saved_tiny_model, allow_outside_models_dir=True).card
    assert set(rows["model_version"]) == {card["model_sha256"]}

    click(app, "Analyse")  # a new click is a new request

    rows = logged(log_db)
    assert len(rows) == 4 and rows["request_id"].nunique() == 2


def test_scoring_a_file_logs_every_row_in_order(app, log_db, tmp_path):
    source = posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())
    assert logged(log_db).empty  # nothing is logged before Score

    click(app, "Score")
    app.run()

    assert_no_traceback(app)
    rows = logged(log_db)
    assert rows["text"].tolist() == source["text"].tolist()
    assert rows["item"].tolist() == list(range(len(source)))
    assert rows["request_id"].nunique() == 1 and set(rows["source"]) == {"page"}
    assert rows.loc[3, "status"] == "no_text" and pd.isna(rows.loc[3, "label"])
    served = app.session_state["scored_upload"].scored
    assert rows["label"].fillna("").tolist() == served["sentiment"].tolist()


def test_switching_text_storage_off_stores_only_hashes(app, log_db):
    assert app.sidebar.toggle[0].label == TEXT_SWITCH
    assert app.sidebar.toggle[0].value is True  # SENTIMENT_LOG_TEXT defaults to on
    app.sidebar.toggle[0].set_value(False).run()

    analyse(app, "i love pizza")

    rows = logged(log_db)
    assert rows["text"].isna().all() and rows["text_length"].tolist() == [12]
    assert rows["text_sha256"].tolist() == [hashlib.sha256(b"i love pizza").hexdigest()]


def test_a_failed_log_write_still_answers_and_says_so(app, log_db, monkeypatch):
    def locked(self, rows):
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(PredictionLog, "_write", locked)
        analyse(app, "i love pizza\ni hate my car")
        app.run()

    assert_no_traceback(app)
    headings = [v for v in values(app.tabs[0].markdown) if v.startswith("### ")]
    assert len(headings) == 2  # the posts are still answered
    warnings = [w for w in values(app.tabs[0].warning) if "prediction log" in w]
    assert len(warnings) == 1 and warnings[0].startswith("2 rows could not be")
    assert dropped_rows(log_db) == 2  # counted once, not once per rerun

    open_tab(app, "Monitoring")
    assert metrics(monitoring(app))["Dropped rows"] == "2"
    assert any(
        "2 rows could not be written" in w for w in values(monitoring(app).warning)
    )


def test_with_logging_off_the_page_works_and_monitoring_says_so(
    saved_tiny_model, monkeypatch
):
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(saved_tiny_model))
    monkeypatch.setenv(config.LOG_DB_ENV, "off")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    analyse(app, "i love pizza")
    open_tab(app, "Monitoring")

    assert_no_traceback(app)
    assert not app.sidebar.toggle
    assert any(v.startswith("### Positive") for v in values(app.tabs[0].markdown))
    info = values(monitoring(app).info)
    assert len(info) == 1 and "prediction log is off" in info[0]
    assert f"unset {config.LOG_DB_ENV}" in info[0]


# --- the Monitoring tab -------------------------------------------------------


def test_monitoring_with_an_empty_log_says_how_to_fill_it(app, log_db):
    open_tab(app, "Monitoring")

    assert_no_traceback(app)
    info = values(monitoring(app).info)
    assert len(info) == 1 and "is empty" in info[0] and str(log_db) in info[0]
    assert not monitoring(app).get("vega_lite_chart")


def test_monitoring_is_only_computed_while_its_tab_is_open(app):
    assert not app.tabs[3].children
    open_tab(app, "Monitoring")
    assert app.tabs[3].children


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
    open_tab(app, "Monitoring")

    assert_no_traceback(app)
    tab = monitoring(app)
    shown = metrics(tab)
    assert shown["Predictions"] == "1,600"
    assert shown["Negative spikes"] == "1"
    assert shown["Logged predictions"] == "1,600"
    negative = (sum(3 + h % 2 for h in range(40) if h != SPIKE_HOUR) + 30) / 1_600
    assert shown["Negative"] == f"{negative:.1%}"
    assert len(tab.get("vega_lite_chart")) == 4
    errors = values(tab.error)
    assert len(errors) == 1 and "1 negative spike" in errors[0]
    alerts = next(d.value for d in tab.dataframe if "share_negative" in d.value)
    assert len(alerts) == 1
    assert alerts["period"].iloc[0] == pd.Timestamp(
        spiky_log + timedelta(hours=SPIKE_HOUR)
    )
    assert alerts["share_negative"].iloc[0] == pytest.approx(30 / 40)
    sources = next(d.value for d in tab.dataframe if "source" in d.value.columns)
    assert sources.values.tolist() == [["api", 1_600]]
    versions = next(d.value for d in tab.dataframe if "model version" in d.value)
    assert versions["model version"].tolist() == ["v10000000000"]

    tab.radio[0].set_value("day").run()

    assert_no_traceback(app)
    assert metrics(monitoring(app))["Predictions"] == "1,600"
    assert "Label mix per day" in str(monitoring(app).get("vega_lite_chart")[1].proto)


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
    open_tab(app, "Monitoring")
    monitoring(app).selectbox[0].set_value("Last 24 hours").run()

    assert_no_traceback(app)
    assert any("choose a longer period" in i for i in values(monitoring(app).info))
    assert metrics(monitoring(app))["Logged predictions"] == "1"


# --- review queue -------------------------------------------------------------


def edit_review(app: AppTest, edits: dict[int, str]) -> AppTest:
    """Pick labels in the review editor (row position -> label) and press Save."""
    key = f"review_{app.session_state['review_round']}"
    app.session_state[key] = {
        "edited_rows": {row: {"right label": label} for row, label in edits.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    return click(app, "Save corrections")


def test_a_reviewer_correction_is_stored_and_leaves_the_queue(app, log_db):
    analyse(app, "i love pizza\nzzqx vvbn\nqqpr wwxz")  # two without known words
    open_tab(app, "Monitoring")

    queue = monitoring(app).data_editor[0].value
    assert queue["text"].tolist() == ["qqpr wwxz", "zzqx vvbn"]  # newest first
    assert metrics(monitoring(app))["Awaiting review"] == "2"

    edit_review(app, {1: "neutral"})

    assert_no_traceback(app)
    with PredictionLog(log_db) as prediction_log:
        corrections = prediction_log.corrections()
    assert corrections[["text", "label"]].values.tolist() == [["zzqx vvbn", "neutral"]]
    assert "Saved 1 correction." in values(monitoring(app).success)
    assert monitoring(app).data_editor[0].value["text"].tolist() == ["qqpr wwxz"]
    shown = metrics(monitoring(app))
    assert (shown["Awaiting review"], shown["Corrections"]) == ("1", "1")
    assert any("--include-feedback" in c.value for c in monitoring(app).code)


def test_saving_without_a_picked_label_stores_nothing(app, log_db):
    analyse(app, "zzqx vvbn")
    open_tab(app, "Monitoring")

    click(app, "Save corrections")

    assert any("Pick a label" in w for w in values(monitoring(app).warning))
    with PredictionLog(log_db) as prediction_log:
        assert prediction_log.corrections().empty


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
    open_tab(app, "Monitoring")

    click(app, "Check drift")

    assert_no_traceback(app)
    tab = monitoring(app)
    assert any("Drift detected" in e for e in values(tab.error))
    table = next(d.value for d in tab.dataframe if "verdict" in d.value)
    verdicts = dict(zip(table["test"], table["verdict"]))
    assert verdicts["label_mix"] == "drift"
    assert verdicts["domain_classifier"] == "skipped"
    notes = dict(zip(table["test"], table["note"]))
    assert "needs texts on both sides" in notes["domain_classifier"]
    assert tab.download_button[0].label == "Download the drift report (HTML)"
    check = app.session_state["drift"]
    assert check.report.current.n == 90
    assert "DRIFT DETECTED" in check.html and "<svg" in check.html


def test_check_drift_without_a_reference_profile_explains(app):
    analyse(app, "i love pizza")
    open_tab(app, "Monitoring")

    click(app, "Check drift")

    assert_no_traceback(app)
    errors = values(monitoring(app).error)
    assert any("No reference profile" in e for e in errors), errors
