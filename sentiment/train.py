"""``python -m sentiment.train``: fit the pipeline on a labelled CSV and save it.

A stratified validation split of the given data is held out, the model is fit
on the rest and scored on it, then refit on all the data (so no labelled row is
wasted) and written with its card. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import logging
import platform
import subprocess
import sys
import time
from collections import Counter
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
from sentiment.data import DataError, file_sha256, load_labelled, parse_label_map
from sentiment.evaluate import compute_metrics, format_metrics
from sentiment.model import build_pipeline
from sentiment.predict import Predictor

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


def train(
    data_path: str | Path,
    out: str | Path = config.DEFAULT_MODEL_PATH,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
    seed: int = config.SEED,
    test_path: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train, validate, refit on all data and save; return the model card."""
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
    data = load_labelled(data_path, text_col, label_col, label_map)
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
        "training_data": _describe_file(data_path, data.labels),
        "skipped_rows": {
            "empty_text": len(data.report.empty_text_rows),
            "unknown_label": len(data.report.unknown_label_rows),
        },
        "seed": seed,
        "validation_size": config.VALIDATION_SIZE,
        "hyperparameters": _jsonable(config.HYPERPARAMS),
        "classes": list(config.LABELS),
        "default_threshold": config.DEFAULT_THRESHOLD,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "training_seconds": round(time.perf_counter() - started, 1),
        "validation_metrics": validation,
        "test_metrics": test,
    }
    card = save_model(pipeline, out, card)
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


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.train``; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.train", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="labelled CSV/TSV")
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
