"""A batch run's staged log rows: the same rows, values and storage classes as
the per-request path (``PredictionLog.append``) writes for the same texts."""

import sqlite3

import pytest

from sentiment import config
from sentiment.batch.step import score_text_columns
from sentiment.ops.log_rows import COLUMNS
from sentiment.ops.log_staging import ScratchRows, StagedLog, staged_columns
from sentiment.ops.logstore import PredictionLog

# What may differ between the two paths: when, from where, under which id.
_RUN_COLUMNS = {"ts", "source", "request_id", "model_version"}
_COMPARED = [c for c in COLUMNS if c not in _RUN_COLUMNS]

# Texts whose row values each take another branch of the conversion.
TEXTS = [
    "i love pizza",
    "",
    "i hate my car",
    "zzz qqq",  # no known word
    "lone surrogate \ud800 here",  # stored escaped, hashed as received
    "nul \x00 inside",
    "café 😀 ok",
    "x" * (config.MAX_TEXT_CHARS + 7),  # cut when stored, length as received
    "Das ist ein wunderschöner Tag und ich bin heute sehr glücklich darüber",
]


def logged(path, source):
    """The compared columns and their storage classes, in id order."""
    values = ", ".join(_COMPARED)
    types = ", ".join(f"typeof({c})" for c in _COMPARED)
    with sqlite3.connect(path) as conn:
        return conn.execute(
            f"SELECT {values}, {types} FROM predictions WHERE source = ? ORDER BY id",
            (source,),
        ).fetchall()


@pytest.mark.parametrize("store_text", [True, False])
def test_staged_rows_are_the_rows_append_writes(tmp_path, tiny_predictor, store_text):
    path = tmp_path / "p.db"
    log = PredictionLog(path, store_text=store_text)
    scores = score_text_columns(tiny_predictor, TEXTS, None, False)
    assert "unsupported_language" in scores.status.tolist()
    # Two uneven additions, copied in transactions that split them differently.
    with StagedLog(log, "batch", "v", rows_per_commit=4) as staged:
        staged.add(TEXTS[:5], score_text_columns(tiny_predictor, TEXTS[:5], None))
        staged.add(TEXTS[5:], score_text_columns(tiny_predictor, TEXTS[5:], None))
        assert staged.commit() == (len(TEXTS), 0)
    log.append("api", None, "v", TEXTS, scores.frame())
    log.append("cli", None, "v", TEXTS, scores)
    batch = logged(path, "batch")
    assert [row[_COMPARED.index("item")] for row in batch] == list(range(len(TEXTS)))
    assert batch == logged(path, "api") == logged(path, "cli")
    texts = [row[_COMPARED.index("text")] for row in batch]
    assert texts[7] == ("x" * config.MAX_TEXT_CHARS if store_text else None)


def test_rows_of_mismatched_lengths_are_refused_before_any_is_staged(
    tmp_path, tiny_predictor
):
    log = PredictionLog(tmp_path / "p.db")
    with StagedLog(log, "batch", "v") as staged:
        with pytest.raises(ValueError, match="pair up"):
            staged.add(TEXTS, tiny_predictor.score_columns(TEXTS[:-1]))
        staged.add(TEXTS[:2], tiny_predictor.score_columns(TEXTS[:2]))
        assert staged.commit() == (2, 0)
    assert log.predictions()["item"].tolist() == [0, 1]


def test_chunks_split_over_several_inserts_keep_every_row_in_order(
    tmp_path, tiny_predictor, monkeypatch
):
    # A chunk is staged in statements of several rows each; with 4 rows to a
    # statement, chunks of 9, 1 and 8 rows end mid-statement, fill exactly two
    # and take a single row, and the copy's transactions split them again.
    from sentiment.ops import log_staging

    monkeypatch.setattr(log_staging, "_ROWS_PER_INSERT", 4)
    texts = [f"{text} {i}" for i, text in enumerate(TEXTS * 2)]
    path = tmp_path / "p.db"
    log = PredictionLog(path)
    with StagedLog(log, "batch", "v", rows_per_commit=5) as staged:
        assert staged._own.rows_per_insert == 4
        for part in (texts[:9], texts[9:10], texts[10:]):
            staged.add(part, score_text_columns(tiny_predictor, part, None))
        assert staged.commit() == (len(texts), 0)
    log.append("api", None, "v", texts, score_text_columns(tiny_predictor, texts, None))
    batch = logged(path, "batch")
    assert [row[_COMPARED.index("item")] for row in batch] == list(range(len(texts)))
    assert batch == logged(path, "api")


def test_rows_staged_in_more_worker_files_than_sqlite_attaches_arrive_in_order(
    tmp_path, tiny_predictor
):
    # Twelve "workers" take chunks of three rows in turn, as a pool does.
    texts = [f"{text} {i}" for i, text in enumerate(TEXTS * 4)]
    path = tmp_path / "p.db"
    log = PredictionLog(path)
    with StagedLog(log, "batch", "v", rows_per_commit=7) as staged:
        workers = [ScratchRows(staged.folder / f"worker-{n}.db") for n in range(12)]
        for n, first in enumerate(range(0, len(texts), 3)):
            part = texts[first : first + 3]
            scores = score_text_columns(tiny_predictor, part, None)
            columns = staged_columns(part, scores, log.store_text)
            staged.add_staged(workers[n % 12].add(first, columns))
        assert staged.commit() == (len(texts), 0)
        for worker in workers:
            worker.close()
    log.append("api", None, "v", texts, score_text_columns(tiny_predictor, texts, None))
    batch = logged(path, "batch")
    assert [row[_COMPARED.index("item")] for row in batch] == list(range(len(texts)))
    assert batch == logged(path, "api")
