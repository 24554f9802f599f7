"""A batch run's copy into the log checkpoints its WAL on another thread: the
rows reach the database file itself, and the writer's automatic checkpoints
come back afterwards."""

import logging
import shutil
import sqlite3
import types

from sentiment.batch.step import score_text_columns
from sentiment.ops import log_checkpoint
from sentiment.ops.log_staging import StagedLog
from sentiment.ops.logstore import PredictionLog

TEXTS = ["i love pizza", "i hate my car", "meh", "best day ever", "so so"] * 4


def copy_texts(log, predictor):
    """Stage TEXTS and copy them into ``log``; returns (logged, not_logged)."""
    with StagedLog(log, "batch", "v", rows_per_commit=6) as staged:
        staged.add(TEXTS, score_text_columns(predictor, TEXTS, None))
        return staged.commit()


def rows_in_database_file(path, scratch):
    """The predictions in ``path`` without its WAL (a copy of the file alone)."""
    shutil.copyfile(path, scratch)
    with sqlite3.connect(scratch) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if "predictions" not in {name for (name,) in tables}:
            return 0
        return conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]


def test_copied_rows_reach_the_database_file_while_the_log_stays_open(
    tmp_path, tiny_predictor
):
    # Far fewer pages than an automatic checkpoint waits for: without the
    # thread, every row would still be in the WAL alone. The folder's name
    # has what a file URI must escape.
    folder = tmp_path / "logs #1 ?100%"
    log = PredictionLog(folder / "p.db")
    assert copy_texts(log, tiny_predictor) == (len(TEXTS), 0)
    assert rows_in_database_file(log.path, tmp_path / "file-only.db") == len(TEXTS)
    assert log.predictions()["item"].tolist() == list(range(len(TEXTS)))


def test_the_writer_checkpoints_automatically_again_after_the_copy(tmp_path):
    log = PredictionLog(tmp_path / "p.db")
    automatic = log.set_autocheckpoint(1000)
    with log_checkpoint.checkpoint_alongside(log):
        assert log.set_autocheckpoint(0) == 0
    assert log.set_autocheckpoint(automatic) == 1000


def test_a_checkpoint_that_fails_is_logged_and_loses_no_row(
    tmp_path, tiny_predictor, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    fake = types.SimpleNamespace(connect=refuse, Error=sqlite3.Error)
    monkeypatch.setattr(log_checkpoint, "sqlite3", fake)
    log = PredictionLog(tmp_path / "p.db")
    with caplog.at_level(logging.WARNING, logger=log_checkpoint.__name__):
        assert copy_texts(log, tiny_predictor) == (len(TEXTS), 0)
    assert "checkpoint failed (unable to open database file)" in caplog.text
    assert log.predictions()["text"].tolist() == TEXTS


def test_a_log_removed_while_it_is_open_is_not_created_again(tmp_path, caplog):
    log = PredictionLog(tmp_path / "p.db")  # its connection stays open
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"p.db{suffix}").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING, logger=log_checkpoint.__name__):
        with log_checkpoint.checkpoint_alongside(log):
            pass
    assert not (tmp_path / "p.db").exists()
    assert "checkpoint failed (unable to open database file)" in caplog.text
