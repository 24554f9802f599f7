"""The Model card page (app_pages/model_card.py), driven by AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sentiment import config
from sentiment.model.artifacts import save_model
from sentiment.model.metrics import compute_metrics
from sentiment.model.predictor import load_predictor
from tests.app.conftest import (
    APP,
    MODEL_CARD,
    TIMEOUT_S,
    assert_no_traceback,
    open_page,
    values,
)
from tests.conftest import tiny_dataset


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
    open_page(app, MODEL_CARD)

    assert_no_traceback(app)
    card = app.main
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
    open_page(app, MODEL_CARD)
    assert_no_traceback(app)
    assert any("no benchmark" in c for c in values(app.main.caption))
