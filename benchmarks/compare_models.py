"""Our model against the classic baselines on the SemEval-2017 test set, in one run.

    python benchmarks/compare_models.py [--baseline-rev a3e2e9c]

Scores the same test posts, in the same process, with:

* the committed model (``models/model.pkl``), through ``Predictor.score``;
* optionally the model committed at ``--baseline-rev`` (the core issue's);
* a unigram TF-IDF + LogisticRegression baseline, fitted here on train.csv;
* VADER (vaderSentiment): compound >= 0.05 positive, <= -0.05 negative,
  else neutral (the cut-offs its authors recommend);
* TextBlob (its bundled pattern lexicon, no downloads): polarity > 0
  positive, < 0 negative, 0 neutral.

Prints accuracy, macro-recall (the official metric), macro-F1, F1-PN and
throughput (posts/s, one thread, whole test set, median of ``--repeats``) and
writes the table to ``benchmarks/compare_models.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from textblob import TextBlob
from threadpoolctl import threadpool_limits
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.metrics import compute_metrics
from sentiment.model.predictor import Predictor, load_predictor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scoring_speed import model_from_git  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "compare_models.md"
Labeller = Callable[[Sequence[str]], list[str]]


def predictor_labeller(predictor: Predictor) -> Labeller:
    return lambda texts: predictor.score(texts)["sentiment"].tolist()


def unigram_baseline(train_texts: list[str], train_labels: list[str]) -> Labeller:
    """Plain unigram TF-IDF + LogisticRegression with scikit-learn defaults."""
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1_000))
    model.fit(train_texts, train_labels)
    return lambda texts: list(model.predict(texts))


def vader_labeller() -> Labeller:
    analyzer = SentimentIntensityAnalyzer()

    def label(texts: Sequence[str]) -> list[str]:
        compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
        return _by_sign(compound, 0.05)

    return label


def textblob_labeller() -> Labeller:
    def label(texts: Sequence[str]) -> list[str]:
        polarity = np.array([TextBlob(t).sentiment.polarity for t in texts])
        return _by_sign(polarity, 0.0)

    return label


def _by_sign(score: np.ndarray, cutoff: float) -> list[str]:
    labels = np.full(len(score), "neutral", dtype=object)
    labels[score >= cutoff if cutoff else score > 0] = "positive"
    labels[score <= -cutoff if cutoff else score < 0] = "negative"
    return list(labels)


def measure(label: Labeller, texts: list[str], repeats: int) -> tuple[list[str], float]:
    """Labels for ``texts`` and the median throughput in posts per second."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        predicted = label(texts)
        seconds.append(time.perf_counter() - started)
    return predicted, len(texts) / statistics.median(seconds)


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| system | accuracy | macro-recall | macro-F1 | F1-PN | posts/s (1 thread) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['accuracy']:.3f} | {r['macro_recall']:.3f} | "
            f"{r['macro_f1']:.3f} | {r['f1_pn']:.3f} | {r['posts_per_s']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=config.SEMEVAL_TRAIN)
    parser.add_argument("--test", type=Path, default=config.SEMEVAL_TEST)
    parser.add_argument("--baseline-rev", help="also score the model at this git rev")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    train = load_labelled(args.train)
    test = load_labelled(args.test)
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        systems: dict[str, tuple[Labeller, int]] = {
            "this project (models/model.pkl)": (
                predictor_labeller(load_predictor()),
                args.repeats,
            ),
        }
        if args.baseline_rev:
            old = load_predictor(
                model_from_git(args.baseline_rev, Path(tmp)),
                allow_outside_models_dir=True,
            )
            systems[f"core model @{args.baseline_rev}"] = (
                predictor_labeller(old),
                args.repeats,
            )
        systems["unigram TF-IDF + LR"] = (
            unigram_baseline(train.texts, train.labels),
            args.repeats,
        )
        # The lexicon tools are slow; one timed pass each is enough.
        systems["VADER (compound, ±0.05)"] = (vader_labeller(), 1)
        systems["TextBlob (polarity sign)"] = (textblob_labeller(), 1)

        rows = []
        for name, (label, repeats) in systems.items():
            predicted, speed = measure(label, test.texts, repeats)
            metrics = compute_metrics(test.labels, predicted)
            rows.append({"system": name, "posts_per_s": speed, **metrics})
            print(f"{name}: macro-recall {metrics['macro_recall']:.4f}", flush=True)

    table = markdown_table(rows)
    header = (
        f"SemEval-2017 test set ({len(test.texts):,} tweets); written by "
        "`python benchmarks/compare_models.py`.\n\n"
    )
    args.output.write_text(header + table + "\n", encoding="utf-8")
    print()
    print(table)
    print(f"\nWrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
