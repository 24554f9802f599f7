"""The Score a file page (app_pages/score_file.py), driven by AppTest."""

from __future__ import annotations

import codecs
import tomllib

import pandas as pd
import pytest

from sentiment import config
from sentiment.batch.local import score_csv
from sentiment.model.predictor import load_predictor
from tests.app.conftest import (
    SCORE_FILE,
    assert_no_traceback,
    click,
    logged,
    open_page,
    posts_csv,
    upload,
    values,
)


def test_scoring_a_csv_gives_summary_filters_and_the_cli_download(
    app, saved_tiny_model, tmp_path
):
    source = posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())

    page = app.main
    assert "60 rows · 4 columns · utf-8 · comma-separated" in values(page.caption)
    assert page.dataframe[0].value["id"].tolist()[:3] == ["0", "1", "2"]
    assert page.selectbox[0].value == "text"  # the most text-like, not the first
    assert any("1 row without text" in w for w in values(page.warning))

    click(app, "Score")

    assert_no_traceback(app)
    page = app.main
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Rows scored"] == "60"
    predictor = load_predictor(saved_tiny_model, allow_outside_models_dir=True)
    expected = predictor.score(source["text"].tolist())
    share = (expected["sentiment"] == "positive").mean()
    assert metrics["Positive"] == f"{share:.1%}"
    assert metrics["Need review"] == f"{expected['needs_review'].mean():.1%}"

    score_csv(tmp_path / "posts.csv", tmp_path / "cli.csv", predictor, progress=False)
    download = app.session_state["scored_upload"].download
    assert download == (tmp_path / "cli.csv").read_bytes()
    assert page.download_button[0].label == "Download the scored file"

    page.radio[0].set_value("Needs review").run()
    shown = app.main.dataframe[-1].value
    assert len(shown) == expected["needs_review"].sum()
    assert shown["needs_review"].all()

    app.main.multiselect[0].set_value(["Negative"]).run()
    shown = app.main.dataframe[-1].value
    assert set(shown["sentiment"]) <= {"negative"}
    assert (
        len(shown)
        == (expected["sentiment"].eq("negative") & expected["needs_review"]).sum()
    )


def test_label_mix_over_time_for_a_chosen_date_column(app, tmp_path):
    posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())
    click(app, "Score")
    # The "date" column is found by itself: its chart is there at once.
    date_picker = next(s for s in app.main.selectbox if "over time" in s.label)
    assert date_picker.value == "date"
    charts_with_dates = len(app.main.get("vega_lite_chart"))

    date_picker.set_value("(no date column)").run()
    assert len(app.main.get("vega_lite_chart")) == charts_with_dates - 1
    date_picker = next(s for s in app.main.selectbox if "over time" in s.label)
    date_picker.set_value("date").run()

    assert_no_traceback(app)
    assert len(app.main.get("vega_lite_chart")) == charts_with_dates

    date_picker = next(s for s in app.main.selectbox if "over time" in s.label)
    date_picker.set_value("label").run()
    assert any(
        "No date could be read in column 'label'" in e for e in values(app.error)
    )


def test_txt_upload_is_scored_line_by_line(app):
    upload(app, "posts.txt", b"i love pizza\n\ni hate my car\n")
    click(app, "Score")

    assert_no_traceback(app)
    lines = app.session_state["scored_upload"].download.decode().splitlines()
    assert len(lines) == 4 and lines[0].startswith("text,sentiment,")
    assert lines[2].endswith("no_text")
    assert {m.label: m.value for m in app.main.metric}["Rows scored"] == "3"


