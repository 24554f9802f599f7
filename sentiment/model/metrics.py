"""Metrics of a model on labelled posts: accuracy, macro recall (the SemEval
metric), F1, calibration error and the review-threshold coverage table."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
)

from sentiment import config
from sentiment.model.predictor import Predictor

CALIBRATION_BINS = 15


def expected_calibration_error(
    confidence: np.ndarray,
    correct: np.ndarray,
    bins: int = CALIBRATION_BINS,
    weights: np.ndarray | None = None,
) -> float:
    """Mean |accuracy - confidence| over equal-width bins, weighted by bin size.

    ``weights`` (one per post) count posts unequally, e.g. to read the error
    under another class mix than the sample's.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    weights = np.ones_like(confidence) if weights is None else np.asarray(weights)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        mass = weights[in_bin].sum()
        if mass > 0:
            w = weights[in_bin]
            gap = abs(
                np.average(correct[in_bin], weights=w)
                - np.average(confidence[in_bin], weights=w)
            )
            error += mass / weights.sum() * gap
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
