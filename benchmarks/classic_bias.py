"""Would a per-class decision bias lift the classic model's macro-recall?

    python benchmarks/classic_bias.py

Fits the classic pipeline on the 90 % fit part of train.csv (the split
sentiment.train uses), scores the 10 % held-out part, and cross-fits a
per-class log-probability offset (sentiment.model.calibration.fit_class_bias)
on one half of the held-out part and measures it on the other, both ways. The
test set is not read: this is evidence for issue 16 item 3, not a retrain.
"""

from __future__ import annotations

import sys

import numpy as np

from sentiment import config
from sentiment.files.labelled import held_out_split, load_labelled
from sentiment.model.calibration import fit_class_bias, macro_recall_of
from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import Predictor


def main() -> int:
    data = load_labelled(config.SEMEVAL_TRAIN)
    fit_x, val_x, fit_y, val_y = held_out_split(data.texts, data.labels, config.SEED)
    predictor = Predictor(build_pipeline(seed=config.SEED).fit(fit_x, fit_y))
    probabilities, _ = predictor._probabilities(list(val_x))
    logs = np.log(np.clip(probabilities, 1e-9, 1.0))
    labels = np.array([config.LABELS.index(y) for y in val_y])
    halves = np.random.default_rng(config.SEED).permutation(len(labels)) % 2 == 0
    n = len(config.LABELS)
    print(f"held-out part: {len(labels)} posts; classes {config.LABELS}")
    for name, fit_on, measure_on in (
        ("A->B", halves, ~halves),
        ("B->A", ~halves, halves),
    ):
        bias = fit_class_bias(logs[fit_on], labels[fit_on])
        before = macro_recall_of(labels[measure_on], logs[measure_on].argmax(1), n)
        after = macro_recall_of(
            labels[measure_on], (logs[measure_on] + bias).argmax(1), n
        )
        print(
            f"{name}: bias {np.round(bias, 2).tolist()}, macro-recall "
            f"{before:.4f} -> {after:.4f} ({after - before:+.4f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
