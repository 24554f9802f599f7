"""The micro-batcher: requests that arrive while the model is busy are scored
together in one vectorised call, and logged before they are answered (or
answered as not logged, never after waiting on a locked log)."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from dataclasses import dataclass, field

from sentiment import config
from sentiment.model.predictor import Prediction, Predictor, model_version
from sentiment.ops.log_writer import PendingWrite, QueuedLogWriter

# The X-Prediction-Logged header's values.
LOGGED, NOT_LOGGED, LOG_OFF = "true", "false", "off"

Answer = tuple[list[Prediction], str]  # predictions, and whether they were logged


@dataclass
class _Pending:
    texts: list[str]
    threshold: float | None
    correlation_id: str | None
    log_id: str  # the request id of its log rows
    future: asyncio.Future[Answer] = field(repr=False)


@dataclass(eq=False)
class _Batch:
    """Scored requests answered together once their log write settles."""

    answered: list[tuple[_Pending, list[Prediction]]]
    timer: asyncio.TimerHandle | None = None
    settled: bool = False

    def settle(self, logged: bool) -> None:
        if self.settled:
            return
        self.settled = True
        if self.timer is not None:
            self.timer.cancel()
        for pending, predictions in self.answered:
            if not pending.future.done():
                pending.future.set_result(
                    (predictions, LOGGED if logged else NOT_LOGGED)
                )


class MicroBatcher:
    """Score requests that arrive while the model is busy in one vectorised call.

    Scoring runs on the event loop itself: it holds the GIL either way, and
    handing it to a thread and back cost up to the interpreter's 5 ms switch
    interval per request. Requests that arrive during a batch wait in their
    sockets and make up the next batch, so a request waits for at most one
    batch, and a lone request is scored at once. A text's result does not
    depend on its batch-mates (rows are scored independently); requests with
    different thresholds are scored in separate calls.

    With a ``writer``, each batch's rows go to the log's worker thread, one
    row per text under a new id per request (the caller's id is kept as the
    correlation id), and the batch is answered once they are committed. If
    that takes longer than ``log_wait_s``, or the writer's queue is full, the
    rows are withdrawn and the batch is answered as not logged: the loop never
    waits on SQLite, and no row is added after its answer said it was not.
    """

    def __init__(
        self,
        predictor: Predictor,
        writer: QueuedLogWriter | None = None,
        max_texts: int = config.MAX_BATCH_TEXTS,
        log_wait_s: float = config.LOG_WAIT_MS / 1000,
    ) -> None:
        self.predictor = predictor
        self.writer = writer
        self.max_texts = max_texts
        self.log_wait_s = log_wait_s
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def predict(
        self,
        texts: list[str],
        threshold: float | None = None,
        correlation_id: str | None = None,
        log_id: str | None = None,
    ) -> Answer:
        """Predictions for ``texts`` in order, and LOGGED, NOT_LOGGED or LOG_OFF.

        ``log_id`` is the request id the log rows get (a new UUID if None): a
        caller that adds to the rows afterwards (brand details) finds them by it.
        """
        future = asyncio.get_running_loop().create_future()
        pending = _Pending(
            texts, threshold, correlation_id, log_id or uuid.uuid4().hex, future
        )
        self._queue.put_nowait(pending)
        return await future

    async def run(self) -> None:
        """Serve the queue until cancelled."""
        while True:
            batch = [await self._queue.get()]
            # One turn of the loop lets requests already read from their
            # sockets reach the queue and join this batch.
            await asyncio.sleep(0)
            size = len(batch[0].texts)
            while size < self.max_texts and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].texts)
            batch = [p for p in batch if not p.future.done()]  # caller went away
            outcomes = _score_pending(self.predictor, batch)
            answered = []
            for pending, outcome in zip(batch, outcomes):
                if isinstance(outcome, BaseException):
                    pending.future.set_exception(outcome)
                else:
                    answered.append((pending, outcome))
            if answered:
                self._log_then_answer(_Batch(answered))

    def _log_then_answer(self, batch: _Batch) -> None:
        if self.writer is None:
            for pending, predictions in batch.answered:
                pending.future.set_result((predictions, LOG_OFF))
            return
        loop = asyncio.get_running_loop()

        def on_done(logged: bool) -> None:  # runs on the writer's thread
            with suppress(RuntimeError):  # the loop closed: nobody to answer
                loop.call_soon_threadsafe(batch.settle, logged)

        write = self.writer.submit(
            model_version(self.predictor),
            [
                (pending.log_id, pending.correlation_id, pending.texts, predictions)
                for pending, predictions in batch.answered
            ],
            on_done,
        )
        if write is None:  # the queue is full; already counted
            batch.settle(False)
            return
        batch.timer = loop.call_later(self.log_wait_s, self._give_up, write, batch)

    def _give_up(self, write: PendingWrite, batch: _Batch) -> None:
        if not write.withdraw():
            return  # claimed: committed or failed within moments, then settled
        assert self.writer is not None
        self.writer.count_not_logged(
            write, f"not committed within {self.log_wait_s * 1000:.0f} ms"
        )
        batch.settle(False)


def _score_pending(
    predictor: Predictor, batch: list[_Pending]
) -> list[list[Prediction] | BaseException]:
    outcomes: list[list[Prediction] | BaseException] = [[] for _ in batch]
    by_threshold: dict[float | None, list[int]] = {}
    for index, pending in enumerate(batch):
        by_threshold.setdefault(pending.threshold, []).append(index)
    for threshold, members in by_threshold.items():
        texts = [text for i in members for text in batch[i].texts]
        try:
            predictions = predictor.predict_batch(texts, threshold)
        except Exception as e:  # reaches only these callers, as a 500
            for i in members:
                outcomes[i] = e
            continue
        start = 0
        for i in members:
            end = start + len(batch[i].texts)
            outcomes[i] = predictions[start:end]
            start = end
    return outcomes
