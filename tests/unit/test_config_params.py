"""Hyperparameters come from params.yaml (one place, which DVC reads too)."""

from __future__ import annotations

import pytest
import yaml

from sentiment import config


def test_hyperparams_are_the_train_section_of_params_yaml():
    section = yaml.safe_load(config.PARAMS_PATH.read_text())["train"]
    assert config.HYPERPARAMS.keys() == section.keys()
    assert config.HYPERPARAMS["C"] == section["C"]
    # n-gram ranges are lists in YAML and tuples for scikit-learn.
    assert config.HYPERPARAMS["word_ngram_range"] == tuple(section["word_ngram_range"])


def test_a_changed_value_is_read(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  C: 1.0\n  char_ngram_range: [2, 4]\n")
    assert config.load_hyperparams(params) == {"C": 1.0, "char_ngram_range": (2, 4)}


@pytest.mark.parametrize("text", [None, "other: {}\n", "train: [1, 2]\n", "train: ["])
def test_a_missing_or_broken_file_says_how_to_restore_it(tmp_path, text):
    params = tmp_path / "params.yaml"
    if text is not None:
        params.write_text(text)
    with pytest.raises(RuntimeError, match="params.yaml"):
        config.load_hyperparams(params)


def test_scoring_never_reads_the_hyperparameters(monkeypatch):
    # Read on first use (training): a damaged params.yaml must not stop scoring.
    from sentiment.model.predictor import load_predictor

    monkeypatch.setitem(vars(config), "HYPERPARAMS", None)  # undone after the test
    del vars(config)["HYPERPARAMS"]  # as in a new process: not read yet

    def damaged() -> dict:
        raise RuntimeError("params.yaml is damaged")

    monkeypatch.setattr(config, "load_hyperparams", damaged)
    assert load_predictor().predict("what a great day").label == "positive"
    with pytest.raises(RuntimeError, match="damaged"):
        config.HYPERPARAMS
