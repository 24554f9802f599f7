"""The batch CLI on every file of the hostile corpus: every row kept with equal
cells (read back with the csv module, not our reader), or exit code 2 with a
message naming the line, the previous output untouched and nothing logged."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentiment import config, predict
from sentiment.files.output import OUTPUT_COLUMNS
from sentiment.model.artifacts import save_model
from tests.unit.files.hostile_corpus import Case, corpus, million_rows

PREVIOUS = b"previous output, which a failed run must leave alone\n"


# Checked with --jobs 2 as well: the pool must deliver, and refuse, alike.
WITH_WORKERS = {"bad_row_late.csv", "quoted_fields.csv", "mixed_utf8_cp1252.csv"}


@pytest.fixture(scope="module")
def corpus_model(tiny_pipeline, tmp_path_factory) -> Path:
    """The tiny model saved once for every file (saving it takes seconds)."""
    path = tmp_path_factory.mktemp("model") / "model.pkl"
    save_model(tiny_pipeline, path, {"versions": {}})
    return path


def neutralized(cell: str) -> str:
    """The README's formula guard, written out independently of the code."""
    number = re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell)
    return "'" + cell if cell[:1] in "=+-@\t\r\n\x00" and cell and not number else cell


def read_output(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    first_line = text.split("\n", 1)[0].removesuffix("\r")
    (delimiter,) = [d for d in ",;\t|" if first_line.endswith(d.join(OUTPUT_COLUMNS))]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def logged_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM predictions").fetchone()[0]


def run_cli(case: Case, tmp_path: Path, model: Path, jobs: str) -> tuple[int, str]:
    source = tmp_path / case.name
    source.write_bytes(case.data)
    code = predict.main(
        [str(source), "-o", str(tmp_path / "out.csv"), "--jobs", jobs]
        + ["--no-progress", "--model", str(model), "--trust-model-path"]
    )
    return code, source


def cases_and_jobs() -> list:
    return [
        pytest.param(case, jobs, id=f"{case.name}-j{jobs}")
        for case in corpus()
        for jobs in (["1", "2"] if case.name in WITH_WORKERS else ["1"])
    ]


@pytest.mark.parametrize("case, jobs", cases_and_jobs())
def test_every_row_is_kept_or_the_file_is_refused_and_nothing_changes(
    case, jobs, tmp_path, corpus_model, monkeypatch, capsys
):
    out = tmp_path / "out.csv"
    out.write_bytes(PREVIOUS)
    log_db = tmp_path / "log.db"
    monkeypatch.setenv(config.LOG_DB_ENV, str(log_db))

    code, _ = run_cli(case, tmp_path, corpus_model, jobs)

    err = capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    if case.refusal:
        assert code == 2, err
        assert err.startswith("error: ") and "Traceback" not in err
        assert all(word in err for word in case.refusal), err
        assert out.read_bytes() == PREVIOUS
        assert logged_rows(log_db) == 0
        return
    assert code == 0, err
    header, rows = case.table
    table = read_output(out)
    assert table[0] == [*map(neutralized, header), *OUTPUT_COLUMNS]
    assert len(table) - 1 == len(rows)
    assert [row[: len(header)] for row in table[1:]] == [
        list(map(neutralized, row)) for row in rows
    ]
    assert {len(row) for row in table} <= {len(header) + len(OUTPUT_COLUMNS)}
    assert logged_rows(log_db) == len(rows)


def test_the_corpus_is_large_and_mixed():
    cases = corpus()
    assert len(cases) >= 25
    assert sum(bool(c.table) for c in cases) >= 20
    assert sum(bool(c.refusal) for c in cases) >= 10


def test_lines_read_as_cp1252_are_named_in_a_warning(tmp_path, corpus_model, caplog):
    (case,) = [c for c in corpus() if c.name == "mixed_utf8_cp1252.csv"]
    code, source = run_cli(case, tmp_path, corpus_model, "1")
    assert code == 0
    (warning,) = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and r.name == "sentiment.files.reading"
    ]
    assert warning.getMessage().startswith(
        f"{source}: 1 line(s) are not valid UTF-8 and were read as Windows-1252"
    )
    assert "line(s) 3." in warning.getMessage()


def test_a_million_rows_come_back_in_order_with_equal_cells(tmp_path, corpus_model):
    source, out = tmp_path / "million.csv", tmp_path / "scored.csv"
    header = million_rows(source)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sentiment.predict", str(source), "-o", str(out)]
        + ["--jobs", "2", "--no-progress", "--no-log"]
        + ["--model", str(corpus_model), "--trust-model-path"],
        check=True,
        cwd=config.PROJECT_ROOT,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    rows = 0
    with (
        open(source, newline="", encoding="utf-8") as a,
        open(out, newline="", encoding="utf-8") as b,
    ):
        originals, written = csv.reader(a), csv.reader(b)
        assert next(written) == [*header, *OUTPUT_COLUMNS] and next(originals)
        for original, scored in zip(originals, written, strict=True):
            assert scored[:3] == list(map(neutralized, original)), rows
            rows += 1
    assert rows == 1_000_000
    print(f"1M rows, --jobs 2: {seconds:.1f} s")
