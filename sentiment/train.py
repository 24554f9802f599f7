"""``python -m sentiment.train``: fit the pipeline on a labelled CSV and save it.

A stratified validation split of the given data is held out, the model is fit
on the rest and scored on it, then refit on all the data (so no labelled row is
wasted) and written with its card. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import joblib
import nltk
import numpy as np
import pandas as pd
import scipy
import sklearn
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from sentiment import config
from sentiment.artifacts import save_model
from sentiment.data import (
    DataError,
    LabelledData,
    LoadReport,
    file_sha256,
    load_labelled,
    parse_label_map,
)
from sentiment.evaluate import compute_metrics, format_metrics
from sentiment.logstore import PredictionLog, log_path_from_env
from sentiment.model import build_pipeline
from sentiment.predict import Predictor
from sentiment.reference import build_reference, save_reference

log = logging.getLogger(__name__)


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickle loads and predicts the same."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "nltk": nltk.__version__,
        "joblib": joblib.__version__,
    }


def git_commit() -> str | None:
    """The checkout's commit (with "-dirty" if it has changes), or None outside git."""
    try:
        run = lambda *cmd: subprocess.run(  # noqa: E731
            cmd, cwd=config.PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("git", "rev-parse", "HEAD")
        dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


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
    """Reviewers' corrections from the prediction log, as labelled rows.

    Corrections whose prediction was logged without text are reported as
    skipped (by prediction id), never silently left out.
    """
    if not Path(db_path).is_file():
        raise DataError(f"No prediction log at {db_path}: no feedback to include.")
    with PredictionLog(db_path) as prediction_log:
        texts, labels, skipped = prediction_log.feedback_rows()
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
    described = [_describe_file(path, part.labels) for path, part in zip(paths, parts)]
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


def train(
    data_path: str | Path | Sequence[str | Path],
    out: str | Path = config.DEFAULT_MODEL_PATH,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
    seed: int = config.SEED,
    test_path: str | Path | None = None,
    progress: bool = True,
    feedback_db: str | Path | None = None,
) -> dict[str, Any]:
    """Train, validate, refit on all data and save; return the model card.

    ``data_path`` may be several files; ``feedback_db`` adds the reviewers'
    corrections from that prediction log. A reference profile for drift checks
    is saved beside the model (see sentiment.reference).
    """
    started = time.perf_counter()
    steps = ["load data", "fit on training split", "validate", "refit on all data"]
    steps += ["evaluate on test set"] * (test_path is not None) + ["save"]
    bar = tqdm(total=len(steps), desc="training", unit="step", disable=not progress)
    begun: list[str] = []

    def step(name: str) -> None:
        if begun:
            bar.update(1)
        begun.append(name)
        bar.set_postfix_str(name)

    step("load data")
    data, training_data = load_training_data(
        data_path, text_col, label_col, label_map, feedback_db
    )
    log.info(data.report.summary())
    counts = Counter(data.labels)
    missing = [label for label in config.LABELS if counts[label] < 2]
    if missing:
        raise DataError(
            f"Need at least 2 examples of every class to train; too few of "
            f"{', '.join(missing)} in {data_path} (counts: {dict(counts)})."
        )
    train_x, val_x, train_y, val_y = train_test_split(
        data.texts,
        data.labels,
        test_size=config.VALIDATION_SIZE,
        stratify=data.labels,
        random_state=seed,
    )

    step("fit on training split")
    pipeline = build_pipeline(seed=seed).fit(train_x, train_y)
    step("validate")
    scored = Predictor(pipeline).score(val_x)
    validation = compute_metrics(
        val_y, scored["sentiment"].tolist(), scored["confidence"]
    )
    reference = build_reference(
        pipeline, val_x, scored, val_y, "validation split", seed
    )

    step("refit on all data")
    pipeline = build_pipeline(seed=seed).fit(data.texts, data.labels)

    test = None
    if test_path is not None:
        step("evaluate on test set")
        test_data = load_labelled(test_path, text_col, label_col, label_map)
        scored = Predictor(pipeline).score(test_data.texts)
        test = {
            "data": _describe_file(test_path, test_data.labels),
            **compute_metrics(
                test_data.labels, scored["sentiment"].tolist(), scored["confidence"]
            ),
        }

    step("save")
    card = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": training_data,
        "skipped_rows": {
            "empty_text": len(data.report.empty_text_rows),
            "unknown_label": len(data.report.unknown_label_rows),
        },
        "seed": seed,
        "validation_size": config.VALIDATION_SIZE,
        "hyperparameters": _jsonable(config.HYPERPARAMS),
        "word_vectors": _describe_vectors(pipeline),
        "classes": list(config.LABELS),
        "default_threshold": config.DEFAULT_THRESHOLD,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "training_seconds": round(time.perf_counter() - started, 1),
        "validation_metrics": validation,
        "test_metrics": test,
    }
    card = save_model(pipeline, out, card)
    save_reference(reference, out, card)
    bar.update(1)
    bar.close()
    return card


def _describe_file(path: str | Path, labels: Sequence[str]) -> dict[str, Any]:
    counts = Counter(labels)
    return {
        "file": Path(path).name,
        "sha256": file_sha256(path),
        "rows_used": len(labels),
        "label_counts": {label: counts[label] for label in config.LABELS},
    }


def _describe_vectors(pipeline: Any) -> dict[str, Any] | None:
    """The word-vectors file the model was fitted with (None when the block is off)."""
    union = pipeline.named_steps["features"]
    if "vectors" not in union.named_transformers:
        return None
    path = union.named_transformers["vectors"].source_path()
    return {"file": path.name, "sha256": file_sha256(path)}


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.train``; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.train", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        action="append",
        help="labelled CSV/TSV; repeat to train on several files",
    )
    parser.add_argument(
        "--include-feedback",
        nargs="?",
        type=Path,
        const=log_path_from_env() or config.DEFAULT_LOG_DB,
        default=None,
        metavar="LOG_DB",
        help="add reviewers' corrections from the prediction log "
        f"(default {config.LOG_DB_ENV} or {config.DEFAULT_LOG_DB.name})",
    )
    parser.add_argument("--text-col", default="text", help="column with the posts")
    parser.add_argument("--label-col", default="label", help="column with the labels")
    parser.add_argument(
        "--label-map",
        default=None,
        help="map raw label values, e.g. 0=negative,1=neutral,2=positive",
    )
    parser.add_argument("--out", type=Path, default=config.DEFAULT_MODEL_PATH)
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument(
        "--test-data",
        type=Path,
        default=None,
        help="held-out labelled file scored once after training, recorded in the card",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        card = train(
            args.data,
            args.out,
            args.text_col,
            args.label_col,
            parse_label_map(args.label_map),
            args.seed,
            args.test_data,
            progress=not args.no_progress,
            feedback_db=args.include_feedback,
        )
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"\nValidation ({config.VALIDATION_SIZE:.0%} stratified split of the data):")
    print(format_metrics(card["validation_metrics"]))
    if card["test_metrics"]:
        print(f"\nTest set {card['test_metrics']['data']['file']}:")
        print(format_metrics(card["test_metrics"]))
    print(
        f"\nSaved {args.out} ({card['model_bytes'] / 1e6:.1f} MB) and its card "
        f"{Path(args.out).with_suffix('.json')} in {card['training_seconds']} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
