"""Scoring chunks on several cores, in order, with a bounded amount in flight.

:func:`map_ordered` is ``map`` over worker processes: each worker receives the
shared state (the predictor) once, when it starts, instead of with every task,
and results come back in input order so output files are written exactly as a
single process would write them.
"""

from __future__ import annotations

import gc
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

if TYPE_CHECKING:  # the process pool loads only where jobs > 1 (start-up)
    from concurrent.futures import Future

Item = TypeVar("Item")


Result = TypeVar("Result")


# Tasks queued per worker: enough to keep every worker busy while the main
# process reads the next chunk, few enough that memory stays flat.
PENDING_PER_WORKER = 2


_worker_state: Any = None


def check_jobs(jobs: int) -> int:
    """Return ``jobs`` if it is a usable worker count, else raise ValueError."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    return jobs


def map_ordered(
    task: Callable[[Any, Item], Result],
    items: Iterable[Item],
    state: Any,
    jobs: int = 1,
) -> Iterator[Result]:
    """Yield ``task(state, item)`` for each item, in input order.

    With ``jobs`` == 1 everything runs in this process. Otherwise ``jobs``
    worker processes each get ``state`` once at start-up (inherited when the
    platform forks, pickled once per worker otherwise); ``task`` and the
    items must be picklable. At most ``PENDING_PER_WORKER * jobs`` items are
    in flight, so a long input is never read ahead into memory.
    """
    if check_jobs(jobs) == 1:
        for item in items:
            yield task(state, item)
        return
    from concurrent.futures import ProcessPoolExecutor

    pending: deque[Future[Result]] = deque()
    # Forked workers share the parent's memory until a page is written. The
    # garbage collector writes to every object it scans; frozen objects (the
    # loaded model among them) are left alone, so their pages stay shared.
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=jobs, initializer=_set_worker_state, initargs=(state,)
    )
    try:
        for item in items:
            pending.append(pool.submit(_run_with_state, task, item))
            if len(pending) >= PENDING_PER_WORKER * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # On an error (or an abandoned generator) queued work is dropped
        # instead of being finished for nobody.
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _set_worker_state(state: Any) -> None:
    global _worker_state
    _worker_state = state


def _run_with_state(task: Callable[[Any, Item], Result], item: Item) -> Result:
    return task(_worker_state, item)
