"""dvc.yaml: the stages run commands that exist, on files that exist, with the
hyperparameters of params.yaml; with DVC installed (make dvc-install), its own
parser agrees. No stage is run here (training takes minutes)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from sentiment import config

ROOT = config.PROJECT_ROOT
DVC = ROOT / ".venv-dvc" / "bin" / "dvc"


def _stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _path(entry) -> str:
    return next(iter(entry)) if isinstance(entry, dict) else entry


def test_every_stage_runs_a_module_of_this_package():
    for name, stage in _stages().items():
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
    assert edges == {("vectors", "train"), ("train", "evaluate"), ("train", "report")}
