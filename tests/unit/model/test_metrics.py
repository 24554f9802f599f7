import math

import numpy as np
import pytest

from sentiment.model.metrics import (
    compute_metrics,
    coverage_table,
    expected_calibration_error,
)


def test_perfect_predictions():
    y = ["negative", "neutral", "positive", "neutral"]
    m = compute_metrics(y, y)
    assert m["accuracy"] == m["macro_recall"] == m["macro_f1"] == m["f1_pn"] == 1.0
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]
    assert m["n"] == 4


def test_metrics_by_hand():
    y_true = ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    y_pred = ["negative", "neutral", "neutral", "neutral", "positive", "negative"]
    m = compute_metrics(y_true, y_pred)
    # recall: negative 1/2, neutral 2/2, positive 1/2
    assert m["macro_recall"] == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # negative: precision 1/2, recall 1/2 -> F1 0.5; positive: P 1, R 1/2 -> 2/3
    assert m["f1_pn"] == pytest.approx((0.5 + 2 / 3) / 2)
    # rows are true labels in the order negative, neutral, positive
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["neutral"]["precision"] == pytest.approx(2 / 3)


def test_ece_is_zero_when_confidence_matches_accuracy():
    confidence = np.full(10, 0.7)
    correct = np.array([1] * 7 + [0] * 3)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0)


def test_ece_measures_overconfidence():
    confidence = np.full(10, 0.95)
    correct = np.array([1] * 5 + [0] * 5)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.45)


def test_coverage_table_counts_posts_at_or_above_each_threshold():
    confidence = [0.35, 0.55, 0.65, 0.95]
    correct = [False, False, True, True]
    rows = coverage_table(confidence, correct, thresholds=(0.5, 0.6, 0.99))
    assert [r["n"] for r in rows] == [3, 2, 0]
    assert rows[0]["coverage"] == 0.75 and rows[0]["accuracy"] == pytest.approx(2 / 3)
    assert rows[1]["accuracy"] == 1.0
    assert math.isnan(rows[2]["accuracy"])


def test_metrics_with_confidence_include_the_coverage_table():
    y_true = ["positive", "negative", "neutral", "neutral"]
    y_pred = ["positive", "negative", "positive", "neutral"]
    m = compute_metrics(y_true, y_pred, confidence=[0.9, 0.8, 0.65, 0.5])
    at = {row["threshold"]: row for row in m["coverage"]}
    assert at[0.6]["coverage"] == pytest.approx(0.75)
    assert at[0.6]["accuracy"] == pytest.approx(2 / 3)
    assert at[0.7]["accuracy"] == 1.0


def test_weighted_ece_counts_a_post_of_weight_two_as_two_posts():
    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.34, 1.0, 500)
    correct = rng.uniform(size=500) < confidence**2  # overconfident
    weights = rng.integers(1, 4, 500)
    repeated = expected_calibration_error(
        np.repeat(confidence, weights), np.repeat(correct, weights)
    )
    weighted = expected_calibration_error(confidence, correct, weights=weights)
    assert weighted == pytest.approx(repeated, abs=1e-12)
    assert weighted != pytest.approx(expected_calibration_error(confidence, correct))
