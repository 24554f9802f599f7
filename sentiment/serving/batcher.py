"""The micro-batcher: requests that arrive while the model is busy are scored
together in one vectorised call, and logged before they are answered."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sentiment import config
from sentiment.model.predictor import Prediction, Predictor, model_version
from sentiment.ops.logstore import PredictionLog


@dataclass
class _Pending:
    texts: list[str]
    threshold: float | None
    request_id: str | None
    future: asyncio.Future[list[Prediction]] = field(repr=False)


class MicroBatcher:
    """Score requests that arrive while the model is busy in one vectorised call.

    Scoring runs on the event loop itself: it holds the GIL either way, and
    handing it to a thread and back cost up to the interpreter's 5 ms switch
    interval per request. Requests that arrive during a batch wait in their
    sockets and make up the next batch, so a request waits for at most one
    batch, and a lone request is scored at once. A text's result does not
    depend on its batch-mates (rows are scored independently); requests with
    different thresholds are scored in separate calls.

    With a ``prediction_log``, each batch's predictions are committed to it in
    one transaction (source "api", each request's id) before any is answered.
    """

    def __init__(
        self,
        predictor: Predictor,
        prediction_log: PredictionLog | None = None,
        max_texts: int = config.MAX_BATCH_TEXTS,
    ) -> None:
        self.predictor = predictor
        self.prediction_log = prediction_log
        self.max_texts = max_texts
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def predict(
        self,
        texts: list[str],
        threshold: float | None = None,
        request_id: str | None = None,
    ) -> list[Prediction]:
        """Predictions for ``texts`` in order, scored with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(texts, threshold, request_id, future))
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
            answered = [
                (pending, outcome)
                for pending, outcome in zip(batch, outcomes)
                if not isinstance(outcome, BaseException)
            ]
            if self.prediction_log is not None and answered:
                # One commit for the whole batch; never raises (a failed write
                # is counted as dropped and the predictions are still answered).
                self.prediction_log.append_many(
                    "api",
                    model_version(self.predictor),
                    [(p.request_id, p.texts, outcome) for p, outcome in answered],
                )
            for pending, outcome in zip(batch, outcomes):
                if isinstance(outcome, BaseException):
                    pending.future.set_exception(outcome)
                else:
                    pending.future.set_result(outcome)


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
