"""Prediction-log writes on a worker thread, from a bounded queue.

A server that wrote to SQLite on its event loop froze while another
connection held the write lock (up to the busy timeout, per batch). Here the
caller hands its rows to :class:`QueuedLogWriter` and waits for the commit
only as long as it chooses; the thread commits whatever is queued in one
transaction.

The one rule: a row is committed before its answer, or the answer says it was
not logged. So a caller that stops waiting *withdraws* its write
(:meth:`PendingWrite.withdraw`). The thread claims writes only once it holds
SQLite's write lock, and skips withdrawn ones; a write already claimed is
committed (or fails) within milliseconds, so the caller waits for that
outcome instead. A full queue refuses the write at once. Both count as "not
logged" (:attr:`QueuedLogWriter.not_logged`) and go to ``<db>-dropped.jsonl``
like any other dropped row.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sentiment.ops.log_rows import build_rows, utc_now
from sentiment.ops.logstore import PredictionLog

log = logging.getLogger(__name__)

# A request handed to the log: (request_id, correlation_id, texts, predictions).
LogRequest = tuple[str, "str | None", Sequence[object], Sequence[Any]]

_PENDING, _CLAIMED, _WITHDRAWN, _DONE = "pending", "claimed", "withdrawn", "done"


@dataclass(eq=False)
class PendingWrite:
    """Rows waiting for the writer thread; ``on_done(logged)`` runs there."""

    model_version: str
    requests: list[LogRequest]
    on_done: Callable[[bool], None] = field(repr=False)
    state: str = _PENDING
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def rows(self) -> int:
        return sum(len(texts) for _, _, texts, _ in self.requests)

    def withdraw(self) -> bool:
        """Take the rows back unless the writer has claimed them; True if taken."""
        with self._lock:
            if self.state != _PENDING:
                return False
            self.state = _WITHDRAWN
            return True

    def _claim(self) -> bool:
        with self._lock:
            if self.state != _PENDING:
                return False
            self.state = _CLAIMED
            return True


class QueuedLogWriter:
    """Commit prediction-log rows on one worker thread, in arrival order.

    ``submit`` never blocks: it queues the rows, or returns None when
    ``capacity`` writes are already waiting. Start with :meth:`start`, stop
    with :meth:`close`, which writes what is queued first.
    """

    def __init__(
        self, prediction_log: PredictionLog, capacity: int, source: str = "api"
    ) -> None:
        self.prediction_log = prediction_log
        self.source = source
        self.not_logged = 0  # rows answered without a row in the log
        self._queue: queue.Queue[PendingWrite | None] = queue.Queue(capacity)
        # Refusals and withdrawals are recorded in the drop file by the thread,
        # so a caller never waits for a file either.
        self._unrecorded: collections.deque[tuple[str, int, str]] = collections.deque()
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="prediction-log-writer", daemon=True
        )

    @property
    def queued(self) -> int:
        """Writes waiting for the thread."""
        return self._queue.qsize()

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread (waits up to ``timeout``)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        self._record_unrecorded()

    def submit(
        self,
        model_version: str,
        requests: list[LogRequest],
        on_done: Callable[[bool], None],
    ) -> PendingWrite | None:
        """Queue ``requests``; None (counted as not logged) when the queue is full."""
        write = PendingWrite(model_version, requests, on_done)
        try:
            self._queue.put_nowait(write)
        except queue.Full:
            self.count_not_logged(write, "the log queue is full")
            return None
        return write

    def count_not_logged(self, write: PendingWrite, reason: str) -> None:
        """Count a refused or withdrawn write; the thread records it in the file."""
        with self._count_lock:
            self.not_logged += write.rows
        self._unrecorded.extend(
            (request_id, len(texts), reason)
            for request_id, _, texts, _ in write.requests
        )

    # -- the thread ---------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch = [] if first is None else [first]
            stopping = first is None
            while not stopping:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                stopping = more is None
                if more is not None:
                    batch.append(more)
            self._record_unrecorded()
            if batch:
                try:
                    self._write(batch)
                except Exception:  # a bug: keep the thread, answer every caller
                    log.exception("prediction log writer failed on a batch")
                    self._fail_unfinished(batch, "the log writer failed")

    def _fail_unfinished(self, batch: list[PendingWrite], reason: str) -> None:
        for write in batch:
            with write._lock:
                mine = write.state in (_PENDING, _CLAIMED)
                if mine:
                    write.state = _DONE
            if mine:
                self.count_not_logged(write, reason)
                write.on_done(False)

    def _write(self, batch: list[PendingWrite]) -> None:
        owners = [w for w in batch for _ in w.requests]
        claimed: dict[int, bool] = {}

        def claim() -> list[bool]:
            # Called by the log once it holds SQLite's write lock.
            for write in batch:
                claimed.setdefault(id(write), write._claim())
            return [claimed[id(write)] for write in owners]

        try:
            ids, rows = build_rows(
                self.source,
                batch[0].model_version,  # one server, one model
                [
                    (rid, texts, preds)
                    for w in batch
                    for rid, _, texts, preds in w.requests
                ],
                self.prediction_log.store_text,
                0,
                utc_now(),
                [c for w in batch for _, c, _, _ in w.requests],
            )
        except Exception:  # a bug, not I/O: still never leave a caller waiting
            log.exception("prediction log rows could not be built")
            self._fail_unfinished(batch, "its rows could not be built")
            return
        results = self.prediction_log.write_rows(self.source, ids, rows, claim)
        logged = {id(write): True for write in batch}
        for write, result in zip(owners, results):
            logged[id(write)] = logged[id(write)] and result.logged
        for write in batch:
            if not claimed[id(write)]:
                continue  # withdrawn: its caller answered and counted it
            with write._lock:
                write.state = _DONE
            if not logged[id(write)]:  # the log recorded the drop itself
                with self._count_lock:
                    self.not_logged += write.rows
            write.on_done(logged[id(write)])

    def _record_unrecorded(self) -> None:
        while self._unrecorded:
            request_id, rows, why = self._unrecorded.popleft()
            self.prediction_log.record_drop(
                self.source, request_id, rows, _NotLogged(why)
            )


class _NotLogged(Exception):
    """Why rows were answered without being logged, for the drop record."""
