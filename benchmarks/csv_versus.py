"""CSV -> CSV of this checkout against another tree of the code, with VADER,
alternating, in one run: wall time and CPU time of each whole process.

    python benchmarks/csv_versus.py --peer-tree /tmp/main-tree [--rounds 5]

The peer tree is another copy of the code (``git archive <commit> | tar -x -C
DIR``, with the compiled core copied in). Each command runs in its tree's
root, so that tree's ``sentiment`` is the one imported, with a new prediction
log each time, and both trees byte-compiled first (see
``fast_tier.byte_compile``). CPU seconds (user + system of the process and its
workers) move far less than wall time when other jobs share the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fast_tier import VADER_CSV, byte_compile, write_train_texts

from sentiment import config

HERE = Path(__file__).resolve().parent.parent


def run(command: list[str], root: Path, log: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``command`` run in ``root`` with ``log`` as the log."""
    for path in log.parent.glob(f"{log.name}*"):
        path.unlink()
    env = {**os.environ, "PYTHONPATH": str(root), config.LOG_DB_ENV: str(log)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=root, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer-tree", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "train.csv"
        texts = write_train_texts(source)
        for tree in (args.peer_tree, HERE):
            byte_compile(tree)
        vader = [sys.executable, "-c", VADER_CSV, str(source), str(folder / "v.csv")]
        commands = {"VADER": (vader, HERE)}
        for jobs in (1, 2):
            for name, root in (("peer", args.peer_tree.resolve()), ("this", HERE)):
                output = folder / f"{name}{jobs}.csv"
                command = [sys.executable, "-m", "sentiment.predict", str(source)]
                command += ["-o", str(output), "--jobs", str(jobs), "--no-progress"]
                commands[f"{name} --jobs {jobs}"] = (command, root)
        load = os.getloadavg()[0]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (command, root) in commands.items():
                times[name].append(run(command, root, folder / "log.db"))
        same = (folder / "peer1.csv").read_bytes() == (
            folder / "this1.csv"
        ).read_bytes()
    vader_rate = len(texts) / statistics.median(w for w, _ in times["VADER"])
    print(f"| run ({args.rounds} rounds, medians) | posts/s | x VADER | CPU s |")
    print("| --- | --- | --- | --- |")
    for name, measured in times.items():
        rate = len(texts) / statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(f"| {name} | {rate:,.0f} | {rate / vader_rate:.2f} | {cpu:.2f} |")
    print(
        f"1-minute load average at start / end: {load:.1f} / {os.getloadavg()[0]:.1f}"
    )
    print(f"outputs of peer and this checkout byte-identical: {same}")


if __name__ == "__main__":
    main()
