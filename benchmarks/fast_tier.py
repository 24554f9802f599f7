"""The fast tier's figures (issue 15), with VADER as the peer in the same run.

    python benchmarks/fast_tier.py [--rounds 3] [--million]

* CSV -> CSV on the texts of train.csv (49,555 rows), whole processes, fixed
  costs included (the package byte-compiled first, as an installed copy is:
  see :func:`byte_compile`): ``python -m sentiment.predict`` with ``--jobs 1`` and
  ``--jobs 2`` (prediction log on, in a temporary SQLite file) against a VADER
  script that reads and writes the same CSV with the csv module. Rounds
  alternate the three; medians are reported.
* Single post in-process: ``Predictor.predict`` on each test post in turn
  (first sight of each post), p50 and p99.
* Cold start: ``python -m sentiment.predict --text ... --no-log``, median of 5.
* Accuracy: macro-recall on test.csv through the arrays (fast tier) and the
  scikit-learn pipeline.
* ``--million``: 1,000,000 rows (train.csv repeated) with ``--jobs 2``: wall
  time and peak PSS of the process tree (bench.run_cli).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sentiment import config

VADER_CSV = """
import csv, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(
    sys.argv[2], "w", newline="", encoding="utf-8"
) as out:
    reader, writer = csv.reader(f), csv.writer(out, lineterminator="\\n")
    header = next(reader)
    column = header.index("text")
    writer.writerow(header + ["neg", "neu", "pos", "compound"])
    for row in reader:
        s = analyzer.polarity_scores(row[column])
        keys = ("neg", "neu", "pos", "compound")
        writer.writerow(row + [f"{s[k]:.4f}" for k in keys])
"""


def write_train_texts(path: Path) -> list[str]:
    """The benchmark input: train.csv's texts alone, one column, in a temporary
    folder (never in the repository); returns them."""
    with config.SEMEVAL_TRAIN.open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    return texts


def byte_compile(tree: Path) -> None:
    """Write the bytecode of ``tree``'s package, as installing a package does.

    Where PYTHONDONTWRITEBYTECODE is set (this machine, CI) every run would
    otherwise compile each of the package's modules again, about 30 ms that
    an installed copy, and VADER's, never spends.
    """
    command = [sys.executable, "-m", "compileall", "-q", str(tree / "sentiment")]
    subprocess.run(command, check=True)


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def csv_rates(source: Path, folder: Path, rounds: int) -> dict[str, list[float]]:
    """Posts/s of VADER and of ours (--jobs 1, 2), alternating, ``rounds`` times."""
    rows = sum(1 for _ in csv.reader(source.open(newline="", encoding="utf-8"))) - 1
    env = {**os.environ, config.LOG_DB_ENV: str(folder / "log.db")}
    commands = {
        "VADER": [sys.executable, "-c", VADER_CSV, str(source), str(folder / "v.csv")],
    }
    for jobs in (1, 2):
        commands[f"ours --jobs {jobs}"] = [
            sys.executable,
            "-m",
            "sentiment.predict",
            str(source),
            "-o",
            str(folder / f"o{jobs}.csv"),
            "--jobs",
            str(jobs),
            "--no-progress",
        ]
    rates: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            rates[name].append(rows / timed(command, env))
            print(f"  {name}: {rates[name][-1]:,.0f} posts/s", file=sys.stderr)
    return rates


def single_post_ms(texts: list[str]) -> tuple[float, float]:
    from sentiment.model.predictor import load_predictor

    predictor = load_predictor()
    predictor.predict("warm up")
    latencies = []
    for text in texts:
        start = time.perf_counter()
        predictor.predict(text)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return (
        1e3 * latencies[len(latencies) // 2],
        1e3 * latencies[int(len(latencies) * 0.99)],
    )


def cold_start_s() -> float:
    command = [sys.executable, "-m", "sentiment.predict", "--text", "I love it"]
    return statistics.median(
        timed(command + ["--no-log"], dict(os.environ)) for _ in range(5)
    )


def macro_recalls() -> tuple[float, float]:
    from sentiment.files.labelled import load_labelled
    from sentiment.model.artifacts import load_model
    from sentiment.model.metrics import evaluate_predictor
    from sentiment.model.predictor import Predictor, load_predictor

    data = load_labelled(config.SEMEVAL_TEST)
    fast = evaluate_predictor(load_predictor(), data.texts, data.labels)
    pipeline, card = load_model()
    slow = evaluate_predictor(Predictor(pipeline, card), data.texts, data.labels)
    return fast["macro_recall"], slow["macro_recall"]


def million(source: Path, folder: Path) -> str:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench import run_cli

    big = folder / "million.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    with big.open("w", encoding="utf-8") as out:
        out.write(header)
        for i in range(1_000_000):
            out.write(body[i % len(body)])
    os.environ[config.LOG_DB_ENV] = str(folder / "million.db")
    result = run_cli(big, folder / "million_out.csv", 2)
    return (
        f"| 1,000,000 rows, --jobs 2 | {result.seconds:.1f} s, peak PSS "
        f"{result.peak_tree_pss_mb:,.0f} MB | <= 30 s, <= 300 MB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--million", action="store_true")
    args = parser.parse_args()
    lines = ["| measure | result | target |", "| --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "train.csv"
        write_train_texts(source)
        byte_compile(Path(__file__).resolve().parent.parent)
        load = os.getloadavg()[0]
        measured = csv_rates(source, folder, args.rounds)
        rates = {name: statistics.median(v) for name, v in measured.items()}
        vader = rates["VADER"]
        lines.append(
            f"| VADER CSV -> CSV, 1 core (median of {args.rounds}) "
            f"| {vader:,.0f} posts/s | |"
        )
        for jobs, target in ((1, 1.5), (2, 2.5)):
            ours = rates[f"ours --jobs {jobs}"]
            lines.append(
                f"| ours CSV -> CSV, --jobs {jobs} | {ours:,.0f} posts/s = "
                f"{ours / vader:.2f}x VADER | >= {target}x |"
            )
        with config.SEMEVAL_TEST.open(newline="", encoding="utf-8") as f:
            test_texts = [row["text"] for row in csv.DictReader(f)][:3000]
        p50, p99 = single_post_ms(test_texts)
        lines.append(
            f"| single post in-process, p50 / p99 | {p50:.3f} / {p99:.3f} ms "
            "| p50 <= 0.3 ms |"
        )
        lines.append(
            f"| cold start, `predict --text` (median of 5) | {cold_start_s():.2f} s "
            "| <= 0.5 s |"
        )
        fast, slow = macro_recalls()
        lines.append(
            f"| macro-recall, test.csv: arrays / pipeline | {fast:.4f} / {slow:.4f} "
            "| equal |"
        )
        if args.million:
            lines.append(million(source, folder))
        lines.append(
            f"| 1-minute load average at start / end | {load:.1f} / "
            f"{os.getloadavg()[0]:.1f} | |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
