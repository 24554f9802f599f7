"""``python -m sentiment.retrain --auto`` end to end on small synthetic data:
it fires on a real shift, not on a random split, never promotes a worse model,
and records every run in the prediction log."""

from __future__ import annotations

import json

import pytest

from sentiment import retrain
from sentiment.model.artifacts import read_card
from sentiment.model.predictor import load_predictor
from sentiment.ops import retrain_runs as runs
from sentiment.ops.logstore import PredictionLog
from sentiment.train import train
from tests.ops.retrain_data import log_traffic, posts, small_pipeline, write_csv

__all__ = ["small_pipeline"]  # the fixture, used by name

FLIP = {"positive": "negative", "negative": "positive", "neutral": "neutral"}


@pytest.fixture()
def world(tmp_path, small_pipeline):
    """Base data (shop posts), an evaluation set with both domains, a served
    model trained on the base data, an empty watched folder and a log path."""
    texts, labels = posts("shop", 600, seed=1)
    base = write_csv(tmp_path / "base.csv", texts[:300], labels[:300])
    shop_eval, match_eval = posts("shop", 150, seed=7), posts("match", 150, seed=8)
    evaluation = write_csv(
        tmp_path / "eval.csv",
        shop_eval[0] + match_eval[0],
        shop_eval[1] + match_eval[1],
    )
    models = tmp_path / "models"
    train(base, models / "model.pkl", progress=False)
    return {
        "base": base,
        "eval": evaluation,
        "models": models,
        "watch": tmp_path / "incoming",
        "work": tmp_path / "work",
        "db": tmp_path / "predictions.db",
        "held_out": texts[300:],  # the same distribution as the base data
    }


def _auto(world, capsys, *extra: str) -> tuple[int, dict]:
    code = retrain.main(
        [
            "--auto",
            "--json",
            "--log-db",
            str(world["db"]),
            "--base-data",
            str(world["base"]),
            "--eval",
            str(world["eval"]),
            "--models-dir",
            str(world["models"]),
            "--watch",
            str(world["watch"]),
            "--work-dir",
            str(world["work"]),
            "--min-corrections",
            "50",
            "--drift-min-rows",
            "200",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})


def _served(world) -> str:
    return read_card(world["models"] / "model.pkl")["model_sha256"]


def _runs(world):
    with PredictionLog(world["db"]) as prediction_log:
        return runs.list_runs(prediction_log)


def test_a_real_shift_fires_retrains_with_corrections_and_promotes(world, capsys):
    served = load_predictor(
        world["models"] / "model.pkl", allow_outside_models_dir=True
    )
    before = served.card["model_sha256"]
    texts, labels = posts("match", 300, seed=2)
    log_traffic(world["db"], served, texts)
    with PredictionLog(world["db"]) as prediction_log:  # reviewers fix 60 posts
        for prediction_id, label in zip(range(1, 61), labels):
            prediction_log.record_correction(prediction_id, label, reviewer="ana")

    code, outcome = _auto(world, capsys)

    assert code == 0 and outcome["decision"] == runs.PROMOTED, outcome["reason"]
    assert set(outcome["fired"]) == {"corrections", "drift"}
    gate = outcome["metrics"]
    assert gate["candidate"]["macro_recall"] >= gate["current"]["macro_recall"] - (
        gate["margin"]
    )
    assert _served(world) != before
    assert _served(world) == gate["candidate"]["model_sha256"]
    (run,) = _runs(world).to_dict("records")
    assert (run["trigger"], run["decision"]) == ("corrections+drift", "promoted")
    assert run["finished_at"] >= run["started_at"]
    sources = {s["file"]: s for s in run["data_hashes"]["training"]}
    assert sources["corrections in predictions.db"]["rows_used"] == 60
    assert len(run["data_hashes"]["eval"]["sha256"]) == 64
    assert run["trigger_detail"]["drift"]["facts"]["flagged"]
    assert run["candidate_sha256"] == _served(world)

    # The next tick: nothing new, and drift is in its cool-down.
    code, outcome = _auto(world, capsys)
    assert (code, outcome["decision"]) == (0, "nothing fired")
    assert len(_runs(world)) == 1


def test_a_random_split_of_the_base_data_fires_nothing(world, capsys):
    served = load_predictor(
        world["models"] / "model.pkl", allow_outside_models_dir=True
    )
    log_traffic(world["db"], served, world["held_out"])
    code, outcome = _auto(world, capsys)
    assert (code, outcome["decision"], outcome["fired"]) == (0, "nothing fired", [])
    drift = {t["name"]: t for t in outcome["triggers"]}["drift"]
    assert drift["facts"]["rows"] == len(world["held_out"])
    assert drift["facts"]["flagged"] == []
    assert _runs(world).empty and not world["work"].exists()
    assert _served(world) == served.card["model_sha256"]


def test_a_worse_candidate_is_never_promoted_and_the_refusal_is_recorded(world, capsys):
    before = _served(world)
    texts, labels = posts("shop", 900, seed=3)  # mislabelled on purpose
    write_csv(world["watch"] / "vendor.csv", texts, [FLIP[x] for x in labels])

    code, dry = _auto(world, capsys, "--dry-run")
    assert (code, dry["decision"], dry["fired"]) == (0, "dry run", ["new_files"])
    assert _runs(world).empty and not world["work"].exists()

    summary = world["work"].parent / "pr.md"
    code, outcome = _auto(world, capsys, "--summary", str(summary))
    assert code == 1 and outcome["decision"] == runs.REJECTED
    gate = outcome["metrics"]
    assert gate["candidate"]["macro_recall"] < gate["current"]["macro_recall"] - (
        gate["margin"]
    )
    assert _served(world) == before
    (run,) = _runs(world).to_dict("records")
    assert run["decision"] == "rejected" and "below the current" in run["reason"]
    assert list(run["data_hashes"]["new_files"]) == [str(world["watch"] / "vendor.csv")]
    assert "rejected" in summary.read_text() and "macro-recall" in summary.read_text()

    # The file fired once: the next tick does not retrain on it again.
    code, outcome = _auto(world, capsys)
    assert (code, outcome["decision"]) == (0, "nothing fired")


def test_a_run_that_cannot_train_is_recorded_as_failed(world, capsys):
    # Only one class in the new file and the base: training refuses it.
    write_csv(world["watch"] / "bad.csv", ["meh"] * 5, ["neutral"] * 5)
    one_class = write_csv(world["base"].parent / "one.csv", ["ok"] * 5, ["neutral"] * 5)
    world["base"] = one_class
    code, outcome = _auto(world, capsys)
    assert code == 2 and outcome == {}
    (run,) = _runs(world).to_dict("records")
    assert run["decision"] == "failed" and "DataError" in run["reason"]
    assert run["finished_at"] is not None


def test_bad_options_give_a_one_line_error(world, capsys):
    code, _ = _auto(world, capsys, "--eval", str(world["work"] / "missing.csv"))
    assert code == 2
    assert retrain.main(["--history", "--log-db", str(world["db"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: No prediction log")
