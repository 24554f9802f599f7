"""The scored-file writer's fast path writes what the standard csv writer writes."""

from __future__ import annotations

import csv
import io

import numpy as np
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


def test_numbers_are_written_as_four_decimal_formatting_writes_them():
    from sentiment.files.output import _numbers

    rng = np.random.default_rng(7)
    ties = (np.arange(10000) + 0.5) / 10000  # where a float product could round wrong
    values = np.concatenate(
        [
            rng.random(20000),
            ties,
            np.nextafter(ties, 0),
            np.nextafter(ties, 1),
            [np.nan, 0.0, -0.0, 1.0, 1.00004, 0.99995, -1e-9, 2.5, np.inf, -np.inf],
        ]
    )
    expected = ["" if v != v else f"{v:.4f}" for v in values.tolist()]
    assert _numbers(values) == expected
    assert _numbers(values.tolist()) == expected