def test_moving_the_threshold_relabels_without_rescoring_and_keeps_filters(
    app, tmp_path, saved_tiny_model, log_db
):
    source = posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())
    click(app, "Score")
    scored_once = app.session_state["scored_upload"]
    app.main.multiselect[0].set_value(["Negative", "Positive"]).run()
    app.main.radio[0].set_value("Needs review").run()

    app.slider[0].set_value(0.99).run()

    assert_no_traceback(app)
    assert app.session_state["scored_upload"] is scored_once  # not scored again
    assert not app.main.info and app.main.download_button
    predictor = load_predictor(saved_tiny_model, allow_outside_models_dir=True)
    expected = predictor.score(source["text"].tolist(), 0.99)
    review = {m.label: m.value for m in app.main.metric}["Need review"]
    assert review == f"{expected['needs_review'].mean():.1%}"
    # The filters stay as they were, applied with the new threshold.
    assert app.main.multiselect[0].value == ["Negative", "Positive"]
    assert app.main.radio[0].value == "Needs review"
    shown = app.main.dataframe[-1].value
    wanted = expected["needs_review"] & expected["sentiment"].isin(
        ["negative", "positive"]
    )
    assert len(shown) == wanted.sum()
    assert list(shown.columns[:4]) == ["label", "id", "date", "text"]  # every column
    # Pressing Score again does not log the same rows twice.
    click(app, "Score")
    rows = logged(log_db)
    assert len(rows) == len(source)
    # Logged with their posting time (the file's "date" column), so the
    # Monitoring page spreads them over their days, not the upload's hour.
    posted = pd.to_datetime(rows["posted_at"], utc=True, format="ISO8601")
    expected_times = pd.to_datetime(source["date"], utc=True)
    assert posted.tolist() == expected_times.tolist()


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "a PNG image"),
        ("nul.csv", codecs.BOM_UTF8 + b"text\nok\nbad\x00\n", "NUL byte"),
        ("ragged.csv", b"text\nhello, world\n", "line 2 has 2 field(s)"),
        ("header.csv", b"text,label\n", "no data rows"),
        ("numbers.csv", b"id,score\n1,2.5\n2,3.5\n", "No column of numbers.csv"),
        ("quote.csv", b'text\n"never closed\nnext\n', "is never closed"),
        ("scored.csv", b"text,sentiment\nhi there,positive\n", "already has column"),
    ],
)
def test_bad_uploads_get_a_message_and_no_score_button(app, name, data, message):
    upload(app, name, data)

    assert_no_traceback(app)
    errors = values(app.main.error)
    assert len(errors) == 1 and message in errors[0], errors
    assert "Score" not in [b.label for b in app.button]


def test_names_from_the_file_are_shown_literally_not_as_markdown(app):
    upload(
        app, "[x](http://a.test).csv", b"id,[click](http://a.test)\n1,\n2,hi there\n"
    )

    warnings = [w.value for w in app.main.warning]
    assert any("'\\[click\\]\\(http\\:" in w for w in warnings), warnings


def test_lines_read_as_cp1252_are_warned_about(app):
    data = "text\nnaïve 😀\n".encode() + "bon café très bien\n".encode("cp1252")
    upload(app, "mixed.csv", data)
    assert any(
        "1 line(s) are not valid UTF-8" in w and "line(s) 3." in w
        for w in values(app.main.warning)
    )
    assert "2 rows · 1 columns · utf-8 · comma-separated" in values(app.main.caption)


def test_upload_over_the_configured_limit_is_refused(app, upload_limit_mb):
    upload_limit_mb(1)
    open_page(app, SCORE_FILE)
    assert "at most 1 MB" in app.file_uploader[0].label

    upload(app, "big.csv", b"text\n" + b"i love pizza\n" * 90_000)

    assert_no_traceback(app)
    assert any("over the 1 MB upload limit" in e for e in values(app.error))


def test_page_states_the_upload_limit_set_in_streamlit_config(app):
    open_page(app, SCORE_FILE)
    settings = tomllib.loads(
        (config.PROJECT_ROOT / ".streamlit" / "config.toml").read_text()
    )
    limit = settings["server"]["maxUploadSize"]
    assert f"at most {limit} MB" in app.file_uploader[0].label
    assert settings["browser"]["gatherUsageStats"] is False


# --- logging ------------------------------------------------------------------


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


def test_posts_not_in_english_are_marked_not_scored_unless_asked(app):
    data = (
        "id,text\n"
        "1,i love pizza\n"
        '2,"Le vol était vraiment horrible, aucune information"\n'
        '3,"El servicio es malísimo, nunca responden"\n'
    ).encode()
    upload(app, "posts.csv", data)
    click(app, "Score")

    assert_no_traceback(app)
    scored = app.session_state["scored_upload"].scored
    assert scored["status"].tolist() == [
        "ok",
        "unsupported_language",
        "unsupported_language",
    ]
    assert scored["sentiment"].tolist()[1:] == ["", ""]
    assert any("2 rows not in English" in c for c in values(app.main.caption))

    next(t for t in app.toggle if "every language" in t.label).set_value(True)
    click(app, "Score")
    scored = app.session_state["scored_upload"].scored
    assert "unsupported_language" not in scored["status"].tolist()
