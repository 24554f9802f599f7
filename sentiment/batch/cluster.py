"""Batch scoring on a Dask cluster, for inputs larger than one machine can score.

``python -m sentiment.predict INPUT --engine dask --output FOLDER
[--scheduler tcp://host:8786]`` scores partition by partition with the same
predictor and the same per-chunk step as the single-process run
(:func:`sentiment.batch.step.score_chunk`), and writes one part per partition:
``FOLDER/part-00000.csv``, ``part-00001.csv``, ... Read in name order, the
parts hold exactly the rows of ``python -m sentiment.predict INPUT -o OUT.csv``.

* CSV/TSV: this process reads the file with the same parser as the
  single-process run (quoted line breaks, encodings and delimiters give the
  same rows) and sends each partition of rows to a worker, which scores it and
  writes its part. Parsing costs about a microsecond a row, scoring hundreds,
  so the reader is not the bottleneck.
* Parquet: each worker reads its own row groups; no row passes through here.

The predictor is sent to every worker once. Workers write the parts
themselves, so with ``--scheduler`` the output folder (and Parquet inputs)
must be on storage every worker sees at the same path, and the workers need
this package and its pinned requirements installed. A bucket is such storage:
INPUT and ``--output`` may be URLs (``s3://bucket/in/*.csv``, ``s3://bucket/
scored/``); each part is then uploaded whole by its worker, and the workers
need the cloud extra and credentials in their own environment.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from distributed import Client, Future, LocalCluster, as_completed
from tqdm import tqdm

from sentiment import config
from sentiment.batch.pool import PENDING_PER_WORKER
from sentiment.batch.partitions import (
    PARTITION_ROWS,
    Source,
    check_output_dir,
    csv_tasks,
    is_parquet,
    missing_parts,
    parquet_tasks,
    part_target,
    resolve_inputs,
)
from sentiment.batch.step import ScoreSummary
from sentiment.files import remote
from sentiment.files.formats import DataError
from sentiment.model.predictor import Predictor

log = logging.getLogger(__name__)


CONNECT_TIMEOUT = "15s"

# A part whose worker died is sent again up to this many times, then the run
# fails: a cluster that keeps losing workers needs a person.
RESUBMITS = 3


class ClusterError(ValueError):
    """The Dask cluster cannot be reached or started; the message says what to do."""


def score_dask(
    input_path: str | Path,
    output_dir: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    threshold: float | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    partition_rows: int | None = None,
    progress: bool = True,
    score_all_languages: bool = False,
) -> ScoreSummary:
    """Score CSV/TSV or Parquet file(s) on Dask into ``output_dir``, one part each.

    ``input_path`` is a file or a glob (``data/*.parquet``), all CSV/TSV or
    all Parquet, local or a URL. Without ``scheduler`` a local cluster of
    ``workers`` processes (default: all cores) is started and stopped; with it,
    that cluster is used. ``output_dir`` (a folder, or a URL prefix) must be new
    or empty. Partitions hold about ``partition_rows`` rows (default
    ``PARTITION_ROWS``). Returns the counts.
    """
    sources = resolve_inputs(input_path)
    output_dir = remote.local_or_url(output_dir)
    check_output_dir(output_dir)
    parquet = is_parquet(sources[0])
    make_tasks = parquet_tasks if parquet else csv_tasks
    tasks = make_tasks(sources, text_col, partition_rows or PARTITION_ROWS)
    # The first partition is read before any cluster starts, so a wrong column
    # or a malformed file is reported at once.
    tasks = itertools.chain([next(tasks)], tasks)
    if isinstance(output_dir, Path):  # a bucket has no folders to make
        output_dir.mkdir(parents=True, exist_ok=True)
    suffix = "parquet" if parquet else "csv"
    parts: list[str] = []
    with (
        _connect(scheduler, workers or config.available_cores()) as client,
        tqdm(desc="partitions", unit="part", disable=not progress) as bar,
    ):
        runner = _PartRunner(client, predictor, text_col, threshold, bar)
        runner.score_all_languages = score_all_languages
        limit = PENDING_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
        for number, (task, argument) in enumerate(tasks):
            parts.append(part_target(output_dir, number, suffix))
            runner.submit(_Part(task, argument, parts[-1]))
            while runner.running.count() >= limit:
                runner.collect(next(runner.running))
        for future in runner.running:  # includes parts sent again meanwhile
            runner.collect(future)
    _check_parts_arrived(parts, output_dir, scheduler)
    return runner.summary


def _same(value: Any) -> Any:
    """The argument itself: a task whose result is its (recomputable) input."""
    return value


@dataclass
class _Part:
    """One partition's task, its rows (or row groups) and the file it writes."""

    task: Callable[..., ScoreSummary]
    argument: Any
    path: str  # a local path or a URL
    attempts: int = 0

    @property
    def name(self) -> str:
        """The part's file name (``part-00003.csv``), for messages."""
        return Path(self.path).name


class _PartRunner:
    """Sends parts to the cluster and merges their counts as they finish.

    A part whose worker dies is sent again: the rows travel inside the task
    rather than scattered, so they do not die with the worker; a part rewritten
    is replaced atomically, and only the run that returns is counted, so every
    row is scored, written and counted once.
    """

    def __init__(
        self,
        client: Client,
        predictor: Predictor,
        text_col: str,
        threshold: float | None,
        bar: tqdm,
    ) -> None:
        self.client, self.predictor, self.bar = client, predictor, bar
        self.text_col, self.threshold = text_col, threshold
        self.score_all_languages = False
        self.summary = ScoreSummary()
        self.running = as_completed()
        self._parts: dict[Future, _Part] = {}
        # The predictor goes once, as a task that returns it, not scattered:
        # Dask keeps one copy of scattered data (it drops extra replicas), and
        # losing that worker would lose it for good; a task's result is
        # recomputed from the scheduler's copy instead.
        with warnings.catch_warnings():  # sent once, on purpose: not a mistake
            warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            self.shared = client.submit(_same, predictor, pure=False)

    def submit(self, part: _Part) -> None:
        """Queue ``part`` on the cluster."""
        part.attempts += 1
        future = self.client.submit(
            part.task,
            self.shared,
            part.argument,
            part.path,
            self.text_col,
            self.threshold,
            score_all_languages=self.score_all_languages,
            pure=False,
        )
        self._parts[future] = part
        self.running.add(future)

    def collect(self, future: Future) -> None:
        """Merge a finished part's counts, or send it again if it was lost."""
        part = self._parts.pop(future)
        try:
            self.summary.merge(future.result())
        except CancelledError as lost:  # its result died with its worker
            if part.attempts > RESUBMITS:
                raise ClusterError(
                    f"{part.name} was lost {part.attempts} times with the "
                    "workers running it. Check the workers' logs (memory, "
                    "crashes), then run again into a new folder."
                ) from lost
            log.warning("%s lost with its worker; sending it again", part.name)
            self.submit(part)
            return
        self.bar.update()


@contextmanager
def _connect(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new local cluster."""
    # Dask logs every start and stop at INFO; a scoring run only needs problems.
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    dask_log.setLevel(max(level, logging.WARNING))
    try:
        yield from _connected_client(scheduler, workers)
    finally:
        dask_log.setLevel(level)


def _connected_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError, TypeError) as e:
            raise ClusterError(
                f"Could not reach the Dask scheduler at {scheduler} ({e}). Check "
                "the address (e.g. tcp://10.0.0.5:8786) and that the scheduler runs."
            ) from e
        with client:
            yield client
        return
    # One thread per worker: scoring holds the GIL, so processes give the
    # parallelism. No dashboard: nothing should listen beyond this run.
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's status routes on a free local port, not on 8787.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _check_parts_arrived(
    parts: list[str], output_dir: Source, scheduler: str | None
) -> None:
    missing = missing_parts(parts, output_dir)
    if missing:
        raise DataError(
            f"{len(missing)} of {len(parts)} parts are not in {output_dir} "
            f"(first: {missing[0]}). The workers of {scheduler or 'the cluster'} "
            "wrote them to their own disks: --output must be on storage they share "
            "with this machine (a shared folder, or a bucket URL)."
        )
