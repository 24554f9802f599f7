"""A batch run's predictions, held back from the log until its output exists.

The log records answered predictions. A batch run answers when its output file
is renamed into place; if it fails on line 2,502, the 2,000 rows scored before
were never delivered and must not be in the log. So :class:`StagedLog` keeps
the run's rows in a scratch SQLite file beside the log (memory stays flat for
a million rows) and :meth:`StagedLog.commit` appends them to the log, through
:meth:`PredictionLog.append`, only after the rename. They go in transactions of
``config.LOG_STAGED_ROWS_PER_COMMIT`` rows so that other writers (the API)
never wait behind one huge transaction.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Sequence

import pandas as pd

from sentiment import config
from sentiment.files.output import PROBABILITY_COLUMNS
from sentiment.ops.logstore import PredictionLog

_SCORE_COLUMNS = ["sentiment", "confidence", *PROBABILITY_COLUMNS, "needs_review"]


_COLUMNS = ["item", "text", *_SCORE_COLUMNS, "status"]


class StagedLog:
    """Rows of one run (one request id, items in order) waiting for :meth:`commit`.

    Use as a context manager: the scratch file is removed on exit, committed
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
        # scratch file holds the posts, so it is private to this user.
        fd, name = tempfile.mkstemp(
            dir=target.path.parent, prefix=f".{target.path.name}.staged-", suffix=".db"
        )
        os.close(fd)
        self.path = Path(name)
        self._conn = sqlite3.connect(self.path, isolation_level=None)
        # Scratch data: a crash loses the run anyway, so no journal, no syncs.
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute(
            f"CREATE TABLE staged ({_COLUMNS[0]} INTEGER PRIMARY KEY, "
            f"{', '.join(_COLUMNS[1:])})"
        )

    def __enter__(self) -> StagedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, texts: Sequence[str], scored: pd.DataFrame) -> None:
        """Stage ``scored`` (a ``Predictor.score`` table): predictions of ``texts``."""
        columns = [scored[c].tolist() for c in _SCORE_COLUMNS]
        statuses = scored["status"].tolist()
        first = self.staged
        rows = (
            (first + i, text, *values, status)
            for i, (text, *values, status) in enumerate(zip(texts, *columns, statuses))
        )
        self._conn.execute("BEGIN")
        self._conn.executemany(
            f"INSERT INTO staged VALUES ({', '.join('?' * len(_COLUMNS))})", rows
        )
        self._conn.execute("COMMIT")
        self.staged += len(texts)

    def commit(self) -> tuple[int, int]:
        """Append every staged row to the log; returns ``(logged, not_logged)``.

        Rows the log cannot take are counted as dropped by the log itself (see
        :mod:`sentiment.ops.logstore`); nothing is raised.
        """
        logged = not_logged = 0
        for start in range(0, self.staged, self.rows_per_commit):
            batch = pd.read_sql_query(
                f"SELECT {', '.join(_COLUMNS)} FROM staged WHERE item >= ? AND "
                "item < ? ORDER BY item",
                self._conn,
                params=(start, start + self.rows_per_commit),
            )
            batch["needs_review"] = batch["needs_review"].astype(bool)
            result = self.target.append(
                self.source,
                self.request_id,
                self.model_version,
                batch["text"].tolist(),
                batch,
                first_item=start,
            )
            if result.logged:
                logged += len(batch)
            else:
                not_logged += len(batch)
        return logged, not_logged

    def close(self) -> None:
        """Remove the scratch file (whatever was not committed is dropped)."""
        self._conn.close()
        self.path.unlink(missing_ok=True)
