"""Scoring speed of the committed model against another model, in one run.

    python benchmarks/scoring_speed.py                      # committed model only
    python benchmarks/scoring_speed.py --baseline-rev a3e2e9c

``--baseline-rev`` takes the model files committed at that git revision (the
core issue's model is a3e2e9c) and times both models on the same posts,
alternating, single-threaded. Prints the median batch throughput (posts/s and
microseconds per post, ``Predictor.score`` on ``--rows`` posts) and the median
single-text latency (``Predictor.predict``) of each.

The baseline runs with today's ``sentiment.model.preprocess`` (its pickle refers to
those functions by name), which is faster than the code it shipped with, so
the comparison flatters the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.predictor import Predictor, load_predictor


def model_from_git(rev: str, folder: Path) -> Path:
    """Write models/model.pkl and its card as of ``rev`` into ``folder``."""
    for name in ("model.pkl", "model.json"):
        blob = subprocess.run(
            ["git", "show", f"{rev}:models/{name}"],
            cwd=config.PROJECT_ROOT,
            capture_output=True,
            check=True,
        ).stdout
        (folder / name).write_bytes(blob)
    return folder / "model.pkl"


def batch_seconds(predictor: Predictor, texts: list[str]) -> float:
    started = time.perf_counter()
    predictor.score(texts)
    return time.perf_counter() - started


def single_latencies(predictor: Predictor, texts: list[str]) -> list[float]:
    latencies = []
    for text in texts:
        started = time.perf_counter()
        predictor.predict(text)
        latencies.append(time.perf_counter() - started)
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=config.SEMEVAL_TEST)
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument(
        "--single", type=int, default=300, help="texts timed one by one"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-rev", help="git revision whose model to compare")
    args = parser.parse_args(argv)

    texts = load_labelled(args.data).texts[: args.rows]
    models = {"committed": load_predictor()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline_rev:
            path = model_from_git(args.baseline_rev, Path(tmp))
            models[f"baseline@{args.baseline_rev}"] = load_predictor(
                path, allow_outside_models_dir=True
            )
        batch: dict[str, list[float]] = {name: [] for name in models}
        single: dict[str, list[float]] = {name: [] for name in models}
        with threadpool_limits(1):
            for predictor in models.values():  # warm-up
                predictor.score(texts[:200])
            for _ in range(args.repeats):
                for name, predictor in models.items():
                    batch[name].append(batch_seconds(predictor, texts))
                    single[name] += single_latencies(predictor, texts[: args.single])

    print(
        f"{len(texts):,} posts from {args.data.name}, 1 thread, {args.repeats} repeats"
    )
    print(f"{'model':24} {'posts/s':>9} {'us/post':>8} {'single p50 ms':>14}")
    for name in models:
        seconds = statistics.median(batch[name])
        p50 = statistics.median(single[name]) * 1e3
        print(
            f"{name:24} {len(texts) / seconds:9,.0f} {seconds / len(texts) * 1e6:8.0f}"
            f" {p50:14.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
