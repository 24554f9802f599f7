"""The scheduled retrain workflow (.github/workflows/retrain.yml) is consistent
with the command it runs and the files it proposes (it cannot run here)."""

from __future__ import annotations

import re
import shlex

import yaml

from sentiment import config, retrain

WORKFLOW = config.PROJECT_ROOT / ".github" / "workflows" / "retrain.yml"


def _workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(
        True, workflow.get("on")
    )  # YAML 1.1 reads on: as True
    return workflow


def _steps() -> list[dict]:
    (job,) = _workflow()["jobs"].values()
    return job["steps"]


def test_it_runs_on_a_schedule_and_by_hand():
    trigger = _workflow()["on"]
    assert trigger["schedule"][0]["cron"].count(" ") == 4
    assert "dry_run" in trigger["workflow_dispatch"]["inputs"]


def test_it_passes_only_options_the_command_has():
    script = next(s["run"] for s in _steps() if s.get("id") == "retrain")
    known = {
        option
        for action in retrain.build_parser()._actions
        for option in action.option_strings
    }
    used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", script))
    assert "--auto" in used and used <= known, used - known


def test_a_promoted_candidate_becomes_a_pull_request_of_the_model_files():
    steps = _steps()
    pull = next(s for s in steps if "create-pull-request" in s.get("uses", ""))
    assert pull["if"] == "steps.retrain.outputs.decision == 'promoted'"
    proposed = pull["with"]["add-paths"].split()
    copy = next(s["run"] for s in steps if s.get("name", "").startswith("Put the"))
    copied = shlex.split(re.search(r"for name in ([^;]+);", copy).group(1))
    assert proposed == [f"models/{name}" for name in copied]
    for path in proposed:  # the files the served model is made of
        assert (config.PROJECT_ROOT / path).is_file(), path
    assert pull["with"]["body-path"].endswith("summary.md")
