"""Promotion gate, archive, rollback and crash safety, on tiny models in tmp dirs."""

from __future__ import annotations

import json
import os
import random
import shutil

import pytest

from sentiment import promote, train
from sentiment.model.artifacts import ModelLoadError, load_model, save_model
from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import load_predictor
from sentiment.ops import promotion
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reference import reference_path
from tests.conftest import TINY_PARAMS, tiny_dataset, write_tiny_csv


def _save(folder, shuffle_labels=False, seed=0):
    texts, labels = tiny_dataset(seed)
    if shuffle_labels:  # a model that learned nothing
        labels = labels[:]
        random.Random(seed).shuffle(labels)
    pipeline = build_pipeline(TINY_PARAMS, seed=seed).fit(texts, labels)
    path = folder / "model.pkl"
    card = save_model(pipeline, path, {"versions": {}, "seed": seed})
    reference_path(path).write_text(json.dumps({"model_sha256": card["model_sha256"]}))
    return path, card["model_sha256"]


def _current_sha(models):
    return load_model(models / "model.pkl", allow_outside_models_dir=True)[1][
        "model_sha256"
    ]


@pytest.fixture()
def setup(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    _, first = _save(models, seed=0)
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    evaluation = write_tiny_csv(tmp_path / "eval.csv")
    return models, candidates, evaluation, first


def _promote(candidate, evaluation, models, **kw):
    return promotion.promote(
        candidate, evaluation, models_dir=models, allow_outside_models_dir=True, **kw
    )


def test_a_worse_candidate_is_rejected_and_nothing_moves(setup):
    models, candidates, evaluation, first = setup
    worse, _ = _save(candidates, shuffle_labels=True, seed=3)
    decision = _promote(worse, evaluation, models)
    assert not decision.promoted and "below the current" in decision.reason
    assert decision.candidate["macro_recall"] < decision.current["macro_recall"] - 0.01
    assert _current_sha(models) == first
    assert not (models / "archive").exists()


def test_promotion_archives_the_old_pair_and_rollback_restores_it(setup):
    models, candidates, evaluation, first = setup
    candidate, second = _save(candidates, seed=1)
    decision = _promote(candidate, evaluation, models)
    assert decision.promoted, decision.reason
    assert _current_sha(models) == second
    assert json.loads(reference_path(models / "model.pkl").read_text()) == {
        "model_sha256": second
    }
    (entry,) = promotion.archive_entries(models)
    assert sorted(p.name for p in entry.iterdir()) == [
        "archived.json",
        "model.json",
        "model.npz",
        "model.pkl",
        "model.reference.json",
        "version.json",
    ]
    assert json.loads((entry / "archived.json").read_text())["model_sha256"] == first
    load_model(entry / "model.pkl", allow_outside_models_dir=True)  # intact pair
    load_predictor(entry / "model.pkl", allow_outside_models_dir=True)  # and arrays
    # models/model.pkl is a link through the one pointer that a switch replaces.
    assert os.readlink(models / "model.pkl") == "current/model.pkl"
    assert (models / "current").resolve().parent == models.resolve() / "versions"

    restored = promotion.rollback(models)
    assert restored == entry and not (entry / "archived.json").exists()
    assert (models / "current").resolve() == entry.resolve()
    assert _current_sha(models) == first
    (rolled_back,) = promotion.archive_entries(models)
    manifest = json.loads((rolled_back / "archived.json").read_text())
    assert manifest["reason"] == "rolled back" and manifest["model_sha256"] == second
    with pytest.raises(promotion.PromotionError, match="No replaced model"):
        promotion.rollback(models)


def test_a_legacy_archive_entry_can_still_be_rolled_back_to(setup):
    models, candidates, _, first = setup
    legacy = models / "archive" / "20250101T000000Z-abc"
    legacy.mkdir(parents=True)
    old, old_sha = _save(candidates, seed=1)
    for path in (old, old.with_suffix(".json")):
        shutil.copyfile(path, legacy / path.name)
    (legacy / "archived.json").write_text(
        json.dumps({"archived_at": "2025-01-01T00:00:00+00:00", "reason": "replaced"})
    )
    promotion.rollback(models)
    assert _current_sha(models) == old_sha and not legacy.exists()
    assert not (models / "model.reference.json").exists()  # old had no profile
    (entry,) = promotion.archive_entries(models)  # the plain files, adopted
    assert json.loads((entry / "archived.json").read_text())["model_sha256"] == first


def test_within_the_margin_is_promoted_beyond_it_is_not(setup):
    models, candidates, evaluation, _ = setup
    worse, _ = _save(candidates, shuffle_labels=True, seed=3)
    assert _promote(worse, evaluation, models, margin=1.0).promoted


def test_the_same_model_is_not_promoted_again(setup):
    models, _, evaluation, _ = setup
    decision = _promote(models / "model.pkl", evaluation, models)
    assert not decision.promoted and "is the current model" in decision.reason


def test_a_tampered_candidate_is_refused_before_anything_moves(setup):
    models, candidates, evaluation, first = setup
    candidate, _ = _save(candidates, seed=1)
    candidate.write_bytes(candidate.read_bytes() + b"\0")
    with pytest.raises(ModelLoadError, match="does not match its card"):
        _promote(candidate, evaluation, models)
    assert _current_sha(models) == first


def test_a_candidate_without_profile_does_not_inherit_a_stale_one(setup):
    models, candidates, evaluation, _ = setup
    candidate, _ = _save(candidates, seed=1)
    reference_path(candidate).unlink()
    assert _promote(candidate, evaluation, models).promoted
    assert not reference_path(models / "model.pkl").exists()


def test_cli_exit_codes(setup, capsys):
    models, candidates, evaluation, _ = setup
    worse, _ = _save(candidates, shuffle_labels=True, seed=3)
    common = ["--eval", str(evaluation), "--models-dir", str(models)]
    assert promote.main([str(worse), *common, "--trust-model-path"]) == 1
    assert promote.main([str(worse), *common]) == 2  # outside models/, untrusted
    assert "outside" in capsys.readouterr().err
    assert promote.main(["--rollback", "--models-dir", str(models)]) == 2


def test_train_on_several_files_and_feedback(tmp_path):
    data = write_tiny_csv(tmp_path / "a.csv")
    more = tmp_path / "b.csv"
    more.write_text("text,label\ngreat stuff,positive\nawful stuff,negative\n")
    log = PredictionLog(tmp_path / "log.db")
    texts = ["the weather is fine", "a secret"]
    from sentiment.model.predictor import Prediction

    predictions = [Prediction("neutral", 0.5, None, True, "ok")] * 2
    log.append("page", None, "v", texts, predictions)
    log.record_correction(1, "positive")
    hashed = PredictionLog(tmp_path / "log.db", store_text=False)
    hashed.append("page", None, "v", ["hidden"], predictions[:1])
    hashed.record_correction(3, "negative")
    model = tmp_path / "m" / "model.pkl"
    args = ["--data", str(data), "--data", str(more), "--out", str(model)]
    code = train.main([*args, "--include-feedback", str(log.path), "--no-progress"])
    assert code == 0
    card = json.loads(model.with_suffix(".json").read_text())
    sources = card["training_data"]["sources"]
    assert [s["rows_used"] for s in sources] == [216, 2, 1]
    assert card["training_data"]["rows_used"] == 219
    assert sources[2]["label_counts"]["positive"] == 1
    assert card["skipped_rows"]["empty_text"] == 1  # the correction without text
