"""Shared fixtures: a tiny model trained in seconds, the committed model, the data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sentiment import config
from sentiment.model.artifacts import save_model
from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import Predictor, load_predictor

# The object-store fixtures (moto S3, Azurite Blob): any test module may ask for them.
pytest_plugins = ["tests.cloud_servers"]


@pytest.fixture(autouse=True, scope="session")
def _prediction_log_in_tmp(tmp_path_factory):
    """Predictions made by tests are logged to a temporary file, never to logs/."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("log") / "predictions.db"
        patch.setenv(config.LOG_DB_ENV, str(path))
        yield path


TINY_PARAMS = {"word_min_df": 1, "char_min_df": 1, "C": 10.0}

_TEMPLATES = {
    "positive": ["i love {}", "{} is great", "so happy with {} :)", "{} is awesome"],
    "negative": ["i hate {}", "{} is awful", "so angry with {} :(", "{} is terrible"],
    "neutral": [
        "{} opens on monday",
        "{} is on channel 4",
        "news about {}",
        "{} at 5pm",
    ],
}
_THINGS = ["the phone", "this show", "the team", "my car", "the new album", "pizza"]


def tiny_dataset(seed: int = 0) -> tuple[list[str], list[str]]:
    """A few hundred templated posts with obvious labels, in shuffled order."""
    rows = [
        (template.format(thing), label)
        for label, templates in _TEMPLATES.items()
        for template in templates
        for thing in _THINGS
    ]
    rows = rows * 3
    random.Random(seed).shuffle(rows)
    texts, labels = zip(*rows)
    return list(texts), list(labels)


def write_tiny_csv(path: Path) -> Path:
    """Write the tiny dataset as a text,label CSV and return its path."""
    texts, labels = tiny_dataset()
    lines = ["text,label"] + [f"{t},{label}" for t, label in zip(texts, labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_pipeline():
    texts, labels = tiny_dataset()
    return build_pipeline(TINY_PARAMS).fit(texts, labels)


@pytest.fixture(scope="session")
def tiny_predictor(tiny_pipeline) -> Predictor:
    return Predictor(tiny_pipeline, {"model_sha256": "0" * 64})


@pytest.fixture()
def saved_tiny_model(tiny_pipeline, tmp_path) -> Path:
    """The tiny model saved with its card in a temporary folder."""
    path = tmp_path / "model.pkl"
    save_model(tiny_pipeline, path, {"versions": {}})
    return path


@pytest.fixture(scope="session")
def committed_predictor() -> Predictor:
    if not config.DEFAULT_MODEL_PATH.is_file():
        pytest.skip(f"no committed model at {config.DEFAULT_MODEL_PATH}")
    return load_predictor()


needs_semeval = pytest.mark.skipif(
    not (config.SEMEVAL_TRAIN.is_file() and config.SEMEVAL_TEST.is_file()),
    reason=f"benchmark data not found in {config.SEMEVAL_DIR} (it lives beside the "
    "checkout in ../shared; set SENTIMENT_SHARED_DATA to point elsewhere)",
)
