"""The Streamlit page, driven by streamlit.testing.v1.AppTest with the tiny model."""

from __future__ import annotations

import codecs
import tomllib
from pathlib import Path

import pytest
from sentiment import config
from sentiment.batch.local import score_csv
from sentiment.model.artifacts import save_model
from sentiment.model.metrics import compute_metrics
from sentiment.model.predictor import load_predictor
from streamlit.testing.v1 import AppTest
from tests.conftest import tiny_dataset

from tests.app.conftest import (
    APP,
    TIMEOUT_S,
    analyse,
    assert_no_traceback,
    click,
    file_tab,
    posts_csv,
    upload,
    values,
)

# --- Analyse text -------------------------------------------------------------


def test_analyse_gives_label_confidence_chart_and_words_per_post(app):
    analyse(app, "i love pizza\n\nso angry with my car :(")

    assert_no_traceback(app)
    tab = app.tabs[0]
    headings = [v for v in values(tab.markdown) if v.startswith("### ")]
    assert len(headings) == 2
    assert headings[0].startswith("### Positive · ")
    assert headings[1].startswith("### Negative · ")
    assert "% confident" in headings[0]
    assert len(tab.get("vega_lite_chart")) == 2  # one probability chart per post
    chips = [v for v in values(tab.markdown) if "-background[" in v]
    assert "love" in chips[0] and chips[0].startswith(":green-background[")
    assert "angry" in chips[1] and chips[1].startswith(":red-background[")
    # Two posts: a table of both, then one table of contributions per post.
    assert tab.dataframe[0].value["post"].tolist() == [
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


def test_threshold_defaults_to_the_package_config(app):
    assert app.slider[0].value == config.DEFAULT_THRESHOLD


def test_post_without_known_words_needs_review(app):
    analyse(app, "zzqx vvbn")
    assert any("no word the model knows" in w for w in values(app.warning))


def test_analyse_with_no_text_asks_for_a_post(app):
    analyse(app, "  \n ")
    assert_no_traceback(app)
    assert any("no text to analyse" in w for w in values(app.warning))


# --- Score a file -------------------------------------------------------------


def test_scoring_a_csv_gives_summary_filters_and_the_cli_download(
    app, saved_tiny_model, tmp_path
):
    source = posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())

    tab = file_tab(app)
    assert "60 rows · 4 columns · utf-8 · comma-separated" in values(tab.caption)
    assert tab.dataframe[0].value["id"].tolist()[:3] == ["0", "1", "2"]
    assert tab.selectbox[0].value == "text"  # the most text-like, not the first
    assert any("1 row without text" in w for w in values(tab.warning))

    click(app, "Score")

    assert_no_traceback(app)
    tab = file_tab(app)
    metrics = {m.label: m.value for m in tab.metric}
    assert metrics["Rows scored"] == "60"
    predictor = load_predictor(saved_tiny_model, allow_outside_models_dir=True)
    expected = predictor.score(source["text"].tolist())
    share = (expected["sentiment"] == "positive").mean()
    assert metrics["Positive"] == f"{share:.1%}"
    assert metrics["Need review"] == f"{expected['needs_review'].mean():.1%}"

    score_csv(tmp_path / "posts.csv", tmp_path / "cli.csv", predictor, progress=False)
    download = app.session_state["scored_upload"].download
    assert download == (tmp_path / "cli.csv").read_bytes()
    assert tab.download_button[0].label == "Download the scored file"

    tab.radio[0].set_value("Needs review").run()
    shown = file_tab(app).dataframe[-1].value
    assert len(shown) == expected["needs_review"].sum()
    assert shown["needs_review"].all()

    file_tab(app).multiselect[0].set_value(["Negative"]).run()
    shown = file_tab(app).dataframe[-1].value
    assert set(shown["sentiment"]) <= {"negative"}
    assert (
        len(shown)
        == (expected["sentiment"].eq("negative") & expected["needs_review"]).sum()
    )


def test_label_mix_over_time_for_a_chosen_date_column(app, tmp_path):
    posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())
    click(app, "Score")
    charts_before = len(file_tab(app).get("vega_lite_chart"))

    date_picker = next(s for s in file_tab(app).selectbox if "over time" in s.label)
    date_picker.set_value("date").run()

    assert_no_traceback(app)
    assert len(file_tab(app).get("vega_lite_chart")) == charts_before + 1

    date_picker = next(s for s in file_tab(app).selectbox if "over time" in s.label)
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
    assert {m.label: m.value for m in file_tab(app).metric}["Rows scored"] == "3"


def test_changing_the_threshold_after_scoring_asks_to_score_again(app, tmp_path):
    posts_csv(tmp_path / "posts.csv")
    upload(app, "posts.csv", (tmp_path / "posts.csv").read_bytes())
    click(app, "Score")

    app.slider[0].set_value(0.9).run()

    assert any("press Score to update" in i for i in values(file_tab(app).info))
    assert not file_tab(app).download_button


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary file"),
        ("bad.csv", codecs.BOM_UTF8 + b"text\n\xff\xfe bad\n", "cannot be decoded"),
        ("header.csv", b"text,label\n", "no data rows"),
        ("numbers.csv", b"id,score\n1,2.5\n2,3.5\n", "No column of numbers.csv"),
        ("quote.csv", b'text\n"never closed\nnext\n', "not a well-formed table"),
        ("scored.csv", b"text,sentiment\nhi there,positive\n", "already has column"),
    ],
)
def test_bad_uploads_get_a_message_and_no_score_button(app, name, data, message):
    upload(app, name, data)

    assert_no_traceback(app)
    errors = values(file_tab(app).error)
    assert len(errors) == 1 and message in errors[0], errors
    assert "Score" not in [b.label for b in app.button]


