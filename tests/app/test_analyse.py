"""The Analyse text page (app_pages/analyse.py), driven by AppTest."""

from __future__ import annotations

import sqlite3

from sentiment.model.predictor import load_predictor
from sentiment.ops.log_queries import dropped_rows
from sentiment.ops.logstore import PredictionLog
from tests.app.conftest import (
    ANALYSE,
    MODEL_CARD,
    MONITORING,
    analyse,
    assert_no_traceback,
    click,
    logged,
    metrics,
    open_page,
    values,
)


def test_analyse_gives_label_confidence_chart_and_words_per_post(app):
    analyse(app, "i love pizza\n\nso angry with my car :(")

    assert_no_traceback(app)
    page = app.main
    headings = [v for v in values(page.markdown) if v.startswith("### ")]
    assert len(headings) == 2
    assert headings[0].startswith("### Positive · ")
    assert headings[1].startswith("### Negative · ")
    assert "% confident" in headings[0]
    assert len(page.get("vega_lite_chart")) == 2  # one probability chart per post
    chips = [v for v in values(page.markdown) if "-background[" in v]
    assert "love" in chips[0] and chips[0].startswith(":green-background[")
    assert "angry" in chips[1] and chips[1].startswith(":red-background[")
    # Two posts: a table of both, then one table of contributions per post.
    assert page.dataframe[0].value["post"].tolist() == [
        "i love pizza",
        "so angry with my car :(",
    ]


def test_needs_review_follows_the_threshold_control(app):
    analyse(app, "i love pizza")
    assert not [w for w in values(app.warning) if "Needs review" in w]

    app.slider[0].set_value(1.0).run()

    assert_no_traceback(app)
    warnings = [w for w in values(app.warning) if "Needs review" in w]
    assert len(warnings) == 1 and "below the 100% threshold" in warnings[0]


def test_post_without_known_words_needs_review(app):
    analyse(app, "zzqx vvbn")
    assert any("no word the model knows" in w for w in values(app.warning))


def test_analyse_with_no_text_asks_for_a_post(app):
    analyse(app, "  \n ")
    assert_no_traceback(app)
    assert any("no text to analyse" in w for w in values(app.warning))


def test_the_posts_and_their_verdicts_are_kept_while_another_page_is_open(app):
    analyse(app, "i love pizza")
    open_page(app, MODEL_CARD)
    assert not app.text_area

    open_page(app, ANALYSE)

    assert_no_traceback(app)
    assert app.text_area[0].value == "i love pizza"
    assert any(v.startswith("### Positive") for v in values(app.main.markdown))


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


def test_a_failed_log_write_still_answers_and_says_so(app, log_db, monkeypatch):
    def locked(self, *args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(PredictionLog, "_write", locked)
        analyse(app, "i love pizza\ni hate my car")
        app.run()

    assert_no_traceback(app)
    headings = [v for v in values(app.main.markdown) if v.startswith("### ")]
    assert len(headings) == 2  # the posts are still answered
    warnings = [w for w in values(app.main.warning) if "prediction log" in w]
    assert len(warnings) == 1 and warnings[0].startswith("2 rows could not be")
    assert dropped_rows(log_db) == 2  # counted once, not once per rerun

    open_page(app, MONITORING)
    assert metrics(app.main)["Dropped rows"] == "2"
    assert any("2 rows could not be written" in w for w in values(app.main.warning))
