"""The retraining job behind ``python -m sentiment.retrain --auto``: check the
triggers (sentiment.ops.retrain_triggers); when one fires, train a candidate on
the base data, the new watched files and the agreed corrections, run the
promotion gate on the held-out evaluation set, and record the run in the
prediction log (sentiment.ops.retrain_runs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.storage import file_sha256
from sentiment.model.predictor import load_predictor
from sentiment.ops import retrain_runs as runs
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.promotion import Decision, promote
from sentiment.ops.retrain_triggers import (
    Trigger,
    corrections_trigger,
    drift_trigger,
    new_files_trigger,
)
from sentiment.train import train

log = logging.getLogger(__name__)

NOTHING_FIRED = "nothing fired"
DRY_RUN = "dry run"


@dataclass
class RetrainSettings:
    """Where the data, the models and the log are, and the thresholds."""

    log_db: Path
    base_data: list[Path]
    eval_path: Path
    models_dir: Path = config.MODELS_DIR
    watch_dir: Path | None = config.RETRAIN_IN
    work_dir: Path = config.RETRAIN_OUT
    min_corrections: int = int(config.RETRAIN["corrections"])
    drift_min_rows: int = int(config.RETRAIN["drift_rows"])
    cooldown_hours: float = config.RETRAIN["cooldown_h"]
    margin: float = config.PROMOTION_MARGIN
    seed: int = config.SEED
    text_col: str = "text"
    label_col: str = "label"
    label_map: dict[str, str] | None = None


@dataclass
class Outcome:
    """What a job did: ``decision`` is nothing fired, dry run, or a run's decision."""

    decision: str
    reason: str
    triggers: list[Trigger]
    run_id: int | None = None
    candidate: str | None = None
    card: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def fired(self) -> list[str]:
        return [t.name for t in self.triggers if t.fired]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "fired": self.fired,
            "triggers": [t.to_dict() for t in self.triggers],
            "run_id": self.run_id,
            "candidate": self.candidate,
            "metrics": self.metrics,
        }


def check_triggers(settings: RetrainSettings, prediction_log: PredictionLog) -> list:
    """Every trigger's verdict, against the last recorded run."""
    last = runs.last_run(prediction_log)
    since = last["started_at"] if last else None
    # Corrections count from the last run that used them: a failed run did not.
    done = runs.last_run(prediction_log, completed=True)
    triggers = [
        corrections_trigger(
            prediction_log, done and done["started_at"], settings.min_corrections
        ),
        new_files_trigger(settings.watch_dir, runs.used_file_hashes(prediction_log)),
    ]
    served = settings.models_dir / config.DEFAULT_MODEL_PATH.name
    if not served.is_file():
        triggers.append(Trigger("drift", False, f"no served model at {served}"))
    else:
        # The served model lives in models_dir, which the caller chose.
        predictor = load_predictor(served, allow_outside_models_dir=True)
        triggers.append(
            drift_trigger(
                prediction_log,
                settings.base_data[0],
                predictor,
                since,
                settings.drift_min_rows,
                settings.cooldown_hours,
            )
        )
    return triggers


def run_auto(settings: RetrainSettings, dry_run: bool = False) -> Outcome:
    """Check the triggers; retrain, gate and record when one fires."""
    for path in [*settings.base_data, settings.eval_path]:
        if not Path(path).is_file():
            raise ValueError(f"{path} does not exist or is not a file.")
    with PredictionLog(settings.log_db) as prediction_log:
        triggers = check_triggers(settings, prediction_log)
        fired = [t for t in triggers if t.fired]
        if not fired or dry_run:
            summary = "; ".join(f"{t.name}: {t.detail}" for t in triggers)
            return Outcome(DRY_RUN if dry_run else NOTHING_FIRED, summary, triggers)
        return _retrain(settings, prediction_log, triggers)


def _retrain(
    settings: RetrainSettings, prediction_log: PredictionLog, triggers: list[Trigger]
) -> Outcome:
    """Train, gate and record one run (recorded as failed if anything raises)."""
    fired = [t for t in triggers if t.fired]
    detail = {t.name: t.to_dict() for t in triggers}
    run_id = runs.start_run(prediction_log, "+".join(t.name for t in fired), detail)
    new_files = {
        path: sha
        for t in triggers
        if t.name == "new_files"
        for path, sha in t.facts.get("files", {}).items()
    }
    hashes: dict[str, Any] = {"new_files": new_files}
    try:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        candidate = settings.work_dir / f"run-{run_id}-{stamp}" / "model.pkl"
        card = train(
            [*settings.base_data, *map(Path, new_files)],
            candidate,
            settings.text_col,
            settings.label_col,
            settings.label_map,
            settings.seed,
            progress=False,
            feedback_db=settings.log_db,
        )
        hashes.update(_data_hashes(card, settings.eval_path))
        # Trusted: this job trained the candidate a moment ago.
        decision = promote(
            candidate,
            settings.eval_path,
            settings.margin,
            settings.models_dir,
            allow_outside_models_dir=True,
            text_col=settings.text_col,
            label_col=settings.label_col,
            label_map=settings.label_map,
        )
    except BaseException as error:
        runs.finish_run(
            prediction_log,
            run_id,
            runs.FAILED,
            f"{type(error).__name__}: {error}",
            hashes,
        )
        raise
    metrics = _metrics(decision, card)
    outcome = runs.PROMOTED if decision.promoted else runs.REJECTED
    runs.finish_run(
        prediction_log,
        run_id,
        outcome,
        decision.reason,
        hashes,
        metrics,
        str(candidate),
        card["model_sha256"],
    )
    return Outcome(
        outcome, decision.reason, triggers, run_id, str(candidate), card, metrics
    )


def _data_hashes(card: dict[str, Any], eval_path: Path) -> dict[str, Any]:
    """SHA-256 and rows of each training source (corrections included) and of
    the evaluation set."""
    training = card["training_data"]
    sources = training.get("sources", [training])
    return {
        "training": [
            {key: source.get(key) for key in ("file", "sha256", "rows_used")}
            for source in sources
        ],
        "training_sha256": training.get("sha256"),
        "eval": {"file": Path(eval_path).name, "sha256": file_sha256(eval_path)},
    }


def _metrics(decision: Decision, card: dict[str, Any]) -> dict[str, Any]:
    """The gate's numbers (candidate vs current on the evaluation set)."""
    keep = ("macro_recall", "accuracy", "macro_f1", "n", "model_sha256")
    side = lambda m: m and {k: m.get(k) for k in keep}  # noqa: E731
    return {
        "candidate": side(decision.candidate),
        "current": side(decision.current),
        "margin": decision.margin,
        "validation_macro_recall": card["validation_metrics"].get("macro_recall"),
    }
