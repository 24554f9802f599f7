"""The Review page (app_pages/review.py): the needs-review queue, via AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from sentiment.ops.logstore import PredictionLog
from tests.app.conftest import (
    MONITORING,
    REVIEW,
    analyse,
    assert_no_traceback,
    click,
    metrics,
    open_page,
    values,
)


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
    open_page(app, REVIEW)

    queue = app.main.data_editor[0].value
    assert queue["text"].tolist() == ["qqpr wwxz", "zzqx vvbn"]  # newest first
    assert metrics(open_page(app, MONITORING).main)["Awaiting review"] == "2"
    open_page(app, REVIEW)

    edit_review(app, {1: "neutral"})

    assert_no_traceback(app)
    with PredictionLog(log_db) as prediction_log:
        corrections = prediction_log.corrections()
    assert corrections[["text", "label"]].values.tolist() == [["zzqx vvbn", "neutral"]]
    assert "Saved 1 correction." in values(app.main.success)
    assert app.main.data_editor[0].value["text"].tolist() == ["qqpr wwxz"]
    assert any("--include-feedback" in c.value for c in app.main.code)
    shown = metrics(open_page(app, MONITORING).main)
    assert (shown["Awaiting review"], shown["Corrections"]) == ("1", "1")


def test_saving_without_a_picked_label_stores_nothing(app, log_db):
    analyse(app, "zzqx vvbn")
    open_page(app, REVIEW)

    click(app, "Save corrections")

    assert any("Pick a label" in w for w in values(app.main.warning))
    with PredictionLog(log_db) as prediction_log:
        assert prediction_log.corrections().empty
