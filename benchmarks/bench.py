"""Serving figures for the committed model, with VADER as the peer in the same run.

    python benchmarks/bench.py            # the full run (about 15-30 minutes)
    python benchmarks/bench.py --quick    # small counts, to check the script

Prints a Markdown table and writes it to benchmarks/results.md with the machine
described. Inputs are generated in a temporary folder (posts sampled from
../shared train.csv when it is there, else templated posts) and deleted after;
nothing here is a test and no figure is asserted.

* in-process latency of ``Predictor.predict`` on one text, p50 / p99;
* API latency p50 / p99 / max and errors at 1 and 20 concurrent clients on
  127.0.0.1 (a real uvicorn server; an asyncio client with one keep-alive
  connection per client, so the client costs the shared cores little);
* batch throughput CSV -> CSV of ``python -m sentiment.predict`` on 100,000
  rows with 1 job and with all jobs, and peak memory on 1,000,000 rows;
* VADER (vaderSentiment) on the same texts, and the ratio ours / VADER.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from sentiment import config
from sentiment.model.predictor import load_predictor
from sentiment.serving.local_server import LocalServer

from api_latency import requests_for, run_load  # noqa: E402 (beside this file)

RESULTS = Path(__file__).with_name("results.md")
NOTES_HEADING = "## Where the time goes"
TARGETS = {
    "in-process p50": "<= 2 ms",
    "in-process p99": "<= 10 ms",
    "API p99 at 20 clients": "<= 50 ms, 0 errors",
    "batch all jobs": ">= 5,000 posts/s",
    "peak RSS 1M rows": "<= 600 MB",
}
FALLBACK_TEMPLATES = [
    "i love {} so much :)",
    "{} is awful, never again",
    "{} opens on monday at 5pm",
    "not bad at all, {} was fine",
    "why is {} always late?! #fail",
]
FALLBACK_THINGS = ["the new phone", "this show", "my team", "the album", "pizza"]


@dataclass
class Report:
    """Rows of the results table plus notes, in the order they were measured."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "") -> None:
        self.rows.append((name, value, target))
        print(f"  {name}: {value}", flush=True)


def sample_texts(n: int) -> tuple[list[str], str]:
    """``n`` posts: the shared training set's texts repeated, or templated ones."""
    if config.SEMEVAL_TRAIN.is_file():
        texts = pd.read_csv(
            config.SEMEVAL_TRAIN, dtype=str, keep_default_na=False, usecols=["text"]
        )["text"].tolist()
        source = f"texts of {config.SEMEVAL_TRAIN.name} ({len(texts):,}), repeated"
    else:
        texts = [t.format(x) for t in FALLBACK_TEMPLATES for x in FALLBACK_THINGS]
        source = "templated posts (../shared not found)"
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    return [texts[order[i % len(texts)]] for i in range(n)], source


def write_csv(path: Path, texts: list[str]) -> Path:
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(path, index=False)
    return path


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# ---------------------------------------------------------------- in-process


