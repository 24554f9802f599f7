"""CSV -> CSV scoring without pandas: the fast tier's batch path (issue 15).

The same contract as :func:`sentiment.batch.local.score_csv` (every row and
column kept in order, prediction columns appended, formulas neutralised,
encoding and delimiter detected, ``--jobs N`` output identical to ``--jobs
1``, one log write per chunk), with the standard library's csv module for
reading and writing, so a scoring process imports neither pandas nor SciPy
nor scikit-learn. A row whose field count differs from the header's is
refused with its line number rather than guessed at, and the output is
written beside its destination and renamed into place only on success.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any, Iterator, NamedTuple, TextIO

from sentiment import config
from sentiment.batch.pool import map_ordered
from sentiment.batch.step import ScoreSummary
from sentiment.files.formats import DataError, TableFormat, detect_format
from sentiment.files.output import (
    OUTPUT_COLUMNS,
    SCORED_FLOAT_FORMAT,
    neutralize_cell,
)
from sentiment.model.predictor import Predictor, model_version
from sentiment.ops.logstore import PredictionLog

# Cells that may start a formula (the guard's first character class).
_FORMULA_FIRST = frozenset("=+-@\t\r\n\x00")


# The longest field read: far beyond a post (cut to MAX_TEXT_CHARS anyway),
# short of a file that is one unterminated quote.
_FIELD_LIMIT = 16 * 1024 * 1024


class _Chunk(NamedTuple):
    """What scoring one chunk gives back to the process writing the file."""

    csv_text: str
    summary: ScoreSummary
    texts: list[str]
    scores: Any  # predictor._Scores, for the prediction log


def read_rows(
    text: TextIO, path: Path, fmt: TableFormat, text_col: str, chunk_rows: int
) -> tuple[list[str], int, Iterator[list[list[str]]]]:
    """The header, the text column's index and the data rows in chunks.

    Raises DataError for a missing header or text column, duplicate or
    clashing column names, and (while iterating) a row whose field count
    differs from the header's, naming its line.
    """
    csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(text, delimiter=fmt.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path} has no header row.") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise _bad_table(path, 1, error) from error
    _check_header(header, text_col, path)
    return header, header.index(text_col), _chunks(reader, header, path, chunk_rows)


def _chunks(
    reader: Any, header: list[str], path: Path, chunk_rows: int
) -> Iterator[list[list[str]]]:
    width = len(header)
    chunk: list[list[str]] = []
    try:
        for row in reader:
            if len(row) != width:
                if row:
                    raise DataError(
                        f"{path} line {reader.line_num}: {len(row)} fields where the "
                        f"header has {width}. Quote fields that contain the "
                        f"delimiter {reader.dialect.delimiter!r}, or fix the row."
                    )
                row = [""] * width  # a blank line: an empty post, kept
            chunk.append(row)
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
    except (csv.Error, UnicodeDecodeError) as error:
        raise _bad_table(path, reader.line_num, error) from error
    if chunk:
        yield chunk


def _bad_table(path: Path, line: int, error: Exception) -> DataError:
    return DataError(
        f"{path} line {line} cannot be read ({error}). Check for an unclosed quote, "
        "a NUL byte or a mixed encoding, and save the file as UTF-8 CSV."
    )


def _check_header(header: list[str], text_col: str, path: Path) -> None:
    if text_col not in header:
        found = ", ".join(map(repr, header))
        raise DataError(
            f"{path} has no column {text_col!r}. Columns found: {found}. Choose the "
            "right one with --text-col."
        )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(
            f"{path} has duplicate column name(s) {', '.join(map(repr, duplicates))}; "
            "rename them so each column can be told apart."
        )
    clash = [c for c in OUTPUT_COLUMNS if c in header]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "output adds. Rename them (is this an already scored file?)."
        )


def _guard(cells: list[str]) -> list[str]:
    """The formula guard on every cell that could start a formula."""
    if any(c[:1] in _FORMULA_FIRST for c in cells if c):
        return [neutralize_cell(c) if c else c for c in cells]
    return cells


def _number(value: float) -> str:
    return "" if value != value else SCORED_FLOAT_FORMAT % value  # NaN: empty


def score_rows(
    predictor: Predictor,
    numbered: tuple[int, list[list[str]]],
    text_index: int,
    threshold: float | None,
    delimiter: str,
    header: list[str],
) -> _Chunk:
    """Score one chunk of rows into the CSV text the output holds for them."""
    number, rows = numbered
    texts = [row[text_index] for row in rows]
    scores = predictor.score_columns(texts, threshold)
    summary = ScoreSummary()
    summary.add(scores._asdict())
    lines = [_guard(header) + OUTPUT_COLUMNS] if number == 0 else []
    probabilities = scores.probabilities.tolist()
    confidence = scores.confidence.tolist()
    review = scores.needs_review.tolist()
    for row, label, conf, probs, flag, status in zip(
        rows, scores.labels.tolist(), confidence, probabilities, review, scores.status
    ):
        lines.append(
            [
                *_guard(row),
                label,
                _number(conf),
                *map(_number, probs),
                "True" if flag else "False",
                status,
            ]
        )
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(lines)
    text = out.getvalue()
    if "\r" in text:  # csv quotes \n but not a lone \r: quote such fields too
        text = "".join(
            delimiter.join(_quote(c, delimiter) for c in line) + "\n" for line in lines
        )
    return _Chunk(text, summary, texts, scores)


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\r", "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def score_csv_fast(
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
    """Score a CSV/TSV into ``output_path`` (UTF-8, same delimiter) without pandas.

    The output appears only when every row was scored: it is written to a
    temporary file beside ``output_path`` and renamed over it at the end, so
    a refused or failed run leaves an existing file untouched.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise DataError(
            "--output must differ from the input file, or it is overwritten."
        )
    fmt = detect_format(input_path)
    summary = ScoreSummary()
    run_id: str | None = None
    output_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=output_path.parent, prefix=f".{output_path.name}.", suffix=".tmp"
    )
    tmp = Path(tmp_name)
    try:
        # The caller holds the text stream: a reader read to its end must not
        # close the file while --jobs workers are still scoring its last rows.
        with (
            open(input_path, "rb") as handle,
            io.TextIOWrapper(handle, encoding=fmt.encoding, newline="") as text,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
            _progress(input_path, progress) as bar,
        ):
            header, text_index, chunks = read_rows(
                text, input_path, fmt, text_col, chunk_rows
            )
            task = partial(
                score_rows,
                text_index=text_index,
                threshold=threshold,
                delimiter=fmt.delimiter,
                header=header,
            )
            wrote_header = False
            for done in map_ordered(task, enumerate(chunks), predictor, jobs):
                if prediction_log is not None:
                    run_id = prediction_log.append(
                        "batch",
                        run_id,
                        model_version(predictor),
                        done.texts,
                        done.scores,
                        first_item=summary.rows,
                    ).request_id
                out.write(done.csv_text)
                wrote_header = True
                summary.merge(done.summary)
                bar.update(handle.tell() - bar.n)
            if not wrote_header:  # a header and no rows: still a scored file
                csv.writer(out, delimiter=fmt.delimiter, lineterminator="\n").writerow(
                    _guard(header) + OUTPUT_COLUMNS
                )
        os.chmod(tmp, 0o644)
        os.replace(tmp, output_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def _progress(path: Path, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc="scoring",
        disable=not progress,
    )
