"""A batch run's predictions, held back from the log until its output exists.

The log records answered predictions. A batch run answers when its output file
is renamed into place; if it fails on line 2,502, the 2,000 rows scored before
were never delivered and must not be in the log. So :class:`StagedLog` keeps
the run's rows in scratch SQLite files in a private folder beside the log
(memory stays flat for a million rows), already in the log's form, and
:meth:`StagedLog.commit` has SQLite copy them into the log
(:meth:`PredictionLog.copy_rows`) only after the rename. They go in
transactions of ``config.LOG_STAGED_ROWS_PER_COMMIT`` rows so that other
writers (the API) never wait behind one huge transaction.

With ``--jobs``, each worker stages the rows it scores in its own file of
that folder (:func:`stage_in_worker`): the process writing the output, the
busiest of a run, then neither receives nor stores them (benchmarks/results.md).
The copy reads every file at once, in item order.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

from sentiment import config
from sentiment.ops.log_rows import (
    COLUMNS,
    CORRELATION_COLUMN,
    RECORD_COLUMNS,
    TEXT_COLUMNS,
    prediction_columns,
    text_column_lists,
    utc_now,
)
from sentiment.ops.log_checkpoint import checkpoint_alongside
from sentiment.ops.logstore import PredictionLog

# A staged row is the log's row from ``item`` on, without what is the same
# for the whole run (timestamp, source, request and model, no correlation id):
# item, label ... status (ops.log_rows.prediction_records), text_length, text,
# text_sha256 (ops.log_rows.text_columns).
_STAGED = ["item", *RECORD_COLUMNS, *TEXT_COLUMNS]

# Staged rows per INSERT statement. One statement of many rows instead of one
# execution per row: the Python sqlite3 module resets the statement and drops
# and takes the GIL around every execution, which cost about a fifth of the
# staging time (measured: 0.077 s -> 0.061 s for 49,555 rows). More rows per
# statement gained nothing more; SQLite before 3.32 allows 999 parameters,
# so the count is also capped by the connection's limit.
_ROWS_PER_INSERT = 250

# Larger pages than SQLite's 4 KiB: fewer pages to fill and write for the
# same rows (a staged row is about 250 bytes, its text included).
_SCRATCH_PAGE_SIZE = 16384

# Files one SQLite connection may attach (SQLite's default build allows 10).
_MAX_ATTACHED = 10


def staged_columns(
    texts: Sequence[str], scored: pd.DataFrame | Any, keep_text: bool
) -> list[list[Any]]:
    """The staged rows of ``texts`` and their predictions, without item numbers,
    as columns (one list per column of ``_STAGED`` after ``item``).

    Built where the chunk is scored (a ``--jobs`` worker), so the process
    writing the file only inserts them; ``keep_text``: the log's ``store_text``.
    Columns, not a tuple per row: fewer Python objects to build and to send.
    Raises ValueError when texts and predictions do not pair up.
    """
    return [
        *prediction_columns(scored, len(texts)),
        *text_column_lists(texts, keep_text),
    ]


class ScratchRows:
    """One scratch file of staged rows: table ``staged``, keyed by item."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        # Scratch data: a crash loses the run anyway, so no journal, no syncs.
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute(f"PRAGMA page_size = {_SCRATCH_PAGE_SIZE}")
        limit = self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.rows_per_insert = max(1, min(_ROWS_PER_INSERT, limit // len(_STAGED)))
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS staged ({_STAGED[0]} INTEGER PRIMARY KEY, "
            f"{', '.join(_STAGED[1:])})"
        )

    def add(self, first_item: int, columns: Sequence[Sequence[Any]]) -> int:
        """Store columns made by :func:`staged_columns` as items ``first_item``
        on, in one transaction; returns the number of rows."""
        rows = len(columns[0])
        if len(columns) != len(_STAGED) - 1 or any(len(c) != rows for c in columns):
            raise ValueError("staged columns must be _STAGED's, of equal length")
        # The rows' values one after another, item numbers included, built in C.
        items = range(first_item, first_item + rows)
        values = list(chain.from_iterable(zip(items, *columns)))
        width = len(_STAGED)
        step = self.rows_per_insert
        self._conn.execute("BEGIN")
        for start in range(0, rows, step):
            stop = min(start + step, rows)
            self._conn.execute(
                _insert_rows(stop - start), values[start * width : stop * width]
            )
        self._conn.execute("COMMIT")
        return rows

    def absorb(self, other: Path) -> None:
        """Move the rows of another scratch file into this one."""
        self._conn.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            self._conn.execute("INSERT INTO staged SELECT * FROM other.staged")
        finally:
            self._conn.execute("DETACH DATABASE other")
        other.unlink()

    def close(self) -> None:
        """Close the file (its rows stay in it)."""
        self._conn.close()


# This process's scratch file in each folder it staged into (a --jobs worker).
_worker_files: dict[str, ScratchRows] = {}


def stage_in_worker(
    folder: str, first_item: int, columns: Sequence[Sequence[Any]]
) -> int:
    """Stage columns made by :func:`staged_columns` as items ``first_item`` on,
    in this process's own file of a :class:`StagedLog`'s ``folder``."""
    part = _worker_files.get(folder)
    if part is None:
        path = Path(folder) / f"worker-{os.getpid()}.db"
        part = _worker_files[folder] = ScratchRows(path)
    return part.add(first_item, columns)


class StagedLog:
    """Rows of one run (one request id, items in order) waiting for :meth:`commit`.

    Use as a context manager: the scratch folder is removed on exit, committed
    or not.
    """

    def __init__(
        self,
        target: PredictionLog,
        source: str,
        model_version: str,
        rows_per_commit: int = config.LOG_STAGED_ROWS_PER_COMMIT,
    ) -> None:
        self.target = target
        self.source = source
        self.model_version = model_version
        self.request_id = uuid.uuid4().hex
        self.rows_per_commit = rows_per_commit
        self.staged = 0
        # Beside the log: the same disk and the same people may read it; the
        # scratch files hold the posts, so the folder is private to this user.
        self.folder = Path(
            tempfile.mkdtemp(
                dir=target.path.parent, prefix=f".{target.path.name}.staged-"
            )
        )
        self._own = ScratchRows(self.folder / "main.db")

    def __enter__(self) -> StagedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, texts: Sequence[str], scored: pd.DataFrame | Any) -> None:
        """Stage the predictions of ``texts``: a ``Predictor.score`` table or its
        arrays (see :func:`prediction_columns`), as the log will store them."""
        self.add_columns(staged_columns(texts, scored, self.target.store_text))

    def add_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Stage columns made by :func:`staged_columns` (the next items, in order)."""
        self.staged += self._own.add(self.staged, columns)

    def add_staged(self, rows: int) -> None:
        """Count the next ``rows`` items, which a worker staged in ``folder``
        (:func:`stage_in_worker`)."""
        self.staged += rows

    def commit(self) -> tuple[int, int]:
        """Append every staged row to the log; returns ``(logged, not_logged)``.

        Rows the log cannot take are counted as dropped by the log itself (see
        :mod:`sentiment.ops.logstore`); nothing is raised.
        """
        logged = not_logged = 0
        files = self._files()
        # The log's rows whole, in its column order, copied by SQLite from the
        # scratch files: the run's own values are parameters, the rest columns.
        # One SELECT per file, merged in item order (each is read in order).
        run = {"source": self.source, "request_id": self.request_id}
        run["model_version"] = self.model_version
        values = [
            "NULL" if c == CORRELATION_COLUMN else c if c in _STAGED else f":{c}"
            for c in COLUMNS
        ]
        select = " UNION ALL ".join(
            f"SELECT {', '.join(values)} FROM scratch{i}.staged "
            "WHERE item >= :start AND item < :stop"
            for i in range(len(files))
        )
        select += " ORDER BY item"
        with checkpoint_alongside(self.target):
            for start in range(0, self.staged, self.rows_per_commit):
                stop = min(start + self.rows_per_commit, self.staged)
                params = {**run, "ts": utc_now(), "start": start, "stop": stop}
                result = self.target.copy_rows(
                    self.source, self.request_id, files, select, params, stop - start
                )
                if result.logged:
                    logged += stop - start
                else:
                    not_logged += stop - start
        return logged, not_logged

    def _files(self) -> list[Path]:
        """The folder's scratch files, at most as many as SQLite may attach:
        beyond that, workers' files are moved into this process's own first."""
        workers = sorted(p for p in self.folder.glob("*.db") if p != self._own.path)
        while len(workers) >= _MAX_ATTACHED:
            self._own.absorb(workers.pop())
        return [self._own.path, *workers]

    def close(self) -> None:
        """Remove the scratch folder (whatever was not committed is dropped)."""
        self._own.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@lru_cache(maxsize=8)
def _insert_rows(rows: int) -> str:
    """The statement staging ``rows`` rows (one text per size: the sqlite3
    module's statement cache then compiles each size once)."""
    row = f"({', '.join('?' * len(_STAGED))})"
    return f"INSERT INTO staged VALUES {', '.join([row] * rows)}"