def bench_in_process(report: Report, texts: list[str], calls: int) -> float:
    """Single-text latency; returns the in-process single-core posts/s on ``texts``."""
    predictor = load_predictor()
    for text in texts[:200]:  # warm caches and lazy imports
        predictor.predict(text)
    latencies = []
    for text in texts[:calls]:
        start = time.perf_counter()
        predictor.predict(text)
        latencies.append(time.perf_counter() - start)
    report.add(
        f"in-process `predict()` latency, {calls:,} calls",
        f"p50 {percentile(latencies, 50) * 1e3:.2f} ms, "
        f"p99 {percentile(latencies, 99) * 1e3:.2f} ms, "
        f"mean {statistics.fmean(latencies) * 1e3:.2f} ms",
        f"p50 {TARGETS['in-process p50']}, p99 {TARGETS['in-process p99']}",
    )
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(0, len(texts), 2_000):
            predictor.score(texts[i : i + 2_000])
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_vader(report: Report, texts: list[str], ours: float) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            analyzer.polarity_scores(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    vader = statistics.median(rates)
    report.add(
        f"VADER `polarity_scores`, 1 core, {len(texts):,} texts (median of 3)",
        f"{vader:,.0f} posts/s",
    )
    report.add(
        f"ours `Predictor.score`, 1 core, same {len(texts):,} texts (median of 3)",
        f"{ours:,.0f} posts/s",
    )
    report.add("ratio ours / VADER (1 core, in memory)", f"{ours / vader:.2f}")


# ---------------------------------------------------------------- API


def bench_api(report: Report, texts: list[str], requests: int, limit_s: float) -> None:
    with LocalServer() as server:
        heads = requests_for(texts[:requests], server.headers)
        run_load(server, heads[:200], 1, limit_s)  # warm-up
        for clients in (1, 20):
            load = run_load(server, heads, clients, limit_s)
            latencies, errors, elapsed = load.latencies, load.errors, load.seconds
            done = len(latencies)
            report.add(
                f"API `POST /predict`, {clients} concurrent client(s), "
                f"{done:,} requests",
                f"p50 {percentile(latencies, 50) * 1e3:.1f} ms, "
                f"p99 {percentile(latencies, 99) * 1e3:.1f} ms, "
                f"max {max(latencies) * 1e3:.1f} ms, {len(errors)} errors, "
                f"{done / elapsed:,.0f} req/s",
                TARGETS["API p99 at 20 clients"] if clients == 20 else "",
            )
            if errors:
                report.notes.append(f"First API error: {errors[0]}")
            if done < requests:
                report.notes.append(
                    f"The {clients}-client API run stopped at its {limit_s:.0f} s "
                    f"limit after {done:,} of {requests:,} requests."
                )


# ---------------------------------------------------------------- batch


@dataclass
class RunResult:
    seconds: float
    peak_main_mb: float
    peak_tree_mb: float
    peak_tree_pss_mb: float
    workers: int


def run_cli(source: Path, output: Path, jobs: int) -> RunResult:
    """Run the batch CLI, sampling the memory of it and its workers every 0.2 s."""
    command = [sys.executable, "-m", "sentiment.predict", str(source)]
    command += ["-o", str(output), "--jobs", str(jobs), "--no-progress"]
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = {"main": 0.0, "tree": 0.0, "pss": 0.0}
    seen: set[int] = set()
    stop = threading.Event()

    def sample() -> None:
        # RSS is cheap to read and sampled often; PSS (shared pages split among
        # the processes sharing them) reads every mapping, so only every 2 s.
        for tick in itertools.count():
            if stop.wait(0.2):
                return
            try:
                tree = [process, *process.children(recursive=True)]
                seen.update(p.pid for p in tree)
                peaks["main"] = max(peaks["main"], process.memory_info().rss / 1e6)
                rss = sum(p.memory_info().rss for p in tree)
                peaks["tree"] = max(peaks["tree"], rss / 1e6)
                if tick % 10 == 0:
                    pss = sum(p.memory_full_info().pss for p in tree)
                    peaks["pss"] = max(peaks["pss"], pss / 1e6)
            except psutil.Error:
                pass  # a process ended between listing and reading

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr.decode()}")
    return RunResult(seconds, peaks["main"], peaks["tree"], peaks["pss"], len(seen) - 1)


def model_load_seconds() -> float:
    """Import and model-load time of a fresh process: the one-off part of a CLI run."""
    code = "from sentiment import load_predictor; load_predictor()"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def bench_batch(report: Report, folder: Path, texts: list[str], rows: int) -> None:
    source = write_csv(folder / "batch.csv", texts[:rows])
    load = model_load_seconds()
    report.add("fresh process: imports + model load", f"{load:.1f} s")
    outputs = {}
    for jobs in sorted({1, config.available_cores()}):
        outputs[jobs] = folder / f"batch-jobs{jobs}.csv"
        result = run_cli(source, outputs[jobs], jobs)
        seconds = result.seconds
        report.add(
            f"batch CSV -> CSV, {rows:,} rows, --jobs {jobs}",
            f"{rows / seconds:,.0f} posts/s end to end ({seconds:.1f} s); "
            f"{rows / (seconds - load):,.0f} posts/s without the load",
            TARGETS["batch all jobs"] if jobs > 1 else "",
        )
    if len(outputs) > 1:
        first, *others = outputs.values()
        same = all(o.read_bytes() == first.read_bytes() for o in others)
        jobs = config.available_cores()
        report.notes.append(
            f"Outputs of --jobs 1 and --jobs {jobs} are "
            f"{'byte-identical' if same else 'DIFFERENT'}."
        )


