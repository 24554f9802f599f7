"""``monitor drift --model URL``: the reference profile of a model on S3 (moto),
given as its .pkl URL or as a registry prefix, is the one beside it."""

from __future__ import annotations

import json

import pytest

from sentiment import config, monitor, train
from sentiment.files import remote
from sentiment.model.artifacts import card_path
from sentiment.model.export import arrays_path
from sentiment.ops.bucket_promotion import promote_in_bucket
from sentiment.ops.reference import reference_path
from tests.conftest import write_tiny_csv
from tests.ops.test_cloud import POSTS


@pytest.fixture()
def trained(tmp_path, monkeypatch):
    """A tiny model trained here, with its reference profile; (model, eval CSV)."""
    monkeypatch.delenv(config.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setattr(config, "HYPERPARAMS", {**config.HYPERPARAMS, "word_min_df": 1})
    data = write_tiny_csv(tmp_path / "train.csv")
    model = tmp_path / "m" / "model.pkl"
    args = ["--data", str(data), "--test-data", str(data), "--out", str(model)]
    assert train.main([*args, "--no-progress"]) == 0
    assert reference_path(model).is_file()
    return model, data


def _drift_json(model: str, current, capsys) -> dict:
    code = monitor.main(
        ["drift", "--current", str(current), "--model", model, "--trust-model-path"]
        + ["--json", "--sample", "200"]
    )
    assert code in (0, 1)
    report = json.loads(capsys.readouterr().out)
    del report["created"]  # the time of the check
    return report


def test_drift_finds_the_profile_of_a_remote_model(bucket, trained, tmp_path, capsys):
    model, data = trained
    current = tmp_path / "current.csv"
    current.write_text(POSTS, encoding="utf-8")
    files = [model, arrays_path(model), card_path(model), reference_path(model)]
    remote.upload_files(files, f"{bucket}/plain")
    promote_in_bucket(model, f"{bucket}/registry/", data, allow_outside_models_dir=True)

    here = _drift_json(str(model), current, capsys)
    beside = _drift_json(f"{bucket}/plain/model.pkl", current, capsys)
    pointed = _drift_json(f"{bucket}/registry/", current, capsys)

    assert here["reference"]["description"].startswith("reference profile model.")
    assert beside == here and pointed == here


def test_a_remote_model_without_profile_is_named_in_the_error(
    bucket, trained, tmp_path, capsys
):
    model, _ = trained
    remote.upload_files([model, arrays_path(model), card_path(model)], f"{bucket}/p")
    current = tmp_path / "current.csv"
    current.write_text(POSTS, encoding="utf-8")
    url = f"{bucket}/p/model.pkl"
    code = monitor.main(
        ["drift", "--current", str(current), "--model", url, "--trust-model-path"]
    )
    assert code == 2
    assert f"No reference profile beside {url}" in capsys.readouterr().err
