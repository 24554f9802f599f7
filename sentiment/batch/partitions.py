"""The partitions of a Dask run: which files, how they are cut, and the task
that scores one partition into its part (run on a worker).

CSV/TSV partitions are rows read here with the single-process parser; Parquet
partitions are row groups each worker reads itself. Each task scores with the
same step as the single-process run and writes its part atomically.
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
from sentiment.files.formats import DataError, detect_format
from sentiment.files.output import OUTPUT_COLUMNS, to_csv_text
from sentiment.files.reading import check_input_columns, read_csv_chunks
from sentiment.files.storage import atomic_write
from sentiment.model.predictor import Predictor

PARQUET_SUFFIXES = (".parquet", ".pq")

# Rows per partition: large enough that sending a task costs little next to
# scoring it (seconds of work), small enough to spread a file of a million
# rows over dozens of workers.
PARTITION_ROWS = 20_000


def resolve_inputs(input_path: str | Path) -> list[Path]:
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


def check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise DataError(
            f"{output_dir} already exists and is not an empty folder. --output "
            "with --engine dask names a new folder for the parts; choose another."
        )


Task = tuple[Callable[..., ScoreSummary], Any]


def csv_tasks(
    sources: list[Path], text_col: str, partition_rows: int
) -> Iterator[Task]:
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


def parquet_tasks(
    sources: list[Path], text_col: str, partition_rows: int
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
