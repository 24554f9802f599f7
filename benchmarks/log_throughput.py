"""Prediction-log write throughput: prints medians, each beside its peer.

    python benchmarks/log_throughput.py [--repeats 5]

* single-row appends (one transaction each, as one API request) with
  synchronous=NORMAL (the default) against FULL;
* one 20,000-row batch append (the batch CLI's chunk) against 20,000 single rows;
* 8 writer processes x 2,000 single-row appends, the concurrency test's load.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sentiment import config
from sentiment.ops.logstore import PredictionLog

PREDICTION = SimpleNamespace(
    label="neutral",
    confidence=0.5,
    probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3},
    needs_review=True,
    status="ok",
)
WRITER = """
import sys, time
from types import SimpleNamespace
from sentiment.ops.logstore import PredictionLog
db, worker, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
p = SimpleNamespace(label="neutral", confidence=0.5, needs_review=True, status="ok",
    probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3})
log = PredictionLog(db)
while time.time() < start:
    time.sleep(0.001)
for i in range(n):
    log.append("api", f"{worker}-{i}", "v", [f"post {i}"], [p])
print(time.time())
"""


def single_rows(folder: Path, n: int, synchronous: str) -> float:
    """Appends per second, one row and one transaction per call."""
    log = PredictionLog(folder / f"single-{synchronous}.db", synchronous=synchronous)
    started = time.perf_counter()
    for i in range(n):
        log.append("api", None, "v", [f"post {i}"], [PREDICTION])
    return n / (time.perf_counter() - started)


def batch(folder: Path, n: int) -> float:
    """Rows per second for one n-row append."""
    log = PredictionLog(folder / "batch.db")
    started = time.perf_counter()
    texts = [f"post {i}" for i in range(n)]
    log.append("batch", None, "v", texts, [PREDICTION] * n)
    return n / (time.perf_counter() - started)


def processes(folder: Path, workers: int, n: int) -> float:
    """Rows per second over all writers, from a common start to the last finish."""
    db = folder / "concurrent.db"
    PredictionLog(db).close()
    start = time.time() + 8  # after every writer's imports
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(w), str(n), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=config.PROJECT_ROOT,
        )
        for w in range(workers)
    ]
    finished = max(float(p.communicate()[0]) for p in procs)
    rows = int(PredictionLog(db).query("SELECT COUNT(*) FROM predictions").iat[0, 0])
    assert rows == workers * n, rows
    return rows / (finished - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    med = lambda f: statistics.median(f() for _ in range(args.repeats))  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"median of {args.repeats} runs, log in {folder}")
        normal = med(lambda: single_rows(folder, 2_000, "NORMAL"))
        full = med(lambda: single_rows(folder, 500, "FULL"))
        print(f"single-row appends/s  NORMAL {normal:8,.0f}   FULL {full:8,.0f}")
        rows = med(lambda: batch(folder, 20_000))
        print(f"rows/s  one 20,000-row batch {rows:8,.0f}   single rows {normal:8,.0f}")
        together = med(lambda: processes(folder, 8, 2_000))
        print(f"8 processes x 2,000 single-row appends: {together:,.0f} rows/s in all")


if __name__ == "__main__":
    main()
