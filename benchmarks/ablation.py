"""What each feature group is worth: the default pipeline with one part taken out.

    python benchmarks/ablation.py [--test]

Every variant is fitted on the SemEval training data except its most recent
release (twitter-2016test) and scored on that release: the tuning protocol,
which never touches test.csv, with a later period of tweets as the held-out
part because the test set is later still. With ``--test`` each variant is
also refitted on all of train.csv and scored once on test.csv (for the report,
not for choosing). Writes ``benchmarks/ablation.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from sentiment import config
from sentiment.model.metrics import compute_metrics
from sentiment.model.pipeline import build_pipeline

OUTPUT = Path(__file__).resolve().parent / "ablation.md"
HELD_OUT_SOURCE = "twitter-2016test"

# name -> (hyperparameter overrides, pipeline set_params overrides)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default pipeline": ({}, {}),
    "- word vectors": ({"vector_scale": 0}, {}),
    "- VADER lexicon columns": ({"lexicon_scale": 0}, {}),
    "- NB feature weights": ({"nb_alpha": 0.0}, {}),
    "- negation marks": ({}, {"prepare__mark_negation": False}),
    "- character n-grams": ({}, {"features__char": "drop"}),
    "- word n-grams": ({}, {"features__word": "drop"}),
    "word unigrams only": ({"word_ngram_range": (1, 1)}, {}),
    "- class weights": ({"class_weight": None}, {}),
    "core issue's settings (C=1, no lexicon, no NB weights, no vectors)": (
        {"C": 1.0, "lexicon_scale": 0, "nb_alpha": 0.0, "vector_scale": 0},
        {},
    ),
}


def variant(params: dict[str, Any], steps: dict[str, Any]) -> Pipeline:
    return build_pipeline(params).set_params(**steps)


def score(pipeline: Pipeline, texts: list[str], labels: list[str]) -> dict:
    probabilities = pipeline.predict_proba(texts)
    predicted = pipeline.classes_[probabilities.argmax(axis=1)]
    return compute_metrics(labels, list(predicted), probabilities.max(axis=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", action="store_true", help="also score on test.csv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    train = pd.read_csv(config.SEMEVAL_TRAIN, dtype=str, keep_default_na=False)
    held = (train["source"] == HELD_OUT_SOURCE).to_numpy()
    fit_part, held_part = train[~held], train[held]
    test = pd.read_csv(config.SEMEVAL_TEST, dtype=str, keep_default_na=False)

    rows = []
    for name, (params, steps) in VARIANTS.items():
        started = time.perf_counter()
        pipeline = variant(params, steps).fit(
            fit_part["text"].tolist(), fit_part["label"].tolist()
        )
        row = {
            "variant": name,
            "held": score(pipeline, held_part["text"].tolist(), held_part["label"]),
        }
        if args.test:
            pipeline = variant(params, steps).fit(
                train["text"].tolist(), train["label"].tolist()
            )
            row["test"] = score(pipeline, test["text"].tolist(), test["label"])
        rows.append(row)
        print(
            f"{name}: held-out macro-recall {row['held']['macro_recall']:.4f}"
            f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )

    table = markdown_table(rows, args.test, len(held_part), len(test))
    args.output.write_text(table + "\n" + notes_below_table(args.output), "utf-8")
    print()
    print(table)
    print(f"\nWrote {args.output}")
    return 0


def notes_below_table(path: Path) -> str:
    """The hand-written sections (from the first "## " heading on) of ``path``."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find("\n## ")
    return "" if start < 0 else text[start:]


def markdown_table(rows: list[dict], with_test: bool, n_held: int, n_test: int) -> str:
    base = rows[0]
    head = (
        f"Fitted on train.csv without {HELD_OUT_SOURCE}, scored on it "
        f"({n_held:,} tweets)"
    )
    if with_test:
        head += (
            f"; then refitted on all of train.csv and scored on test.csv ({n_test:,})"
        )
    lines = [
        head
        + ". Written by `python benchmarks/ablation.py"
        + (" --test`." if with_test else "`."),
        "",
        "| variant | held-out macro-recall | change | held-out ECE"
        + (" | test macro-recall | change | test accuracy |" if with_test else " |"),
        "| --- | ---: | ---: | ---:"
        + (" | ---: | ---: | ---: |" if with_test else " |"),
    ]
    for r in rows:
        held, held_delta = (
            r["held"],
            r["held"]["macro_recall"] - base["held"]["macro_recall"],
        )
        line = (
            f"| {r['variant']} | {held['macro_recall']:.4f} | {held_delta:+.4f} | "
            f"{held['expected_calibration_error']:.4f} |"
        )
        if with_test:
            test = r["test"]
            delta = test["macro_recall"] - base["test"]["macro_recall"]
            line += (
                f" {test['macro_recall']:.4f} | {delta:+.4f} | {test['accuracy']:.4f} |"
            )
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
