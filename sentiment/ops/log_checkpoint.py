"""Checkpointing the log's WAL beside a long copy, on a core the copy leaves idle.

In WAL mode SQLite moves committed pages into the database file (a checkpoint)
in the writing thread, on each commit that leaves the WAL over
``wal_autocheckpoint`` pages. A batch run's copy into the log
(:meth:`sentiment.ops.log_staging.StagedLog.commit`) commits several such
transactions in a row, and so paused for each checkpoint while the other core
was idle. :func:`checkpoint_alongside` turns the writer's automatic checkpoints
off for the copy and checkpoints from a second connection on another thread.
The last checkpoint ends before it returns, so the WAL is left as automatic
checkpoints would leave it (benchmarks/results.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import closing, contextmanager, suppress
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from sentiment.ops.logstore import PredictionLog

log = logging.getLogger(__name__)

# How often the thread checkpoints what the copy has committed: a transaction
# of the copy takes tens of milliseconds.
_EVERY_SECONDS = 0.01


@contextmanager
def checkpoint_alongside(target: PredictionLog) -> Iterator[None]:
    """Checkpoint ``target``'s WAL on another thread while the block writes.

    Pages that a reader still needs stay in the WAL, and a checkpoint that
    fails (the disk is full) is only logged: readers see every committed row
    either way, and the next automatic checkpoint moves what is left. A log
    that cannot be configured is left as it is: the copy meets the same
    error and counts its rows as dropped.
    """
    done = threading.Event()

    def checkpoint_until_done() -> None:
        try:
            # mode=rw: a log removed meanwhile is not created again, empty.
            uri = f"{target.path.resolve().as_uri()}?mode=rw"
            with closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as conn:
                while not done.wait(_EVERY_SECONDS):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as e:
            log.warning("Prediction log %s: checkpoint failed (%s).", target.path, e)

    try:
        automatic: int | None = target.set_autocheckpoint(0)
    except sqlite3.Error:
        automatic = None
    thread = threading.Thread(target=checkpoint_until_done, name="log-checkpoint")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if automatic is not None:
            with suppress(sqlite3.Error):
                target.set_autocheckpoint(automatic)
