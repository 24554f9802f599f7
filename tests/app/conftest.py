"""Fixtures for the Streamlit page: AppTest runs app.py against the tiny model."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sentiment import config
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest
from tests.conftest import tiny_dataset

APP = str(config.PROJECT_ROOT / "app.py")
# The first run imports streamlit's and the app's modules; later runs are quick.
TIMEOUT_S = 60


@pytest.fixture()
def log_db(tmp_path: Path, monkeypatch) -> Path:
    """A prediction log of this test's own (the page opens one per configured path)."""
    path = tmp_path / "predictions.db"
    monkeypatch.setenv(config.LOG_DB_ENV, str(path))
    return path


@pytest.fixture()
def app(saved_tiny_model: Path, log_db: Path, monkeypatch) -> AppTest:
    """The page, served with the tiny model and logging to ``log_db``, after its
    first run."""
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


def analyse(app: AppTest, text: str) -> AppTest:
    app.tabs[0].text_area[0].input(text)
    return click(app, "Analyse")


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    app.file_uploader[0].upload(name, data, "text/csv")
    return app.run()


def file_tab(app: AppTest):
    return app.tabs[1]


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
