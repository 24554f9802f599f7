"""CSV -> CSV scoring on this machine: streamed in chunks, on one process or a
pool (``--jobs``), every row kept in order."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from tqdm import tqdm

from sentiment import config
from sentiment.batch.pool import map_ordered
from sentiment.batch.step import ScoreSummary, _score_csv_chunk
from sentiment.files.formats import DataError, detect_format
from sentiment.files.reading import read_csv_chunks
from sentiment.model.predictor import Predictor, model_version
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
) -> ScoreSummary:
    """Score a CSV/TSV chunk by chunk into ``output_path`` (UTF-8, same delimiter).

    Every input row and column is kept, in order, with ``OUTPUT_COLUMNS``
    appended. Memory stays flat whatever the file size. With a
    ``prediction_log`` each chunk is logged as source "batch", one request id
    per run and the row number as item. With ``jobs`` > 1, chunks are scored
    by that many worker processes, then logged and written in input order by
    this one: the output is byte for byte that of ``jobs=1``.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise DataError(
            "--output must differ from the input file, or it is overwritten."
        )
    fmt = detect_format(input_path)
    summary = ScoreSummary()
    run_id: str | None = None  # the log's request id for this run
    task = partial(
        _score_csv_chunk,
        text_col=text_col,
        threshold=threshold,
        delimiter=fmt.delimiter,
    )
    with (
        open(input_path, "rb") as handle,
        tqdm(
            total=input_path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="scoring",
            disable=not progress,
        ) as bar,
        open(output_path, "w", encoding="utf-8", newline="") as out,
    ):
        chunks = read_csv_chunks(handle, input_path, fmt, text_col, chunk_rows)
        for done in map_ordered(task, enumerate(chunks), predictor, jobs):
            if prediction_log is not None:
                run_id = prediction_log.append(
                    "batch",
                    run_id,
                    model_version(predictor),
                    done.texts,
                    done.scored,
                    first_item=summary.rows,
                ).request_id
            out.write(done.csv_text)
            summary.merge(done.summary)
            bar.update(handle.tell() - bar.n)
    return summary
