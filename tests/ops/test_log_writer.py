"""The queued log writer: commit before the answer, or say it was not logged.

A real SQLite file, a real second connection holding the write lock, and the
writer's real thread; predictions are duck-typed like ``Prediction``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from types import SimpleNamespace

import pytest

from sentiment.ops.log_queries import dropped_path
from sentiment.ops.log_writer import QueuedLogWriter
from sentiment.ops.logstore import PredictionLog

PREDICTION = SimpleNamespace(
    label="neutral",
    confidence=0.5,
    needs_review=True,
    probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3},
    status="ok",
)


def request(key: str, texts: int = 1):
    return (
        key,
        f"corr-{key}",
        [f"post {key} {i}" for i in range(texts)],
        [PREDICTION] * texts,
    )


class Outcome:
    """Collects ``on_done`` calls from the writer thread."""

    def __init__(self) -> None:
        self.logged: bool | None = None
        self.done = threading.Event()

    def __call__(self, logged: bool) -> None:
        self.logged = logged
        self.done.set()


def keys_in(db) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [
            r[0] for r in conn.execute("SELECT request_id FROM predictions ORDER BY id")
        ]


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "predictions.db"
    PredictionLog(path).close()
    return path


@pytest.fixture()
def plog(db):
    with PredictionLog(db) as log:
        yield log


@pytest.fixture()
def held_lock(db, plog):
    """Another connection holding SQLite's write lock until released.

    Opening a log writes its schema, so ``plog`` is opened before the lock.
    """
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    yield blocker
    if blocker.in_transaction:
        blocker.rollback()
    blocker.close()


def test_rows_are_committed_before_on_done_says_logged(db):
    writer = QueuedLogWriter(PredictionLog(db), capacity=10)
    writer.start()
    seen_at_done: list[list[str]] = []

    def on_done(logged: bool) -> None:
        seen_at_done.append(keys_in(db) if logged else [])

    writer.submit("v", [request("a", 2), request("b")], on_done)
    writer.close()
    assert seen_at_done == [["a", "a", "b"]]  # visible to another connection
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT request_id, item, correlation_id FROM predictions")
        assert rows.fetchall() == [
            ("a", 0, "corr-a"),
            ("a", 1, "corr-a"),
            ("b", 0, "corr-b"),
        ]
    assert writer.not_logged == 0


def test_a_withdrawn_write_is_never_committed_and_is_counted(db, plog, held_lock):
    writer = QueuedLogWriter(plog, capacity=10)
    writer.start()
    outcome = Outcome()
    write = writer.submit("v", [request("late", 3)], outcome)
    assert write is not None and write.withdraw()  # the caller stopped waiting
    writer.count_not_logged(write, "not committed within 1 ms")
    held_lock.rollback()  # the lock goes; the writer gets it and skips the write
    writer.close()
    assert keys_in(db) == []
    assert not outcome.done.is_set()  # its caller already answered
    assert writer.not_logged == 3
    drops = [json.loads(x) for x in dropped_path(db).read_text().splitlines()]
    assert [(d["request_id"], d["rows"]) for d in drops] == [("late", 3)]
    assert "not committed within" in drops[0]["error"]


def test_a_full_queue_refuses_at_once_and_earlier_writes_still_land(
    db, plog, held_lock
):
    writer = QueuedLogWriter(plog, capacity=1)
    writer.start()
    first, second = Outcome(), Outcome()
    assert writer.submit("v", [request("first")], first) is not None
    for _ in range(500):  # the thread takes it and waits for the lock
        if writer.queued == 0:
            break
        threading.Event().wait(0.01)
    assert writer.submit("v", [request("second")], second) is not None  # queued
    assert writer.submit("v", [request("refused", 2)], Outcome()) is None  # full
    assert writer.not_logged == 2
    held_lock.rollback()
    assert first.done.wait(10) and second.done.wait(10)
    writer.close()
    assert (first.logged, second.logged) == (True, True)
    assert keys_in(db) == ["first", "second"]
    drops = [json.loads(x) for x in dropped_path(db).read_text().splitlines()]
    assert [(d["request_id"], d["rows"]) for d in drops] == [("refused", 2)]
    assert "queue is full" in drops[0]["error"]


def test_a_claimed_write_cannot_be_withdrawn(db):
    writer = QueuedLogWriter(PredictionLog(db), capacity=10)
    writer.start()
    outcome = Outcome()
    write = writer.submit("v", [request("a")], outcome)
    assert outcome.done.wait(10) and outcome.logged is True
    assert write is not None and not write.withdraw()
    writer.close()
    assert keys_in(db) == ["a"]


@pytest.fixture()
def impatient_log(db):
    with PredictionLog(db, busy_timeout_ms=50) as log:
        yield log


def test_a_failed_write_says_not_logged_and_is_counted(db, impatient_log, held_lock):
    # A busy timeout shorter than the lock is held: the write fails.
    writer = QueuedLogWriter(impatient_log, capacity=10)
    writer.start()
    outcome = Outcome()
    writer.submit("v", [request("a", 2)], outcome)
    assert outcome.done.wait(10)
    writer.close()
    assert outcome.logged is False and writer.not_logged == 2
    assert keys_in(db) == []
    drops = [json.loads(x) for x in dropped_path(db).read_text().splitlines()]
    assert [(d["request_id"], d["rows"]) for d in drops] == [("a", 2)]


def test_a_bug_in_a_batch_answers_its_callers_and_keeps_the_thread(db, plog):
    writer = QueuedLogWriter(plog, capacity=10)
    writer.start()
    broken, fine = Outcome(), Outcome()
    # Two predictions for one text cannot pair up: build_rows raises.
    bad = ("bad", None, ["one text"], [PREDICTION, PREDICTION])
    writer.submit("v", [bad], broken)
    assert broken.done.wait(10) and broken.logged is False
    writer.submit("v", [request("after")], fine)
    assert fine.done.wait(10) and fine.logged is True
    writer.close()
    assert keys_in(db) == ["after"] and writer.not_logged == 1
