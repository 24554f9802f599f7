"""dvc.yaml: the stages run commands that exist, on files that exist, with the
hyperparameters of params.yaml; with DVC installed (make dvc-install), its own
parser agrees. No stage is run here (training takes minutes); the remote is
tested in test_dvc_remote.py."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess

import pytest
import yaml

from sentiment import config

ROOT = config.PROJECT_ROOT
DVC = ROOT / ".venv-dvc" / "bin" / "dvc"
ARTIFACTS_DIR = "dvc-artifacts/"
REGENERATE_LOCK = (
    "dvc.lock does not match the committed file: after committing new vectors or a "
    "new transformer, run dvc commit -f vectors transformer && dvc repro artifacts"
)


def _stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _path(entry) -> str:
    return next(iter(entry)) if isinstance(entry, dict) else entry


def test_every_stage_runs_a_module_of_this_package():
    for name, stage in _stages().items():
        if name == "artifacts":  # copies files (the next tests)
            continue
        modules = re.findall(r"-m (sentiment\.\w+)", stage["cmd"])
        assert modules, name
        for module in modules:
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module


def test_repo_dependencies_exist_and_data_comes_from_shared():
    for name, stage in _stages().items():
        for dep in map(_path, stage["deps"]):
            if dep.startswith("${data}"):
                continue
            assert (ROOT / dep).exists(), f"{name}: {dep}"


def test_train_reads_params_yaml_and_writes_the_committed_model_files():
    train = _stages()["train"]
    assert train["params"] == ["train"]  # every key of params.yaml's section
    outs = {_path(o): o[_path(o)] for o in train["outs"]}
    for name in ("model.pkl", "model.npz", "model.json", "model.reference.json"):
        # Kept in git (the two-command start), not moved into DVC's cache.
        assert outs[f"models/{name}"] == {"cache": False}
        assert (ROOT / "models" / name).is_file()


def test_the_slow_stages_are_frozen_and_the_cascade_completes_their_card():
    stages = _stages()
    assert stages["vectors"]["frozen"] and stages["transformer"]["frozen"]
    assert "--backend transformer" in stages["transformer"]["cmd"]
    assert "requirements-transformer-train.txt" in stages["transformer"]["deps"]
    cascade = stages["cascade"]
    assert "--backend cascade" in cascade["cmd"] and "frozen" not in cascade
    assert cascade["params"] == ["train"]  # its classic model uses params.yaml
    # The card is read and rewritten in place: DVC must not delete it first.
    card = cascade["outs"][0]["models/transformer/model.json"]
    assert card == {"cache": False, "persist": True}


def test_the_remote_holds_a_copy_of_every_output_of_the_frozen_stages():
    stages = _stages()
    frozen_outs = [
        _path(out)
        for stage in stages.values()
        if stage.get("frozen")
        for out in stage["outs"]
    ]
    artifacts = stages["artifacts"]
    assert sorted(artifacts["deps"]) == sorted(frozen_outs)
    copies = [ARTIFACTS_DIR + dep.removeprefix("models/") for dep in frozen_outs]
    # Cached (what dvc push sends), unlike every other output.
    assert sorted(artifacts["outs"]) == sorted(copies)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ARTIFACTS_DIR + "x"], cwd=ROOT
    )
    assert ignored.returncode == 0, f"{ARTIFACTS_DIR} must be git-ignored"


def test_the_lock_records_the_committed_large_files():
    """dvc.lock's hashes are the committed files' own: the remote's copies are
    the files the app loads."""
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    entries = [
        entry
        for name in ("vectors", "transformer", "artifacts")
        for entry in lock[name]["outs"] + lock[name]["deps"]
        if entry["path"].startswith(("models/", ARTIFACTS_DIR))
    ]
    assert len({entry["path"] for entry in entries}) == 6  # 3 in models/, 3 copies
    for entry in entries:
        committed = ROOT / entry["path"].replace(ARTIFACTS_DIR, "models/")
        digest = hashlib.md5(committed.read_bytes()).hexdigest()
        assert digest == entry["md5"], f"{entry['path']}: {REGENERATE_LOCK}"


def test_the_metrics_come_from_the_evaluate_stage():
    evaluate = _stages()["evaluate"]
    assert "--json" in evaluate["cmd"]
    assert [_path(m) for m in evaluate["metrics"]] == ["reports/metrics.json"]


@pytest.mark.skipif(
    not DVC.exists() or shutil.which("git") is None,
    reason="DVC is not installed: make dvc-install (requirements-dvc.txt)",
)
def test_dvc_reads_the_pipeline_as_four_connected_stages():
    result = subprocess.run(
        [str(DVC), "dag", "--dot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    edges = set(re.findall(r'"(\w+)" -> "(\w+)"', result.stdout))
    assert edges == {
        ("vectors", "train"),
        ("train", "evaluate"),
        ("train", "report"),
        ("vectors", "cascade"),
        ("transformer", "cascade"),
        ("vectors", "artifacts"),
        ("transformer", "artifacts"),
    }
