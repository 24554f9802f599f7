"""--engine dask on a real cluster: a ``dask scheduler`` process and two
``dask worker`` processes over TCP on 127.0.0.1, started here as a user would.

The result equals the single-process run row for row, from the library and
from the command line; and when a worker is killed mid-job (SIGKILL, no
nanny to restart it) the job still finishes with every row exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

DASK_EXTRA = "needs the Dask extra: pip install -r requirements-dask.txt"
pytest.importorskip("distributed", reason=DASK_EXTRA)

from distributed import Client  # noqa: E402

from sentiment import config  # noqa: E402
from sentiment.batch import cluster as distributed  # noqa: E402
from sentiment.batch.local import score_csv  # noqa: E402
from tests.scale.dask_processes import start_cluster  # noqa: E402
from tests.scale.test_distributed import _joined_csv_parts  # noqa: E402
from tests.tricky_posts import tricky_posts  # noqa: E402

ROWS = 1_500
PARTITION_ROWS = 400
# The fault test scores with the committed model, in parts small enough that
# the job is still running when the worker dies (about 40 parts).
FAULT_ROWS = 5_000
FAULT_PARTITION_ROWS = 125


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    cluster = start_cluster(tmp_path_factory.mktemp("dask-processes"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def posts(tmp_path_factory, tiny_predictor):
    """(input CSV, the single-process run's output text)."""
    folder = tmp_path_factory.mktemp("real-cluster")
    source = folder / "posts.csv"
    tricky_posts(ROWS).to_csv(source, index=False)
    score_csv(source, folder / "single.csv", tiny_predictor, progress=False)
    return source, (folder / "single.csv").read_text(encoding="utf-8")


def test_two_worker_processes_give_the_single_process_result(
    processes, posts, tmp_path, tiny_predictor
):
    source, expected = posts
    out = tmp_path / "scored"
    summary = distributed.score_dask(
        source,
        out,
        tiny_predictor,
        scheduler=processes.address,
        partition_rows=PARTITION_ROWS,
        progress=False,
    )
    assert _joined_csv_parts(out) == expected
    assert summary.rows == ROWS
    with Client(processes.address) as client:  # both workers took part
        assert len(client.scheduler_info()["workers"]) == 2


def test_the_command_line_scores_on_the_running_cluster(
    processes, posts, tmp_path, saved_tiny_model
):
    source, expected = posts
    out = tmp_path / "scored"
    result = subprocess.run(
        [sys.executable, "-m", "sentiment.predict", str(source), "-o", str(out)]
        + ["--engine", "dask", "--scheduler", processes.address]
        + ["--model", str(saved_tiny_model), "--trust-model-path", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=config.PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert _joined_csv_parts(out) == expected


def test_a_worker_killed_mid_job_loses_and_repeats_no_row(
    tmp_path, committed_predictor
):
    source = tmp_path / "posts.csv"
    tricky_posts(FAULT_ROWS).to_csv(source, index=False)
    score_csv(source, tmp_path / "single.csv", committed_predictor, progress=False)
    parts = -(-FAULT_ROWS // FAULT_PARTITION_ROWS)
    cluster = start_cluster(tmp_path)
    out = tmp_path / "scored"
    outcome: dict[str, object] = {}

    def job() -> None:
        try:
            outcome["summary"] = distributed.score_dask(
                source,
                out,
                committed_predictor,
                scheduler=cluster.address,
                partition_rows=FAULT_PARTITION_ROWS,
                progress=False,
            )
        except Exception as error:  # reported by the assertions below
            outcome["error"] = error

    try:
        running = threading.Thread(target=job)
        running.start()
        deadline = time.monotonic() + 300
        while len(list(out.glob("part-*.csv"))) < 2 and running.is_alive():
            assert time.monotonic() < deadline, "no part written in 300 s"
            time.sleep(0.05)
        written_before_kill = len(list(out.glob("part-*.csv")))
        cluster.kill_worker("worker-1")
        running.join(timeout=600)
        assert not running.is_alive(), "the job hung after the kill"
    finally:
        cluster.stop()
    assert written_before_kill < parts, "the job ended before the kill: no test"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"].rows == FAULT_ROWS
    assert len(list(out.glob("part-*.csv"))) == parts
    assert _joined_csv_parts(out) == (tmp_path / "single.csv").read_text("utf-8")
