"""Fixtures for the Streamlit page: AppTest runs app.py against the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from sentiment import config

APP = str(config.PROJECT_ROOT / "app.py")
# The first run imports streamlit's and the app's modules; later runs are quick.
TIMEOUT_S = 60


@pytest.fixture()
def app(saved_tiny_model: Path, monkeypatch) -> AppTest:
    """The page, served with the tiny model, after its first run."""
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
