"""When retraining starts itself: the three triggers of ``python -m
sentiment.retrain --auto``, each a verdict with the facts behind it.

* corrections: at least ``min_corrections`` agreed corrections saved since the
  last run that reached the gate (disagreements never count: retraining
  leaves them out);
* new_files: a labelled CSV/TSV in the watched folder whose SHA-256 no earlier
  run took in;
* drift: the posts logged since the last run (with text, at least
  ``drift_min_rows``) drift from the base training data (sentiment.ops.drift;
  the base data has texts, so the domain-classifier test runs). Drift alone
  waits ``cooldown_hours`` after the last run, since retraining on the same
  labelled data cannot remove it and would otherwise re-fire on every tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sentiment import config
from sentiment.files.storage import file_sha256
from sentiment.model.predictor import Predictor
from sentiment.ops.corrections import AGREED
from sentiment.ops.drift import check_drift
from sentiment.ops.log_queries import format_ts
from sentiment.ops.logstore import PredictionLog

LABELLED_SUFFIXES = (".csv", ".tsv")


@dataclass
class Trigger:
    """One trigger's verdict: ``fired``, a one-line ``detail`` and its ``facts``."""

    name: str
    fired: bool
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def corrections_trigger(
    prediction_log: PredictionLog, since: str | None, threshold: int
) -> Trigger:
    """Fires on ``threshold`` agreed corrections newer than ``since`` (ISO UTC)."""
    sql = "SELECT COUNT(*) AS n FROM corrections WHERE state = ?"
    params: list[Any] = [AGREED]
    if since is not None:
        sql += " AND ts > ?"
        params.append(since)
    count = int(prediction_log.query(sql, params)["n"].iat[0])
    return Trigger(
        "corrections",
        count >= threshold,
        f"{count} new agreed correction(s) (fires at {threshold})",
        {"new_agreed": count, "threshold": threshold},
    )


def new_files_trigger(watch_dir: Path | None, used: set[str]) -> Trigger:
    """Fires on labelled files in ``watch_dir`` that no earlier run took in.

    ``facts["files"]`` maps each new file's path to its SHA-256.
    """
    if watch_dir is None or not Path(watch_dir).is_dir():
        return Trigger("new_files", False, f"no watched folder at {watch_dir}")
    files = sorted(
        p
        for p in Path(watch_dir).iterdir()
        if p.is_file() and p.suffix.lower() in LABELLED_SUFFIXES
    )
    new = {str(p): sha for p in files if (sha := file_sha256(p)) not in used}
    return Trigger(
        "new_files",
        bool(new),
        f"{len(new)} new labelled file(s) of {len(files)} in {watch_dir}",
        {"files": new},
    )


def drift_trigger(
    prediction_log: PredictionLog,
    reference: Path,
    predictor: Predictor,
    since: str | None,
    min_rows: int = int(config.RETRAIN["drift_rows"]),
    cooldown_hours: float = config.RETRAIN["cooldown_h"],
    now: datetime | None = None,
) -> Trigger:
    """Fires when posts logged since ``since`` drift from ``reference``.

    With no earlier run the window is the last ``config.RETRAIN["drift_days"]`` days.
    """
    now = now or datetime.now(timezone.utc)
    if since is not None:
        last = datetime.fromisoformat(since)
        if now - last < timedelta(hours=cooldown_hours):
            return Trigger(
                "drift",
                False,
                f"last run at {since}, within the {cooldown_hours} h cool-down",
            )
        start = last
    else:
        start = now - timedelta(days=config.RETRAIN["drift_days"])
    rows = int(
        prediction_log.query(
            "SELECT COUNT(*) AS n FROM predictions WHERE ts > ? AND text IS NOT NULL "
            "AND label IS NOT NULL",
            (format_ts(start),),
        )["n"].iat[0]
    )
    if rows < min_rows:
        return Trigger(
            "drift",
            False,
            f"{rows} post(s) logged since {format_ts(start)}; drift is checked "
            f"from {min_rows}",
            {"rows": rows},
        )
    report = check_drift(prediction_log.path, reference, predictor, since=start)
    tests = report.tests
    flagged = [name for name, test in tests.items() if test.get("drift") is True]
    facts = {
        "rows": rows,
        "flagged": flagged,
        "statistics": {
            name: test.get("statistic")
            for name, test in tests.items()
            if "statistic" in test
        },
    }
    detail = (
        f"drift in {', '.join(flagged)} over {rows} logged post(s)"
        if flagged
        else f"no drift over {rows} logged post(s)"
    )
    return Trigger("drift", report.drift_detected, detail, facts)
