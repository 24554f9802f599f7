"""Promote and rollback killed at every filesystem step: a load then gets the old
model or the new one, whole, and the next run just works (no manual step).

Every call that changes the file system (and ``os.open``, which creates the
temporary files) is counted; the call numbered ``k`` and every later one raise,
like a process killed there: no clean-up handler gets to touch the files. ``k``
runs from 1 until a run finishes, so each step is a crash point once.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from sentiment.model.artifacts import load_model, read_card, save_model
from sentiment.model.pipeline import build_pipeline
from sentiment.ops import promotion
from sentiment.ops.reference import reference_path
from tests.conftest import TINY_PARAMS, tiny_dataset, write_tiny_csv

CRASH_POINTS = [
    (os, "open"),
    (os, "replace"),
    (os, "rename"),
    (os, "symlink"),
    (os, "fsync"),
    (os, "mkdir"),
    (os, "unlink"),
    (os, "rmdir"),
    (os, "chmod"),
    (shutil, "copyfile"),
]
MAX_STEPS = 500  # far more than a promotion takes; stops a runaway loop


class Killed(BaseException):
    """The process dies at this call (BaseException: nothing catches it)."""


@contextmanager
def killed_at(step: int) -> Iterator[list[int]]:
    """Count file-system calls; the ``step``-th and all later ones raise Killed."""
    calls = [0]
    originals = [(module, name, getattr(module, name)) for module, name in CRASH_POINTS]

    def crashing(name, original):
        def call(*args, **kwargs):
            calls[0] += 1
            if calls[0] >= step:
                raise Killed(f"killed at {name} (call {calls[0]})")
            return original(*args, **kwargs)

        return call

    for module, name, original in originals:
        setattr(module, name, crashing(name, original))
    try:
        yield calls
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def served_sha(models: Path) -> str:
    """Load models/model.pkl as a service would; its profile must be its own."""
    _, card = load_model(models / "model.pkl", allow_outside_models_dir=True)
    profile = reference_path(models / "model.pkl")
    assert json.loads(profile.read_text())["model_sha256"] == card["model_sha256"]
    return card["model_sha256"]


def no_leftovers(models: Path) -> bool:
    hidden = [p for p in models.rglob(".*") if p.name != ".gitkeep"]
    return not hidden


@pytest.fixture()
def models_template(tmp_path):
    """models/ with plain files (as committed), a candidate and an eval file."""
    template = tmp_path / "template"
    template.mkdir()
    _, first = _save(template, seed=0)
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    candidate, second = _save(candidates, seed=1)
    evaluation = write_tiny_csv(tmp_path / "eval.csv")
    return template, candidate, evaluation, first, second


@pytest.fixture(autouse=True)
def quick_gate(monkeypatch):
    """The gate's scores from the card alone (the seed): scoring both models at
    each of the ~130 crash points would repeat the same work, and
    tests/ops/test_promote.py tests the gate. Every load below is real."""

    def metrics(model, texts, labels, trust):
        card = read_card(model)
        return {"model_sha256": card["model_sha256"], "macro_recall": card["seed"]}

    monkeypatch.setattr(promotion, "_metrics", metrics)


def _save(folder: Path, seed: int) -> tuple[Path, str]:
    """A small model (no word vectors: loads in a tenth of the time) and profile."""
    texts, labels = tiny_dataset(seed)
    pipeline = build_pipeline({**TINY_PARAMS, "vector_scale": 0}, seed=seed)
    path = folder / "model.pkl"
    card = save_model(pipeline.fit(texts, labels), path, {"versions": {}, "seed": seed})
    reference_path(path).write_text(json.dumps({"model_sha256": card["model_sha256"]}))
    return path, card["model_sha256"]


def _promote(candidate, evaluation, models):
    return promotion.promote(
        candidate, evaluation, models_dir=models, allow_outside_models_dir=True
    )


@pytest.mark.parametrize("layout", ["plain files", "versioned"])
def test_promote_killed_at_every_step_serves_old_or_new(
    tmp_path, models_template, layout
):
    template, candidate, evaluation, first, second = models_template
    old = first
    if layout == "versioned":  # current -> versions/..., a third model arrives
        _promote(candidate, evaluation, template)
        candidate, third = _save(tmp_path / "candidates", seed=2)
        old, second = second, third
    outcomes = {old: 0, second: 0}
    for step in range(1, MAX_STEPS):
        models = tmp_path / f"run-{step}"
        shutil.copytree(template, models, symlinks=True)
        with killed_at(step) as calls:
            try:
                decision = _promote(candidate, evaluation, models)
            except Killed:
                decision = None
        if decision is not None:  # no call left to kill: every step was tried
            assert decision.promoted and served_sha(models) == second
            assert no_leftovers(models)
            break
        outcomes[served_sha(models)] += 1  # old or new, never a mix
        # No manual step: the next promote cleans up and ends on the new model.
        _promote(candidate, evaluation, models)
        assert served_sha(models) == second and no_leftovers(models)
        shutil.rmtree(models)
    else:
        pytest.fail(f"promote did not finish within {MAX_STEPS} calls")
    print(f"promote ({layout}): {step - 1} crash points, served {outcomes}")
    assert calls[0] == step - 1 and step - 1 >= 20
    assert outcomes[old] > 0 and outcomes[second] > 0  # kills before and after


def test_rollback_killed_at_every_step_serves_old_or_new(tmp_path, models_template):
    template, candidate, evaluation, first, second = models_template
    _promote(candidate, evaluation, template)  # second served, first replaced
    outcomes = {first: 0, second: 0}
    for step in range(1, MAX_STEPS):
        models = tmp_path / f"run-{step}"
        shutil.copytree(template, models, symlinks=True)
        with killed_at(step) as calls:
            try:
                promotion.rollback(models)
                finished = True
            except Killed:
                finished = False
        if finished:
            assert served_sha(models) == first and no_leftovers(models)
            break
        served = served_sha(models)
        outcomes[served] += 1
        if served == second:  # killed before the switch: roll back again
            promotion.rollback(models)
        assert served_sha(models) == first
        promotion.recover(models)
        assert no_leftovers(models)
        shutil.rmtree(models)
    else:
        pytest.fail(f"rollback did not finish within {MAX_STEPS} calls")
    print(f"rollback: {step - 1} crash points, served {outcomes}")
    assert calls[0] == step - 1 and step - 1 >= 10
    assert outcomes[first] > 0 and outcomes[second] > 0
