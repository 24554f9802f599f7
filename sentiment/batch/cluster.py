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
this package and its pinned requirements installed.
"""

from __future__ import annotations

import glob
import itertools
import logging
import warnings
from concurrent.futures import CancelledError
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, Future, LocalCluster, as_completed
from tqdm import tqdm

from sentiment import config
from sentiment.batch.pool import PENDING_PER_WORKER, available_cores
from sentiment.batch.step import ScoreSummary, score_chunk
from sentiment.files.formats import DataError, detect_format
from sentiment.files.output import OUTPUT_COLUMNS, to_csv_text
from sentiment.files.reading import check_input_columns, read_csv_chunks
from sentiment.files.storage import atomic_write
from sentiment.model.predictor import Predictor

log = logging.getLogger(__name__)


PARQUET_SUFFIXES = (".parquet", ".pq")


# Rows per partition: large enough that sending a task costs little next to
# scoring it (seconds of work), small enough to spread a file of a million
# rows over dozens of workers.
PARTITION_ROWS = 20_000


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
    all Parquet. Without ``scheduler`` a local cluster of ``workers`` processes
    (default: all cores) is started and stopped; with it, that cluster is used.
    ``output_dir`` must be new or empty. Partitions hold about
    ``partition_rows`` rows (default ``PARTITION_ROWS``). Returns the counts.
    """
    sources = _resolve_inputs(input_path)
    output_dir = Path(output_dir)
    _check_output_dir(output_dir)
    parquet = sources[0].suffix.lower() in PARQUET_SUFFIXES
    make_tasks = _parquet_tasks if parquet else _csv_tasks
    tasks = make_tasks(sources, text_col, partition_rows or PARTITION_ROWS)
    # The first partition is read before any cluster starts, so a wrong column
    # or a malformed file is reported at once.
    tasks = itertools.chain([next(tasks)], tasks)
    output_dir.mkdir(parents=True, exist_ok=True)
    suffix = "parquet" if parquet else "csv"
    parts: list[Path] = []
    with (
        _connect(scheduler, workers or available_cores()) as client,
        tqdm(desc="partitions", unit="part", disable=not progress) as bar,
    ):
        runner = _PartRunner(client, predictor, text_col, threshold, bar)
        runner.score_all_languages = score_all_languages
        limit = PENDING_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
        for number, (task, argument) in enumerate(tasks):
            parts.append(output_dir / f"part-{number:05d}.{suffix}")
            runner.submit(_Part(task, argument, parts[-1]))
            while runner.running.count() >= limit:
                runner.collect(next(runner.running))
        for future in runner.running:  # includes parts sent again meanwhile
            runner.collect(future)
    _check_parts_arrived(parts, scheduler)
    return runner.summary


def _same(value: Any) -> Any:
    """The argument itself: a task whose result is its (recomputable) input."""
    return value


@dataclass
class _Part:
    """One partition's task, its rows (or row groups) and the file it writes."""

    task: Callable[..., ScoreSummary]
    argument: Any
    path: Path
    attempts: int = 0


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
            str(part.path),
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
                    f"{part.path.name} was lost {part.attempts} times with the "
                    "workers running it. Check the workers' logs (memory, "
                    "crashes), then run again into a new folder."
                ) from lost
            log.warning("%s lost with its worker; sending it again", part.path.name)
            self.submit(part)
            return
        self.bar.update()


def _resolve_inputs(input_path: str | Path) -> list[Path]:
    pattern = str(input_path)
    if glob.has_magic(pattern):
        sources = [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]
        if not sources:
            raise DataError(f"No file matches {pattern}.")
    else:
        sources = [Path(pattern)]
        if not sources[0].is_file():
            raise DataError(f"{pattern} does not exist or is not a file.")
    kinds = {s.suffix.lower() in PARQUET_SUFFIXES for s in sources}
    if len(kinds) > 1:
        raise DataError(
            f"{pattern} matches both Parquet and CSV/TSV files; score each kind "
            "separately."
        )
    return sources


def _check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise DataError(
            f"{output_dir} already exists and is not an empty folder. --output "
            "with --engine dask names a new folder for the parts; choose another."
        )


_Task = tuple[Callable[..., ScoreSummary], Any]


