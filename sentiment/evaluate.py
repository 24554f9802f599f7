"""Metrics for three-class sentiment, and ``python -m sentiment.evaluate``.

The official SemEval-2017 Task 4A metric is macro-averaged recall; accuracy,
macro-F1 and F1-PN (mean F1 of positive and negative) are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support, recall_score

from sentiment import config
from sentiment.artifacts import ModelLoadError
from sentiment.data import DataError, load_labelled, parse_label_map
from sentiment.predict import Predictor, load_predictor

CALIBRATION_BINS = 15


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width bins, weighted by bin size."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap = abs(correct[in_bin].mean() - confidence[in_bin].mean())
            error += in_bin.mean() * gap
    return float(error)


COVERAGE_THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def coverage_table(
    confidence: Sequence[float],
    correct: Sequence[bool],
    thresholds: Sequence[float] = COVERAGE_THRESHOLDS,
) -> list[dict[str, float]]:
    """At each threshold t: the share of posts with confidence >= t and their accuracy.

    That is what auto-labelling above t and reviewing the rest would give;
    accuracy is NaN when no post reaches t.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    rows = []
    for t in thresholds:
        kept = confidence >= t
        rows.append(
            {
                "threshold": float(t),
                "coverage": float(kept.mean()) if len(kept) else float("nan"),
                "accuracy": float(correct[kept].mean()) if kept.any() else float("nan"),
                "n": int(kept.sum()),
            }
        )
    return rows


def compute_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    confidence: Sequence[float] | None = None,
) -> dict[str, Any]:
    """All reported metrics; confusion-matrix rows are true labels in LABELS order."""
    labels = list(config.LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    metrics: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_recall": float(
            recall_score(
                y_true, y_pred, labels=labels, average="macro", zero_division=0
            )
        ),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "f1_pn": float(
            (f1[labels.index("positive")] + f1[labels.index("negative")]) / 2
        ),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    if confidence is not None:
        correct = np.asarray(y_true, dtype=object) == np.asarray(y_pred, dtype=object)
        metrics["expected_calibration_error"] = expected_calibration_error(
            np.asarray(confidence), correct
        )
        metrics["coverage"] = coverage_table(confidence, correct)
    return metrics


def format_metrics(metrics: dict[str, Any]) -> str:
    """Plain-text report of ``compute_metrics`` output."""
    lines = [
        f"n = {metrics['n']:,}",
        f"accuracy      {metrics['accuracy']:.4f}",
        f"macro_recall  {metrics['macro_recall']:.4f}   (official SemEval metric)",
        f"macro_f1      {metrics['macro_f1']:.4f}",
        f"f1_pn         {metrics['f1_pn']:.4f}",
    ]
    if "expected_calibration_error" in metrics:
        lines.append(f"ECE           {metrics['expected_calibration_error']:.4f}")
    lines += ["", f"{'':10} precision  recall     f1  support"]
    for label, m in metrics["per_class"].items():
        lines.append(
            f"{label:10} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:6.4f} "
            f"{m['support']:8,}"
        )
    lines += ["", "confusion matrix (rows = true, columns = predicted)"]
    lines.append(" " * 10 + "".join(f"{label:>10}" for label in config.LABELS))
    for label, row in zip(config.LABELS, metrics["confusion_matrix"]):
        lines.append(f"{label:10}" + "".join(f"{v:10,}" for v in row))
    if "coverage" in metrics:
        lines += [
            "",
            "review threshold t: share auto-labelled (confidence >= t), accuracy",
        ]
        for row in metrics["coverage"]:
            lines.append(
                f"t = {row['threshold']:.1f}   {row['coverage']:6.1%}   "
                f"{row['accuracy']:.4f}"
            )
    return "\n".join(lines)


def evaluate_predictor(
    predictor: Predictor, texts: Sequence[str], labels: Sequence[str]
) -> dict:
    """Score texts with a Predictor and compute metrics against their labels."""
    scored = predictor.score(texts)
    return compute_metrics(labels, scored["sentiment"].tolist(), scored["confidence"])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.evaluate``; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="labelled CSV/TSV")
    parser.add_argument(
        "--model", type=Path, default=None, help="model.pkl to evaluate"
    )
    parser.add_argument(
        "--trust-model-path",
        action="store_true",
        help="allow a --model outside models/",
    )
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label")
    parser.add_argument(
        "--label-map", default=None, help="e.g. 0=negative,1=neutral,2=positive"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        data = load_labelled(
            args.data, args.text_col, args.label_col, parse_label_map(args.label_map)
        )
        predictor = load_predictor(
            args.model, allow_outside_models_dir=args.trust_model_path
        )
    except (DataError, ModelLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(data.report.summary(), file=sys.stderr)
    metrics = evaluate_predictor(predictor, data.texts, data.labels)
    print(json.dumps(metrics) if args.json else format_metrics(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
