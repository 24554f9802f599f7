"""The partitions of a Dask run: which files, how they are cut, and the task
that scores one partition into its part (run on a worker).

CSV/TSV partitions are rows read here with the single-process parser; Parquet
partitions are row groups each worker reads itself. Each task scores with the
same step as the single-process run and writes its part atomically: a local
file renamed into place, or an object uploaded whole once complete.

Inputs and the output folder may be URLs (``s3://bucket/in/*.csv``,
``az://container/scored/``, :mod:`sentiment.files.remote`). Workers then read
Parquet row groups and write parts on the object store themselves, with the
credentials their own environment gives the SDKs (``AWS_*``, ``~/.aws``,
``AZURE_STORAGE_CONNECTION_STRING``...).
"""

from __future__ import annotations

import glob
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sentiment import config
from sentiment.batch.step import ScoreSummary, score_chunk
from sentiment.files import remote
from sentiment.files.formats import DataError
from sentiment.files.output import OUTPUT_COLUMNS, to_csv_text
from sentiment.files.reading import check_input_columns, read_csv_chunks
from sentiment.files.storage import atomic_write
from sentiment.model.predictor import Predictor

PARQUET_SUFFIXES = (".parquet", ".pq")

# Rows per partition: large enough that sending a task costs little next to
# scoring it (seconds of work), small enough to spread a file of a million
# rows over dozens of workers.
PARTITION_ROWS = 20_000


Source = Path | str  # a local file, or an object's URL


def resolve_inputs(input_path: str | Path) -> list[Source]:
    """The input files (or objects) a path, URL or glob of either names."""
    pattern = str(input_path)
    if glob.has_magic(pattern):
        sources: list[Source] = (
            list(remote.glob_urls(pattern))
            if remote.is_url(pattern)
            else [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]
        )
        if not sources:
            raise DataError(f"No file matches {pattern}.")
    else:
        sources = [remote.local_or_url(pattern)]
        if not _exists(sources[0]):
            raise DataError(f"{pattern} does not exist or is not a file.")
    kinds = {is_parquet(s) for s in sources}
    if len(kinds) > 1:
        raise DataError(
            f"{pattern} matches both Parquet and CSV/TSV files; score each kind "
            "separately."
        )
    return sources


def is_parquet(source: Source) -> bool:
    """Whether a file or object is Parquet, by its name."""
    return Path(str(source)).suffix.lower() in PARQUET_SUFFIXES


def _exists(source: Source) -> bool:
    return remote.is_object(source) if isinstance(source, str) else source.is_file()


def check_output_dir(output_dir: Source) -> None:
    """Refuse an output folder (or URL prefix) that already holds something."""
    if isinstance(output_dir, str):
        if remote.list_objects(output_dir):
            raise DataError(
                f"{output_dir} already holds objects. --output with --engine dask "
                "names a new prefix for the parts; choose another."
            )
        return
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise DataError(
            f"{output_dir} already exists and is not an empty folder. --output "
            "with --engine dask names a new folder for the parts; choose another."
        )


def part_target(output_dir: Source, number: int, suffix: str) -> str:
    """Where part ``number`` is written: a local path or a URL, as a string."""
    name = f"part-{number:05d}.{suffix}"
    if isinstance(output_dir, str):
        return f"{output_dir.rstrip('/')}/{name}"
    return str(output_dir / name)


def missing_parts(parts: list[str], output_dir: Source) -> list[str]:
    """The parts that are not where this process can see them."""
    if isinstance(output_dir, str):
        present = set(remote.list_objects(output_dir))
        return [part for part in parts if part not in present]
    return [part for part in parts if not Path(part).is_file()]


def _write_part(part: str, write: Callable[[Path], None]) -> None:
    """Write a part whole: a task Dask re-runs (its worker died) replaces it,
    and a reader never sees half of one."""
    if remote.is_url(part):
        remote.deliver(part, write)
    else:
        atomic_write(Path(part), write)


Task = tuple[Callable[..., ScoreSummary], Any]


def csv_tasks(
    sources: list[Source], text_col: str, partition_rows: int
) -> Iterator[Task]:
    for source in sources:
        fmt = remote.detect_source_format(source)
        score_part = partial(_score_csv_part, delimiter=fmt.delimiter)
        with remote.open_source(source) as handle:
            yield from (
                (score_part, chunk)
                for chunk in read_csv_chunks(
                    handle, source, fmt, text_col, partition_rows
                )
            )


def parquet_tasks(
    sources: list[Source], text_col: str, partition_rows: int
) -> Iterator[Task]:
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


def _parquet_metadata(source: Source) -> pq.FileMetaData:
    try:
        with remote.open_source(source) as handle:
            return pq.read_metadata(handle)
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

    _write_part(part, write)
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
    with remote.open_source(remote.local_or_url(source)) as handle:
        table = pq.ParquetFile(handle).read_row_groups(groups)
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
    _write_part(part, lambda tmp: pq.write_table(table, tmp))
    return summary


def _chunks(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(start row, rows)`` in chunks like the single-process run, so memory stays
    flat whatever the partition size; an empty frame gives one empty chunk, so
    its part still has a header and the output columns."""
    for start in range(0, max(len(frame), 1), config.BATCH_CHUNK_ROWS):
        yield start, frame.iloc[start : start + config.BATCH_CHUNK_ROWS]
