"""The Model card page (app_pages/model_card.py), driven by AppTest."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from app_pages import tier_comparison
from sentiment import config
from sentiment.model.artifacts import save_model
from sentiment.model.metrics import compute_metrics
from sentiment.model.predictor import load_predictor
from sentiment.model.transformer import LIMITATIONS
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
    specs = [chart.proto.spec for chart in card.get("vega_lite_chart")]
    assert len([s for s in specs if "Confusion matrix" in s]) == 1
    ngram_tables = [d.value for d in card.dataframe if "weight" in d.value.columns]
    assert len(ngram_tables) == 3
    assert {"love", "great", "happy", "awesome"} & set(ngram_tables[2]["n-gram"])


def test_model_card_without_benchmark_says_so(app):
    open_page(app, MODEL_CARD)
    assert_no_traceback(app)
    assert any("no benchmark" in c for c in values(app.main.caption))


# --- every tier: the tier comparison and the limitations ----------------------

# The transformer and cascade tests need onnxruntime and the committed model.
TRANSFORMER_READY = (
    importlib.util.find_spec("onnxruntime") is not None
    and config.TRANSFORMER_MODEL_PATH.is_file()
)
NO_TRANSFORMER = (
    "needs onnxruntime (pip install -r requirements-transformer.txt) and the "
    "committed models/transformer/model.onnx"
)
COMPARISON_ROWS = [
    {
        "system": "classic (a test row)",
        "macro_recall": 0.61,
        "macro_f1": 0.6,
        "ece": 0.03,
        "p50_ms": 0.5,
        "p99_ms": 1.5,
        "posts_per_s": 20000.0,
        "dollars_per_million": 0.001,
        "disk_mb": 13.0,
        "memory_mb": 120.0,
        "training": "40 s",
    },
    {  # a lexicon tool: no ECE, size or training
        "system": "Lexicon (made up)",
        "macro_recall": 0.52,
        "macro_f1": 0.5,
        "ece": None,
        "p50_ms": 0.1,
        "p99_ms": 0.2,
        "posts_per_s": 9000.0,
        "dollars_per_million": 0.003,
    },
]


def open_tier(app: AppTest, tier: str) -> AppTest:
    """Choose a tier in the sidebar, then open the Model card page."""
    (choice,) = [box for box in app.sidebar.selectbox if box.label == "Model"]
    choice.set_value(tier).run()
    return open_page(app, MODEL_CARD)


def chart_data(chart) -> list[pd.DataFrame]:
    """The data sets a chart element sent to the browser."""
    return [
        convert_arrow_bytes_to_pandas_df(dataset.data.data)
        for dataset in chart.proto.datasets
    ]


def page_text(app: AppTest) -> str:
    return "\n".join(values(app.main.markdown))


def test_the_comparison_file_is_a_table_and_a_chart(app, tmp_path, monkeypatch):
    path = tmp_path / "compare_tiers.json"
    path.write_text(json.dumps(COMPARISON_ROWS))
    monkeypatch.setattr(tier_comparison, "COMPARISON_PATH", path)
    open_page(app, MODEL_CARD)

    assert_no_traceback(app)
    (table,) = [d.value for d in app.main.dataframe if "posts/s" in d.value.columns]
    assert table["system"].tolist() == [row["system"] for row in COMPARISON_ROWS]
    assert table["macro-recall"].tolist() == [0.61, 0.52]
    assert list(table.columns) == list(tier_comparison.COMPARISON_COLUMNS.values())
    assert table["ECE"].isna().tolist() == [False, True]  # not measured: blank
    (scatter,) = [
        chart
        for chart in app.main.get("vega_lite_chart")
        if "Macro-recall against speed" in chart.proto.spec
    ]
    (plotted,) = {
        tuple(rows["name"]) for rows in chart_data(scatter) if "name" in rows.columns
    }
    assert plotted == ("Lexicon", "classic")  # one labelled point per system
    assert any("When to use which" in m for m in values(app.main.markdown))


@pytest.mark.parametrize(
    "content, problem",
    [(None, "is not in this installation"), ("{not json", "could not be read")],
)
def test_without_the_comparison_file_the_page_says_how_to_make_it(
    app, tmp_path, monkeypatch, content, problem
):
    path = tmp_path / "compare_tiers.json"
    if content is not None:
        path.write_text(content)
    monkeypatch.setattr(tier_comparison, "COMPARISON_PATH", path)
    open_page(app, MODEL_CARD)

    assert_no_traceback(app)
    (caption,) = [c for c in values(app.main.caption) if "tier comparison" in c]
    assert problem in caption and "benchmarks/compare_tiers.py" in caption
    assert not [d for d in app.main.dataframe if "posts/s" in d.value.columns]
    assert "Limitations (every tier)" in values(app.main.subheader)


def test_the_classic_tier_lists_the_limitations_of_every_tier(app):
    open_page(app, MODEL_CARD)
    assert_no_traceback(app)
    assert "Limitations (every tier)" in values(app.main.subheader)
    text = page_text(app)
    for limitation in LIMITATIONS:
        assert f"- {limitation}" in text
    assert "Sarcasm" in text and "2013-2017" in text


# --- the transformer and the cascade describe themselves ----------------------


def transformer_card() -> dict:
    return json.loads((config.TRANSFORMER_DIR / "model.json").read_text())


@pytest.mark.skipif(not TRANSFORMER_READY, reason=NO_TRANSFORMER)
def test_the_transformer_tier_describes_the_encoder_and_its_scores(app):
    open_tier(app, "transformer")
    assert_no_traceback(app)
    card = transformer_card()
    text = page_text(app)
    assert card["encoder"] in text
    assert f"{card['steps_done']:,} steps" in text
    assert "TF-IDF" not in text and "logistic regression" not in text
    metrics = card.get("test_metrics") or card["validation_metrics"]
    shown = {m.label: m.value for m in app.main.metric}
    assert shown["Macro recall (official)"] == f"{metrics['macro_recall']:.3f}"
    assert "Most indicative word n-grams per class" not in values(app.main.subheader)
    for limitation in card["limitations"]:
        assert limitation in text


@pytest.mark.skipif(not TRANSFORMER_READY, reason=NO_TRANSFORMER)
def test_the_cascade_tier_describes_its_routing_and_borrows_its_scores(
    app, monkeypatch, tmp_path
):
    path = tmp_path / "compare_tiers.json"
    cascade_row = {
        **COMPARISON_ROWS[0],
        "system": "cascade (test)",
        "macro_recall": 0.7,
    }
    path.write_text(json.dumps([*COMPARISON_ROWS, cascade_row]))
    monkeypatch.setattr(tier_comparison, "COMPARISON_PATH", path)
    open_tier(app, "cascade")

    assert_no_traceback(app)
    card = transformer_card()
    text = page_text(app)
    assert f"cut-off **{card['cascade']['cutoff']:g}**" in text
    assert f"**{card['cascade']['classic_weight']:g}** for the classic" in text
    assert "TF-IDF of word" not in text
    assert any("no metrics of its own" in c for c in values(app.main.caption))
    shown = [(m.label, m.value) for m in app.main.metric]
    assert ("Cascade", "0.700") in shown  # from the comparison file
    held_out = card["cascade"]["transformer_alone_macro_recall"]
    assert ("Transformer alone", f"{held_out:.3f}") in shown
    if "test_metrics" in card:
        tested = card["test_metrics"]["macro_recall"]
        assert ("Transformer alone", f"{tested:.3f}") in shown
    assert card["limitations"][0] in text
    # The cut-off search as a chart, and how to pick another cut-off.
    assert any("`--cutoff`" in c for c in values(app.main.caption))
    assert len(app.main.get("vega_lite_chart")) >= 2  # cut-offs, tier comparison


@pytest.mark.parametrize(
    "embeddings, layers, said",
    [
        (True, 0, "with the embeddings frozen"),
        (True, 2, "with the embeddings and the lowest 2 encoder layer(s) frozen"),
        (False, 0, "with nothing frozen"),
    ],
)
def test_the_transformer_description_says_what_training_froze(embeddings, layers, said):
    from app_pages.model_card import transformer_description

    card = {
        "hyperparameters": {"freeze_embeddings": embeddings, "frozen_layers": layers}
    }
    assert said in transformer_description(card, "abc")