def _csv_tasks(
    sources: list[Path], text_col: str, partition_rows: int
) -> Iterator[_Task]:
    for source in sources:
        fmt = detect_format(source)
        score_part = partial(_score_csv_part, delimiter=fmt.delimiter)
        with open(source, "rb") as handle:
            yield from (
                (score_part, chunk)
                for chunk in read_csv_chunks(
                    handle, source, fmt, text_col, partition_rows
                )
            )


def _parquet_tasks(
    sources: list[Path], text_col: str, partition_rows: int
) -> Iterator[_Task]:
    for source in sources:
        metadata = _parquet_metadata(source)
        schema = metadata.schema.to_arrow_schema()
        check_input_columns(schema.names, text_col, source)
        text_type = schema.field(text_col).type
        if not _is_text_type(text_type):
            raise DataError(
                f"Column {text_col!r} of {source} holds {text_type}, not text. "
                "Choose the text column with --text-col."
            )
        for groups in _group_row_groups(metadata, partition_rows):
            yield _score_parquet_part, (str(source), groups)


def _is_text_type(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_null(arrow_type)  # every cell empty
    )


def _parquet_metadata(source: Path) -> pq.FileMetaData:
    try:
        return pq.read_metadata(source)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataError(f"{source} is not a readable Parquet file: {e}") from e


def _group_row_groups(
    metadata: pq.FileMetaData, partition_rows: int
) -> Iterator[list[int]]:
    """Consecutive row groups, packed until a partition holds ``partition_rows``."""
    groups: list[int] = []
    rows = 0
    for index in range(metadata.num_row_groups):
        groups.append(index)
        rows += metadata.row_group(index).num_rows
        if rows >= partition_rows:
            yield groups
            groups, rows = [], 0
    if groups or metadata.num_row_groups == 0:
        yield groups


def _score_csv_part(
    predictor: Predictor,
    rows: pd.DataFrame,
    part: str,
    text_col: str,
    threshold: float | None,
    delimiter: str,
    score_all_languages: bool = False,
) -> ScoreSummary:
    """Score one partition of CSV rows and write it as a CSV part with a header."""
    summary = ScoreSummary()

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            for start, chunk in _chunks(rows):
                scored, counts = score_chunk(
                    predictor, chunk, text_col, threshold, score_all_languages
                )
                out.write(to_csv_text(chunk, scored, delimiter, header=start == 0))
                summary.merge(counts)

    # Atomic: a task Dask re-runs (its worker died) rewrites its part, and a
    # reader never sees half of one.
    atomic_write(Path(part), write)
    return summary


def _score_parquet_part(
    predictor: Predictor,
    source_and_groups: tuple[str, list[int]],
    part: str,
    text_col: str,
    threshold: float | None,
    score_all_languages: bool = False,
) -> ScoreSummary:
    """Score some row groups of a Parquet file and write them as a Parquet part.

    The input columns are written back as read (same Arrow types, nulls kept);
    the prediction columns are appended. Formulas are not neutralized: Parquet
    is not opened by spreadsheets.
    """
    source, groups = source_and_groups
    table = pq.ParquetFile(source).read_row_groups(groups)
    texts = table.column(text_col).to_pandas().to_frame(text_col)
    summary = ScoreSummary()
    scored = []
    for _, chunk in _chunks(texts):
        predictions, counts = score_chunk(
            predictor, chunk, text_col, threshold, score_all_languages
        )
        scored.append(predictions[OUTPUT_COLUMNS])
        summary.merge(counts)
    predictions = pa.Table.from_pandas(
        pd.concat(scored, ignore_index=True), preserve_index=False
    )
    for name in OUTPUT_COLUMNS:
        table = table.append_column(name, predictions.column(name))
    atomic_write(Path(part), lambda tmp: pq.write_table(table, tmp))
    return summary


def _chunks(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(start row, rows)`` in chunks like the single-process run, so memory stays
    flat whatever the partition size; an empty frame gives one empty chunk, so
    its part still has a header and the output columns."""
    for start in range(0, max(len(frame), 1), config.BATCH_CHUNK_ROWS):
        yield start, frame.iloc[start : start + config.BATCH_CHUNK_ROWS]


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


def _check_parts_arrived(parts: list[Path], scheduler: str | None) -> None:
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise DataError(
            f"{len(missing)} of {len(parts)} parts are not in {missing[0].parent} "
            f"(first: {missing[0].name}). The workers of {scheduler or 'the cluster'} "
            "wrote them to their own disks: --output must be on storage they share "
            "with this machine."
        )
