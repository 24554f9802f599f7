"""CSV -> CSV scoring on this machine: streamed in chunks, on one process or a
pool (``--jobs``), every row kept in order, the output delivered whole or not
at all."""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

from sentiment import config
from sentiment.batch.pool import map_ordered
from sentiment.batch.step import (
    NoProgress,
    ScoreSummary,
    _score_csv_chunk,
    file_progress,
)
from sentiment.files.formats import DataError
from sentiment.files.output import header_csv_text
from sentiment.files import remote
from sentiment.files.reading import (
    TableReader,
    check_input_columns,
    row_chunks,
    warn_about_decoding,
)
from sentiment.files.storage import atomic_write
from sentiment.model.predictor import Predictor, model_version
from sentiment.ops.log_staging import StagedLog
from sentiment.ops.logstore import PredictionLog

log = logging.getLogger(__name__)


def score_csv(
    input_path: str | Path,
    output_path: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    progress: bool = True,
    prediction_log: PredictionLog | None = None,
    jobs: int = 1,
    delimiter: str | None = None,
    score_all_languages: bool = False,
) -> ScoreSummary:
    """Score a CSV/TSV chunk by chunk into ``output_path`` (UTF-8, same delimiter).

    Every input row and column is kept, in order, with ``OUTPUT_COLUMNS``
    appended. Memory stays flat whatever the file size. The output is written
    to a temporary file beside ``output_path`` and renamed over it only when
    every row is written: a refused or failed run leaves an existing file as
    it was. Either path may be a URL (s3://, az://): the input is then read
    in ranged blocks and the output uploaded whole once every row is written
    (:mod:`sentiment.files.remote`). With a ``prediction_log`` the rows are
    logged as source "batch", one request id per run and the row number as
    item, once the output is in place (:class:`StagedLog`). With ``jobs`` > 1,
    chunks are scored by that many worker processes and written in input
    order by this one: the output is byte for byte that of ``jobs=1``.
    ``delimiter`` overrides detection. Posts in a language the model was not
    trained for are not scored (status ``unsupported_language``) unless
    ``score_all_languages``.
    """
    input_path = remote.local_or_url(input_path)
    output_path = remote.local_or_url(output_path)
    if _same_file(input_path, output_path):
        raise DataError(
            "--output must differ from the input file, or it is overwritten."
        )
    fmt = remote.detect_source_format(input_path, delimiter)
    summary = ScoreSummary()
    with contextlib.ExitStack() as stack:
        staged = (
            None
            if prediction_log is None
            else stack.enter_context(
                StagedLog(prediction_log, "batch", model_version(predictor))
            )
        )

        def write(tmp: Path) -> None:
            with (
                remote.open_source(input_path) as handle,
                _progress(input_path, progress) as bar,
                open(tmp, "w", encoding="utf-8", newline="") as out,
            ):
                table = TableReader(handle, fmt, input_path)
                check_input_columns(table.header, text_col, input_path)
                out.write(header_csv_text(table.header, fmt.delimiter))
                task = partial(
                    _score_csv_chunk,
                    stage_folder=(
                        str(staged.folder) if staged is not None and jobs > 1 else None
                    ),
                    text_index=table.header.index(text_col),
                    threshold=threshold,
                    delimiter=fmt.delimiter,
                    score_all_languages=score_all_languages,
                    log_text=(
                        None if prediction_log is None else prediction_log.store_text
                    ),
                )
                chunks = _numbered(row_chunks(table, chunk_rows))
                for done in map_ordered(task, chunks, predictor, jobs):
                    out.write(done.csv_text)
                    if staged is not None and done.log_columns is None:
                        staged.add_staged(done.staged_rows)  # a worker's
                    elif staged is not None:
                        staged.add_columns(done.log_columns)
                    summary.merge(done.summary)
                    bar.update(handle.tell() - bar.n)
            warn_about_decoding(table)

        if isinstance(output_path, str):
            remote.deliver(output_path, write)  # uploaded whole, once complete
        else:
            atomic_write(output_path, write, mode=None)
        if staged is not None:
            _, not_logged = staged.commit()
            if not_logged:
                log.error("%d scored rows could not be logged.", not_logged)
    return summary


def _numbered(
    chunks: Iterable[list[list[str]]],
) -> Iterator[tuple[int, list[list[str]]]]:
    """Each chunk with the item number (0-based row) of its first row."""
    first = 0
    for rows in chunks:
        yield first, rows
        first += len(rows)


def _same_file(first: str | Path, second: str | Path) -> bool:
    """True when both name one file (same URL, or same resolved local path)."""
    if isinstance(first, str) or isinstance(second, str):
        return str(first) == str(second)
    return first.resolve() == second.resolve()


def _progress(source: str | Path, enabled: bool) -> Any:
    """A progress bar over the input's bytes (local file or object)."""
    if not enabled:
        return NoProgress()
    if isinstance(source, str):
        from tqdm import tqdm

        total = remote.size(source)
        return tqdm(total=total, unit="B", unit_scale=True, desc="scoring")
    return file_progress(source, enabled)
