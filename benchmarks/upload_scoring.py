"""What the page's small progress chunks cost, against the batch CLI on the same rows.

    python benchmarks/upload_scoring.py [--rows 5000] [--repeats 3]

Scores the first ROWS posts of the SemEval training set (or templated posts
when it is absent) with the committed model three ways and prints the median
seconds and rows per second of each: the page's path (read_upload, score_frame
in chunks of 2,000 with a progress callback, scored_file_bytes), the same with
the CLI's 20,000-row chunks, and the CLI's score_csv on the same file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from sentiment import config
from sentiment.batch.local import score_csv
from sentiment.batch.upload import score_frame, scored_file_bytes
from sentiment.files.upload import read_upload
from sentiment.model.predictor import load_predictor

PAGE_CHUNK_ROWS = 2_000  # app.PROGRESS_CHUNK_ROWS


def sample_csv(rows: int, folder: Path) -> Path:
    if config.SEMEVAL_TRAIN.is_file():
        frame = pd.read_csv(config.SEMEVAL_TRAIN, dtype=str, nrows=rows)
    else:
        texts = ["i love the new phone", "worst service ever :(", "news at 5pm"]
        frame = pd.DataFrame({"text": (texts * rows)[:rows]})
    path = folder / "posts.csv"
    frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    predictor = load_predictor()
    with tempfile.TemporaryDirectory() as tmp:
        path = sample_csv(args.rows, Path(tmp))
        data = path.read_bytes()

        def page(chunk_rows: int) -> None:
            table = read_upload(data, path.name)
            scored = score_frame(
                predictor,
                table.frame["text"].tolist(),
                chunk_rows=chunk_rows,
                on_progress=lambda done, total: None,
            )
            scored_file_bytes(table, scored)

        runs = {
            f"page, {PAGE_CHUNK_ROWS:,}-row chunks": lambda: page(PAGE_CHUNK_ROWS),
            f"page, {config.BATCH_CHUNK_ROWS:,}-row chunks": lambda: page(
                config.BATCH_CHUNK_ROWS
            ),
            "CLI score_csv": lambda: score_csv(
                path, Path(tmp) / "out.csv", predictor, progress=False
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):  # interleaved, so machine load hits all alike
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
    print(
        f"{args.rows:,} rows, median of {args.repeats} runs, model {predictor.version}"
    )
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:28} {median:7.2f} s  {args.rows / median:8,.0f} rows/s")


if __name__ == "__main__":
    main()
