"""The frame (app.py): model loading, the sidebar and the navigation, via AppTest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import shared
from sentiment import config
from tests.app.conftest import (
    ANALYSE,
    APP,
    BRANDS,
    MODEL_CARD,
    MONITORING,
    REVIEW,
    SCORE_FILE,
    TIMEOUT_S,
    analyse,
    assert_no_traceback,
    logged,
    open_page,
    values,
)

TEXT_SWITCH = "Store post texts in the prediction log"


def test_every_page_opens_and_the_model_is_loaded_once(
    saved_tiny_model, log_db, monkeypatch
):
    loads = []
    get_predictor = shared.get_predictor

    def counted_get_predictor(**kwargs):
        loads.append(1)
        return get_predictor(**kwargs)

    monkeypatch.setattr(shared, "get_predictor", counted_get_predictor)
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(saved_tiny_model))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    for page in [SCORE_FILE, MODEL_CARD, MONITORING, REVIEW, BRANDS, ANALYSE]:
        open_page(app, page)
        assert_no_traceback(app)
        assert values(app.title) == ["Tweet sentiment"]
        assert app.sidebar.slider[0].label == "Review threshold"
    assert len(loads) == 1


def test_threshold_defaults_to_the_package_config(app):
    assert app.slider[0].value == config.DEFAULT_THRESHOLD


def test_switching_text_storage_off_stores_only_hashes(app, log_db):
    assert app.sidebar.toggle[0].label == TEXT_SWITCH
    assert app.sidebar.toggle[0].value is True  # SENTIMENT_LOG_TEXT defaults to on
    app.sidebar.toggle[0].set_value(False).run()

    analyse(app, "i love pizza")

    rows = logged(log_db)
    assert rows["text"].isna().all() and rows["text_length"].tolist() == [12]
    assert rows["text_sha256"].tolist() == [hashlib.sha256(b"i love pizza").hexdigest()]


def test_with_logging_off_the_page_works_and_monitoring_says_so(
    saved_tiny_model, monkeypatch
):
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(saved_tiny_model))
    monkeypatch.setenv(config.LOG_DB_ENV, "off")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    analyse(app, "i love pizza")
    assert any(v.startswith("### Positive") for v in values(app.main.markdown))
    open_page(app, MONITORING)

    assert_no_traceback(app)
    assert not app.sidebar.toggle
    info = values(app.main.info)
    assert len(info) == 1 and "prediction log is off" in info[0]
    assert f"unset {config.LOG_DB_ENV}" in info[0]

    open_page(app, REVIEW)

    assert_no_traceback(app)
    info = values(app.main.info)
    assert len(info) == 1 and "prediction log is off" in info[0]


def test_the_package_never_imports_the_pages():
    sources = (config.PROJECT_ROOT / "sentiment").rglob("*.py")
    assert not [p for p in sources if "app_pages" in p.read_text()]


# --- model loading ----------------------------------------------------------


def test_a_model_that_cannot_be_loaded_gets_a_message(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(tmp_path / "missing.pkl"))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()

    assert_no_traceback(app)
    assert len(app.error) == 1 and "could not be loaded" in app.error[0].value
    assert config.MODEL_PATH_ENV in app.error[0].value
    assert not app.text_area and not app.button  # no page is drawn


def test_a_tampered_model_is_refused(saved_tiny_model, monkeypatch):
    # The arrays: the file the page scores with (the pickle only explains).
    with open(saved_tiny_model.with_suffix(".npz"), "ab") as f:
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
