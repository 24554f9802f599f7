"""Scoring speed: a real Dask cluster of 2 worker processes against --jobs 2.

    python benchmarks/bench_cluster.py [--input CSV] [--rounds 3]

Both sides run the same command a user runs, ``python -m sentiment.predict``
with the committed model: once with ``--engine dask --scheduler tcp://...``
(a ``dask scheduler`` and two single-threaded ``dask worker`` processes on
127.0.0.1, started once, before the rounds), once with ``--jobs 2`` (the local
process pool). Rounds alternate the two so that the noise of a shared machine
falls on both; the medians and every run are printed. Wall time includes
loading the model, as a user waits for it. Default input: the SemEval-2017
training texts from ../shared (49,555 rows).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentiment import config  # noqa: E402
from tests.scale.dask_processes import start_cluster  # noqa: E402


def timed_predict(source: Path, out: Path, *options: str) -> float:
    """Seconds for one ``python -m sentiment.predict`` run; fails loudly."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sentiment.predict", str(source), "-o", str(out)]
        + ["--no-progress", "--no-log", *options],
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start


def main() -> None:
    """Alternate the two engines for ``--rounds`` rounds; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input", type=Path, default=config.SHARED_DATA_DIR / "semeval2017/train.csv"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = sum(1 for _ in open(args.input, "rb")) - 1
    times: dict[str, list[float]] = {"dask, 2 workers": [], "--jobs 2": []}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cluster = start_cluster(work)
        try:
            for round_ in range(args.rounds):
                out = work / f"dask-{round_}"
                times["dask, 2 workers"].append(
                    timed_predict(
                        args.input, out, "--engine", "dask", "--scheduler",
                        cluster.address,
                    )  # fmt: skip
                )
                out = work / f"pool-{round_}.csv"
                times["--jobs 2"].append(timed_predict(args.input, out, "--jobs", "2"))
                print(f"round {round_ + 1}: " + ", ".join(
                    f"{name} {runs[-1]:.1f} s" for name, runs in times.items()
                ), flush=True)  # fmt: skip
        finally:
            cluster.stop()
    print(f"\n{rows:,} rows of {args.input.name}, {args.rounds} alternating rounds")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(
            f"{name:>16}: median {median:.1f} s ({rows / median:,.0f} rows/s); "
            f"runs {', '.join(f'{t:.1f}' for t in runs)}"
        )


if __name__ == "__main__":
    main()
