"""What a hostile long post costs to prepare and score, against a tweet.

    python benchmarks/long_posts.py [--repeats 7]

NFKC makes U+FDFA 18 characters long, so cleaning a 1 MB post of it whole took
seconds to keep 5,000 characters. Prints, alternating the posts in each round,
the median milliseconds of ``prepare_text`` and of ``Predictor.predict`` (the
committed model, when there is one) for a tweet, 1 MB of U+FDFA, 1 MB of ASCII
and 1 MB of zero-width spaces followed by a word.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

from sentiment import config
from sentiment.model.inputs import prepare_text
from sentiment.model.predictor import load_predictor

MEGABYTE = 1 << 20


POSTS = {
    "tweet": "so happy with the new album :)",
    "1 MB of U+FDFA": "\ufdfa" * (MEGABYTE // 3),
    "1 MB of ASCII": "i love it " * (MEGABYTE // 10),
    "1 MB of U+200B, then a word": "\u200b" * (MEGABYTE // 3) + " great",
}


def median_ms(run: Callable[[str], object], repeats: int) -> dict[str, float]:
    """Median milliseconds of ``run`` per post, the posts alternating each round."""
    times: dict[str, list[float]] = {name: [] for name in POSTS}
    for _ in range(repeats):
        for name, text in POSTS.items():
            start = time.perf_counter()
            run(text)
            times[name].append((time.perf_counter() - start) * 1_000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    steps: dict[str, Callable[[str], object]] = {"prepare_text": prepare_text}
    if config.DEFAULT_MODEL_PATH.is_file():
        steps["predict"] = load_predictor().predict
    for step, run in steps.items():
        for name, ms in median_ms(run, args.repeats).items():
            print(f"{step:>12}  {name:<28} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
