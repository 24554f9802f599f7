"""The scored-file writer's fast path writes what the standard csv writer writes."""

from __future__ import annotations

import csv
import io

import pytest

from sentiment.files.output import LINE_TERMINATOR, csv_text
from tests.unit.files.hostile_corpus import corpus_cells


def _written_by_csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=LINE_TERMINATOR)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("delimiter", [",", ";", "|", "\t"])
def test_rows_are_written_as_the_csv_writer_writes_them(delimiter):
    cells = corpus_cells() + [
        "",
        " ",
        "plain",
        'say "hi"',
        "a,b",
        "a;b",
        "a|b",
        "a\tb",
        "cr\ronly",
        "lf\nonly",
        "0.1234",
        "\x00nul",
        "é ✓ 👍",
    ]
    rows = [
        [cells[i], cells[(i * 7 + 3) % len(cells)], "0.5000"] for i in range(len(cells))
    ]
    rows += [[""], ["", ""], [], ["only"], *([c] for c in cells[:50])]
    assert csv_text(rows, delimiter) == _written_by_csv(rows, delimiter)


def test_no_rows_is_no_text():
    assert csv_text([], ",") == ""
