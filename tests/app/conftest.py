"""Fixtures for the Streamlit app: AppTest runs app.py against the tiny model.

The app opens on the Analyse text page; ``open_page`` switches to another.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from sentiment import config
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reviewers import set_reviewer
from tests.conftest import tiny_dataset

APP = str(config.PROJECT_ROOT / "app.py")
# The pages, as AppTest.switch_page takes them (relative to app.py).
ANALYSE = "app_pages/analyse.py"
SCORE_FILE = "app_pages/score_file.py"
MODEL_CARD = "app_pages/model_card.py"
MONITORING = "app_pages/monitoring.py"
REVIEW = "app_pages/review.py"
BRANDS = "app_pages/brands.py"
# The first run imports streamlit's and the app's modules; later runs are quick.
TIMEOUT_S = 60


@pytest.fixture()
def log_db(tmp_path: Path, monkeypatch) -> Path:
    """A prediction log of this test's own (the page opens one per configured path)."""
    path = tmp_path / "predictions.db"
    monkeypatch.setenv(config.LOG_DB_ENV, str(path))
    return path


REVIEWER, PASSWORD = "ana", "a long test password"
PROTECTED = (MONITORING, REVIEW)


@pytest.fixture(autouse=True)
def reviewer_accounts(tmp_path_factory, monkeypatch) -> Path:
    """One reviewer account (ana), in a file of this test's own."""
    path = tmp_path_factory.mktemp("secrets") / "users.toml"
    set_reviewer(path, REVIEWER, PASSWORD)
    monkeypatch.setenv(config.USERS_FILE_ENV, str(path))
    return path


@pytest.fixture()
def app(saved_tiny_model: Path, log_db: Path, monkeypatch) -> AppTest:
    """The app, served with the tiny model and logging to ``log_db``, after its
    first run (on the Analyse text page)."""
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(saved_tiny_model))
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()


@pytest.fixture()
def upload_limit_mb():
    """Set server.maxUploadSize for one test, as .streamlit/config.toml would."""
    before = streamlit_config.get_option("server.maxUploadSize")

    def set_limit(mb: int) -> None:
        streamlit_config.set_option("server.maxUploadSize", mb)

    yield set_limit
    streamlit_config.set_option("server.maxUploadSize", before)


# --- helpers shared by the page tests ----------------------------------------


def values(elements) -> list[str]:
    """What the elements show: text from users is markdown-escaped, unescape it."""
    return [re.sub(r"\\(.)", r"\1", element.value) for element in elements]


def click(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click()
    return app.run()


def open_page(app: AppTest, page: str) -> AppTest:
    """Open a page of the navigation (``ANALYSE``...) as a click on it would;
    Monitoring and Review ask for a sign-in first, and this signs in as ana."""
    app.switch_page(page).run()
    if page in PROTECTED and sign_in_form_shown(app):
        sign_in(app)
    return app


def sign_in_form_shown(app: AppTest) -> bool:
    return any(button.label == "Sign in" for button in app.button)


def sign_in(app: AppTest, name: str = REVIEWER, password: str = PASSWORD) -> AppTest:
    """Fill in and submit the sign-in form of Monitoring or Review."""
    app.text_input(key="sign_in_name").input(name)
    app.text_input(key="sign_in_password").input(password)
    return click(app, "Sign in")


def analyse(app: AppTest, text: str) -> AppTest:
    """Analyse ``text`` on the Analyse text page (opened first if another is)."""
    if not app.text_area:
        open_page(app, ANALYSE)
    app.text_area[0].input(text)
    return click(app, "Analyse")


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    """Upload a file on the Score a file page (opened first if another is)."""
    if not app.file_uploader:
        open_page(app, SCORE_FILE)
    app.file_uploader[0].upload(name, data, "text/csv")
    return app.run()


def logged(log_db: Path) -> pd.DataFrame:
    """Every row of the prediction log, oldest first."""
    with PredictionLog(log_db) as prediction_log:
        return prediction_log.predictions()


def metrics(element) -> dict[str, str]:
    """The metrics an element shows, label -> value."""
    return {m.label: m.value for m in element.metric}


def assert_no_traceback(app: AppTest) -> None:
    assert not app.exception, values(app.exception)


def posts_csv(path: Path, n: int = 60) -> pd.DataFrame:
    """A CSV whose text column is not first, with an empty and a formula cell."""
    texts, labels = tiny_dataset()
    frame = pd.DataFrame(
        {
            "label": labels[:n],
            "id": [str(i) for i in range(n)],
            "date": pd.date_range("2024-03-01", periods=n, freq="6h").strftime(
                "%Y-%m-%d %H:%M"
            ),
            "text": texts[:n],
        }
    )
    frame.loc[3, "text"] = ""
    frame.loc[4, "text"] = "=1+2 i love pizza"
    frame.to_csv(path, index=False)
    return frame