def bench_memory(report: Report, folder: Path, texts: list[str], rows: int) -> None:
    source = write_csv(folder / "memory.csv", texts[:rows])
    jobs = config.available_cores()
    result = run_cli(source, folder / "memory-out.csv", jobs)
    report.add(
        f"peak memory, {rows:,} rows, --jobs {jobs} ({result.workers} workers)",
        f"main process RSS {result.peak_main_mb:,.0f} MB; all processes: RSS sum "
        f"{result.peak_tree_mb:,.0f} MB, PSS sum {result.peak_tree_pss_mb:,.0f} MB "
        f"({rows / result.seconds:,.0f} posts/s, {result.seconds:.0f} s)",
        TARGETS["peak RSS 1M rows"],
    )


# ---------------------------------------------------------------- machine


def describe_machine() -> list[str]:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in (
            "numpy",
            "scipy",
            "scikit-learn",
            "pandas",
            "fastapi",
            "uvicorn",
            "vaderSentiment",
        )
    )
    card = json.loads(config.DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h %cs", "--", "models/model.pkl"],
        capture_output=True,
        text=True,
        cwd=config.PROJECT_ROOT,
    ).stdout.strip()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores ({config.available_cores()} usable), "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM; shared with other "
        "work (load average below).",
        f"- Python {platform.python_version()} on {platform.system()} "
        f"{platform.release()}; {versions}.",
        f"- Model: models/model.pkl sha256 {card['model_sha256'][:12]} "
        f"(git commit {commit or 'uncommitted'}).",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    quick = args.quick
    calls = 300 if quick else 2_000
    requests = 300 if quick else 5_000
    batch_rows = 5_000 if quick else 100_000
    memory_rows = 20_000 if quick else 1_000_000
    peer_rows = 2_000 if quick else 20_000

    texts, source = sample_texts(memory_rows)
    report = Report()
    machine = describe_machine()
    print("\n".join(machine), flush=True)
    loads = [os.getloadavg()]
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    with tempfile.TemporaryDirectory(prefix="sentiment-bench-") as tmp:
        folder = Path(tmp)
        # The prediction log stays on, as by default, but in the temporary
        # folder; the servers and CLI runs started below inherit this.
        os.environ[config.LOG_DB_ENV] = str(folder / "predictions.db")
        ours = bench_in_process(report, texts[:peer_rows], calls)
        bench_vader(report, texts[:peer_rows], ours)
        loads.append(os.getloadavg())
        bench_api(report, texts, requests, limit_s=120 if quick else 600)
        loads.append(os.getloadavg())
        bench_batch(report, folder, texts, batch_rows)
        loads.append(os.getloadavg())
        bench_memory(report, folder, texts, memory_rows)
        loads.append(os.getloadavg())

    lines = [
        "# Serving benchmark",
        "",
        f"`python benchmarks/bench.py{' --quick' if quick else ''}`, run {started}.",
        "",
        *machine,
        f"- Inputs: {source}; generated in a temporary folder, then deleted. "
        "The prediction log is on, as by default (a SQLite file in that folder).",
        "- 1-minute load average at the start and after each section: "
        + ", ".join(f"{load[0]:.1f}" for load in loads)
        + f" (on {config.available_cores()} cores).",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        *(f"| {name} | {value} | {target} |" for name, value, target in report.rows),
        "",
        *(f"- {note}" for note in report.notes),
        "",
    ]
    text = "\n".join(lines)
    print("\n" + text)
    # The hand-written analysis below the table (profiles, what the figures
    # mean) is kept when the figures are regenerated.
    if args.out.is_file():
        previous = args.out.read_text(encoding="utf-8")
        if NOTES_HEADING in previous:
            text += "\n" + NOTES_HEADING + previous.split(NOTES_HEADING, 1)[1]
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
