"""Training data from files plus reviewers' corrections in the prediction log."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.files.labelled import LabelledData, LoadReport, load_labelled
from sentiment.model.card import describe_file
from sentiment.ops.logstore import PredictionLog

log = logging.getLogger(__name__)


@dataclass
class _CombinedReport:
    """The LoadReports of several sources, read like one."""

    parts: list[LoadReport]

    @property
    def empty_text_rows(self) -> list[int]:
        return [row for part in self.parts for row in part.empty_text_rows]

    @property
    def unknown_label_rows(self) -> list[int]:
        return [row for part in self.parts for row in part.unknown_label_rows]

    def summary(self) -> str:
        return "\n".join(part.summary() for part in self.parts)


def load_feedback(db_path: str | Path) -> LabelledData:
    """Reviewers' agreed corrections from the prediction log, as labelled rows.

    A post's label is the one most of its reviewers gave (each reviewer's
    latest label is one vote, see sentiment.ops.corrections); posts where the
    top labels tie are disagreements, left out and counted in a warning.
    Corrections whose prediction was logged without text are reported as
    skipped (by prediction id), never silently left out.
    """
    if not Path(db_path).is_file():
        raise DataError(f"No prediction log at {db_path}: no feedback to include.")
    with PredictionLog(db_path) as prediction_log:
        texts, labels, skipped = prediction_log.feedback_rows()
        disagreements = prediction_log.stats()["disagreements"]
    if disagreements:
        log.warning(
            "%d corrected post(s) in %s are left out: their reviewers disagree "
            "(settle them on the page's Review tab).",
            disagreements,
            db_path,
        )
    report = LoadReport(
        f"corrections in {db_path}", len(texts) + len(skipped), empty_text_rows=skipped
    )
    return LabelledData(texts, labels, report)


def load_training_data(
    data_paths: str | Path | Sequence[str | Path],
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
    feedback_db: str | Path | None = None,
) -> tuple[LabelledData, dict[str, Any]]:
    """Load and concatenate labelled files (+ log corrections); describe the sources.

    Returns the data and the card's ``training_data`` entry; with one file and
    no feedback that entry is the file's own description, as before.
    """
    paths = [data_paths] if isinstance(data_paths, (str, Path)) else list(data_paths)
    parts = [load_labelled(path, text_col, label_col, label_map) for path in paths]
    described = [describe_file(path, part.labels) for path, part in zip(paths, parts)]
    if feedback_db is not None:
        feedback = load_feedback(feedback_db)
        parts.append(feedback)
        digest = hashlib.sha256(
            json.dumps([feedback.texts, feedback.labels]).encode("utf-8", "replace")
        )
        counts = Counter(feedback.labels)
        described.append(
            {
                "file": f"corrections in {Path(feedback_db).name}",
                "sha256": digest.hexdigest(),
                "rows_used": len(feedback.labels),
                "label_counts": {label: counts[label] for label in config.LABELS},
            }
        )
    if len(parts) == 1:
        return parts[0], described[0]
    data = LabelledData(
        [t for part in parts for t in part.texts],
        [label for part in parts for label in part.labels],
        _CombinedReport([part.report for part in parts]),  # type: ignore[arg-type]
    )
    counts = Counter(data.labels)
    combined = {
        "file": " + ".join(d["file"] for d in described),
        "sha256": hashlib.sha256(
            "".join(d["sha256"] for d in described).encode()
        ).hexdigest(),
        "rows_used": len(data.labels),
        "label_counts": {label: counts[label] for label in config.LABELS},
        "sources": described,
    }
    return data, combined
