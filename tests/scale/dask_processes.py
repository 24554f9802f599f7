"""A real Dask cluster on this machine: one ``dask scheduler`` process and
``dask worker`` processes, talking TCP on 127.0.0.1, as a user would start them.

Used by the cluster tests and benchmarks/bench_cluster.py. Every process stops by
itself as well: the scheduler after ``IDLE_TIMEOUT`` without work, the workers
``DEATH_TIMEOUT`` after losing the scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from distributed import Client

IDLE_TIMEOUT = "600s"
DEATH_TIMEOUT = "30s"
START_TIMEOUT = 90.0


@dataclass
class DaskProcesses:
    """The scheduler's address and the processes behind it."""

    address: str
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker: a machine lost, no goodbye to the scheduler."""
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait(timeout=30)

    def stop(self) -> None:
        """Terminate every process still running, workers first."""
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def _dask(*args: str, log: Path) -> subprocess.Popen:
    """``python -m dask ...`` from this interpreter (its venv has the package)."""
    handle = open(log, "ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        handle.close()


def start_cluster(folder: Path, workers: int = 2) -> DaskProcesses:
    """Start a scheduler and ``workers`` single-threaded workers; return once all
    workers have registered. Logs go to ``folder``."""
    scheduler_file = folder / "scheduler.json"
    scheduler = _dask(
        "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
        "--scheduler-file", str(scheduler_file), "--idle-timeout", IDLE_TIMEOUT,
        log=folder / "scheduler.log",
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while not scheduler_file.is_file():
        if scheduler.poll() is not None or time.monotonic() > deadline:
            scheduler.kill()
            raise RuntimeError((folder / "scheduler.log").read_text()[-3000:])
        time.sleep(0.2)
    time.sleep(0.2)  # the file is written whole, but give it a beat
    address = json.loads(scheduler_file.read_text())["address"]
    cluster = DaskProcesses(address, scheduler)
    for number in range(workers):
        name = f"worker-{number}"
        # No nanny: killing the process loses the worker for good, as when a
        # machine dies (a nanny would restart it at once).
        cluster.workers[name] = _dask(
            "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
            "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0",
            "--death-timeout", DEATH_TIMEOUT, "--local-directory", str(folder),
            log=folder / f"{name}.log",
        )  # fmt: skip
    with Client(address, timeout="30s") as client:
        try:
            client.wait_for_workers(workers, timeout=START_TIMEOUT)
        except TimeoutError:
            cluster.stop()
            logs = [(folder / f"{n}.log").read_text()[-2000:] for n in cluster.workers]
            raise RuntimeError("workers did not register:\n" + "\n".join(logs))
    return cluster
