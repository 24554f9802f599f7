"""The committed model's confidence means what it says on the benchmark."""

import numpy as np
import pandas as pd

from sentiment import config
from sentiment.model.metrics import coverage_table, expected_calibration_error
from tests.conftest import needs_semeval


def _test_sample(n: int = 4_000) -> pd.DataFrame:
    data = pd.read_csv(config.SEMEVAL_TEST, dtype=str, keep_default_na=False)
    return data.sample(n, random_state=0)


@needs_semeval
def test_confidence_is_calibrated_on_a_test_sample(committed_predictor):
    sample = _test_sample()
    scored = committed_predictor.score(sample["text"].tolist())
    correct = scored["sentiment"].to_numpy() == sample["label"].to_numpy()
    # 4,000 posts: sampling noise in the ECE is about 0.01, the target 0.05.
    assert expected_calibration_error(scored["confidence"], correct) <= 0.05


@needs_semeval
def test_higher_thresholds_trade_coverage_for_accuracy(committed_predictor):
    sample = _test_sample()
    scored = committed_predictor.score(sample["text"].tolist())
    correct = scored["sentiment"].to_numpy() == sample["label"].to_numpy()
    rows = coverage_table(scored["confidence"], correct, (0.4, 0.6, 0.8))
    coverage = [r["coverage"] for r in rows]
    accuracy = [r["accuracy"] for r in rows]
    assert coverage == sorted(coverage, reverse=True)
    assert accuracy == sorted(accuracy)
    assert accuracy[-1] > np.mean(correct) + 0.1
