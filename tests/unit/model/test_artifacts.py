import json
import logging

import pytest

from sentiment import config
from sentiment.model.artifacts import ModelLoadError, card_path, load_model, read_card
from sentiment.model.predictor import load_predictor


def test_saved_model_round_trips(saved_tiny_model, tiny_predictor):
    predictor = load_predictor(saved_tiny_model, allow_outside_models_dir=True)
    loaded, fitted = predictor.predict("i love pizza"), tiny_predictor.predict(
        "i love pizza"
    )
    # The loaded model scores from its arrays in float64, scikit-learn in float32.
    assert loaded.label == fitted.label
    assert loaded.probabilities == pytest.approx(fitted.probabilities, abs=1e-6)
    card = read_card(saved_tiny_model)
    assert card["model_sha256"].startswith(predictor.version)


def test_model_outside_models_dir_is_refused_by_default(saved_tiny_model):
    assert not saved_tiny_model.resolve().is_relative_to(config.MODELS_DIR)
    with pytest.raises(ModelLoadError, match="outside"):
        load_model(saved_tiny_model)


def test_tampered_model_is_refused(saved_tiny_model):
    with open(saved_tiny_model, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelLoadError, match="changed or replaced"):
        load_model(saved_tiny_model, allow_outside_models_dir=True)


def test_model_without_card_is_refused(saved_tiny_model):
    card_path(saved_tiny_model).unlink()
    with pytest.raises(ModelLoadError, match="No model card"):
        load_model(saved_tiny_model, allow_outside_models_dir=True)


def test_foreign_card_is_refused(saved_tiny_model):
    card_path(saved_tiny_model).write_text(json.dumps({"hello": 1}))
    with pytest.raises(ModelLoadError, match="not a sentiment model card"):
        load_model(saved_tiny_model, allow_outside_models_dir=True)


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(ModelLoadError, match="sentiment.train"):
        load_model(tmp_path / "nope.pkl", allow_outside_models_dir=True)


def test_other_sklearn_version_warns(saved_tiny_model, caplog):
    card_file = card_path(saved_tiny_model)
    card = json.loads(card_file.read_text())
    card["versions"] = {"scikit-learn": "0.0.1"}
    card_file.write_text(json.dumps(card))
    with caplog.at_level(logging.WARNING):
        load_model(saved_tiny_model, allow_outside_models_dir=True)
    assert "scikit-learn 0.0.1" in caplog.text


def test_save_leaves_no_temporary_files(saved_tiny_model):
    assert sorted(p.name for p in saved_tiny_model.parent.iterdir()) == [
        "model.json",
        "model.npz",
        "model.pkl",
    ]