def test_names_from_the_file_are_shown_literally_not_as_markdown(app):
    upload(
        app, "[x](http://a.test).csv", b"id,[click](http://a.test)\n1,\n2,hi there\n"
    )

    warnings = [w.value for w in file_tab(app).warning]
    assert any("'\\[click\\]\\(http\\:" in w for w in warnings), warnings


def test_guessed_encoding_is_warned_about(app):
    upload(app, "latin.csv", "text\nbon café, très bien\n".encode("cp1252"))
    assert any("not valid UTF-8" in w for w in values(file_tab(app).warning))
    assert "1 rows · 1 columns · cp1252 · comma-separated" in values(
        file_tab(app).caption
    )


def test_upload_over_the_configured_limit_is_refused(app, upload_limit_mb):
    upload_limit_mb(1)
    app.run()
    assert "at most 1 MB" in app.file_uploader[0].label

    upload(app, "big.csv", b"text\n" + b"i love pizza\n" * 90_000)

    assert_no_traceback(app)
    assert any("over the 1 MB upload limit" in e for e in values(app.error))


def test_page_states_the_upload_limit_set_in_streamlit_config(app):
    settings = tomllib.loads(
        (config.PROJECT_ROOT / ".streamlit" / "config.toml").read_text()
    )
    limit = settings["server"]["maxUploadSize"]
    assert f"at most {limit} MB" in app.file_uploader[0].label
    assert settings["browser"]["gatherUsageStats"] is False


# --- Model card and model loading -------------------------------------------


@pytest.fixture()
def benchmarked_model(tiny_pipeline, tmp_path) -> Path:
    """The tiny model with a card like the one `sentiment.train` writes."""
    texts, labels = tiny_dataset(seed=1)
    predicted = tiny_pipeline.predict(texts)
    metrics = compute_metrics(labels, list(predicted))
    card = {
        "created": "2026-01-02T03:04:05+00:00",
        "training_data": {
            "file": "tiny.csv",
            "sha256": "ab" * 32,
            "rows_used": len(labels),
            "label_counts": {label: labels.count(label) for label in config.LABELS},
        },
        "hyperparameters": {**config.HYPERPARAMS, "word_ngram_range": [1, 2]},
        "versions": {},
        "validation_metrics": metrics,
        "test_metrics": {"data": {"file": "bench.csv"}, **metrics},
    }
    path = tmp_path / "model.pkl"
    save_model(tiny_pipeline, path, card)
    return path


def test_model_card_shows_training_data_benchmark_and_ngrams(
    benchmarked_model, monkeypatch
):
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(benchmarked_model))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    assert_no_traceback(app)
    card = app.tabs[2]
    text = "\n".join(values(card.markdown))
    assert "word 1–2-grams" in text
    assert "lexicon scores" in text and "pretrained vectors" in text
    assert "2026-01-02T03:04:05+00:00" in text and "`tiny.csv`" in text
    assert "Benchmark: bench.csv" in values(card.subheader)
    metrics = load_predictor(benchmarked_model, allow_outside_models_dir=True).card[
        "test_metrics"
    ]
    shown = {m.label: m.value for m in card.metric}
    assert shown["Macro recall (official)"] == f"{metrics['macro_recall']:.3f}"
    assert shown["Accuracy"] == f"{metrics['accuracy']:.3f}"
    reference = next(d.value for d in card.dataframe if "system" in d.value.columns)
    assert reference.iloc[:, 1].tolist() == [0.681, 0.629, 0.629, 0.713]
    assert len(card.get("vega_lite_chart")) == 1  # the confusion matrix
    ngram_tables = [d.value for d in card.dataframe if "weight" in d.value.columns]
    assert len(ngram_tables) == 3
    assert {"love", "great", "happy", "awesome"} & set(ngram_tables[2]["n-gram"])


def test_model_card_without_benchmark_says_so(app):
    assert_no_traceback(app)
    assert any("no benchmark" in c for c in values(app.tabs[2].caption))


def test_a_model_that_cannot_be_loaded_gets_a_message(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(tmp_path / "missing.pkl"))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    assert_no_traceback(app)
    assert len(app.error) == 1 and "could not be loaded" in app.error[0].value
    assert config.MODEL_PATH_ENV in app.error[0].value
    assert not app.tabs


def test_a_tampered_model_is_refused(saved_tiny_model, monkeypatch):
    with open(saved_tiny_model, "ab") as f:
        f.write(b"\0")
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(saved_tiny_model))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    assert "does not match its card" in app.error[0].value


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_model_path_in_the_environment_means_the_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(config.MODEL_PATH_ENV, raising=False)
    else:
        monkeypatch.setenv(config.MODEL_PATH_ENV, value)
    assert config.model_path_from_env() is None


def test_model_path_from_the_environment(monkeypatch):
    monkeypatch.setenv(config.MODEL_PATH_ENV, "~/m/model.pkl")
    assert config.model_path_from_env() == Path.home() / "m" / "model.pkl"
