"""Promotion and rollback on a model registry in a bucket, against real servers:
moto's S3 and Azurite's Blob service (see tests/cloud_servers.py)."""

from __future__ import annotations

import json

import pytest

from sentiment import config, promote
from sentiment.files import remote
from sentiment.model import registry
from sentiment.model.artifacts import ModelLoadError
from sentiment.model.predictor import load_predictor
from sentiment.ops import bucket_promotion
from sentiment.ops.errors import PromotionError
from tests.cloud_servers import get, put
from tests.conftest import write_tiny_csv
from tests.ops.test_promote import _save


@pytest.fixture(params=["bucket", "azure_container"], ids=["s3", "azure"])
def prefix(request) -> str:
    """An empty registry prefix on S3 (moto) or Azure Blob (Azurite)."""
    return f"{request.getfixturevalue(request.param)}/models/"


@pytest.fixture()
def models(tmp_path):
    """(first model, a better-or-equal second, a worse one, the eval CSV)."""
    evaluation = write_tiny_csv(tmp_path / "eval.csv")
    made = []
    for name, seed, shuffle in [("a", 0, False), ("b", 1, False), ("w", 3, True)]:
        (tmp_path / name).mkdir()
        made.append(_save(tmp_path / name, shuffle_labels=shuffle, seed=seed))
    return (*made, evaluation)


def _promote(candidate, prefix, evaluation):
    return bucket_promotion.promote_in_bucket(
        candidate, prefix, evaluation, allow_outside_models_dir=True
    )


def _served_sha(prefix: str) -> str:
    predictor = load_predictor(prefix, allow_outside_models_dir=True)
    return predictor.card["model_sha256"]


def test_promote_two_versions_load_the_second_roll_back_to_the_first(prefix, models):
    (first, first_sha), (second, second_sha), _, evaluation = models
    assert _promote(first, prefix, evaluation).promoted
    decision = _promote(second, prefix, evaluation)
    assert decision.promoted, decision.reason

    pointer = json.loads(get(registry.pointer_url(prefix)))
    assert pointer["model_sha256"] == second_sha and pointer["action"] == "promoted"
    assert [e["model_sha256"] for e in pointer["history"]] == [first_sha]
    assert decision.archived == registry.version_url(prefix, pointer["previous"])
    names = [remote.url_name(u) for u in remote.list_objects(f"{prefix}versions")]
    assert sorted(names) == sorted(
        ["model.json", "model.npz", "model.pkl", "model.reference.json"] * 2
    )
    assert _served_sha(prefix) == second_sha

    restored = bucket_promotion.rollback_in_bucket(prefix)
    assert restored == registry.version_url(prefix, pointer["history"][0]["version"])
    after = json.loads(get(registry.pointer_url(prefix)))
    assert after["action"] == "rolled back" and after["history"] == []
    assert after["previous"] == pointer["version"]
    assert _served_sha(prefix) == first_sha
    with pytest.raises(PromotionError, match="No replaced model"):
        bucket_promotion.rollback_in_bucket(prefix)


def test_a_failing_gate_leaves_the_pointer_and_versions_untouched(prefix, models):
    (first, _), _, (worse, _), evaluation = models
    _promote(first, prefix, evaluation)
    pointer = get(registry.pointer_url(prefix))
    keys = remote.list_objects(prefix)

    decision = _promote(worse, prefix, evaluation)

    assert not decision.promoted and "below the current" in decision.reason
    assert get(registry.pointer_url(prefix)) == pointer
    assert remote.list_objects(prefix) == keys
    assert not _promote(first, prefix, evaluation).promoted  # already served


@pytest.mark.parametrize(
    "name, message",
    [("model.npz", "does not match its card"), ("model.json", "current.json names")],
)
def test_a_changed_object_in_versions_is_refused_at_load(prefix, models, name, message):
    (first, _), _, _, evaluation = models
    _promote(first, prefix, evaluation)
    pointer = json.loads(get(registry.pointer_url(prefix)))
    url = f"{registry.version_url(prefix, pointer['version'])}/{name}"
    put(url, get(url) + b" ")

    with pytest.raises(ModelLoadError, match=message):
        load_predictor(prefix, allow_outside_models_dir=True)


def test_the_command_line_and_the_model_path_variable(
    bucket, models, capsys, monkeypatch
):
    (first, first_sha), (second, second_sha), (worse, _), evaluation = models
    prefix = f"{bucket}/models/"
    common = ["--eval", str(evaluation), "--models-dir", prefix, "--trust-model-path"]
    assert promote.main([str(first), *common]) == 0
    # The candidate may be a URL too: downloaded and checked like any model URL.
    remote.upload_files(sorted(second.parent.iterdir()), f"{bucket}/candidates")
    assert promote.main([f"{bucket}/candidates/model.pkl", *common]) == 0
    assert promote.main([str(worse), *common]) == 1
    assert "Not promoted: macro-recall" in capsys.readouterr().err
    monkeypatch.setenv(config.MODEL_PATH_ENV, prefix)
    from sentiment.model.tiers import load_local_predictor

    assert load_local_predictor().card["model_sha256"] == second_sha
    assert promote.main(["--rollback", "--models-dir", prefix]) == 0
    assert "Serving the model in" in capsys.readouterr().out
    assert load_local_predictor().card["model_sha256"] == first_sha
    # Unsigned, and --model is not trusted by default: refused, clearly.
    with pytest.raises(ModelLoadError, match="signed by a trusted key"):
        load_predictor(prefix)


def test_an_empty_registry_is_a_clear_error(bucket, capsys):
    with pytest.raises(ModelLoadError, match="No model is served from"):
        load_predictor(f"{bucket}/models/", allow_outside_models_dir=True)
    assert promote.main(["--rollback", "--models-dir", f"{bucket}/models/"]) == 2
    assert "No replaced model" in capsys.readouterr().err
    assert promote.main(["--recover", "--models-dir", f"{bucket}/models/"]) == 0
    assert "Nothing to recover" in capsys.readouterr().out


def test_a_pointer_switched_during_the_gate_is_not_overwritten(
    bucket, models, monkeypatch
):
    (first, _), (second, second_sha), _, evaluation = models
    prefix = f"{bucket}/models/"
    real_gate = bucket_promotion.gate

    def gate_while_another_promotes(*args, **kwargs):
        decision = real_gate(*args, **kwargs)
        monkeypatch.setattr(bucket_promotion, "gate", real_gate)
        _promote(second, prefix, evaluation)  # finishes first
        return decision

    monkeypatch.setattr(bucket_promotion, "gate", gate_while_another_promotes)
    with pytest.raises(PromotionError, match="changed while this ran"):
        _promote(first, prefix, evaluation)
    assert json.loads(get(registry.pointer_url(prefix)))["model_sha256"] == second_sha
