"""A held prediction-log lock never freezes the API (a real server, a real file).

Another connection holds SQLite's write lock (``BEGIN IMMEDIATE``), as a long
maintenance job or a stuck writer would. Before the queued writer, 20 requests
then took 5-15 s and ``/health`` 9.9 s; now every answer comes within the
configured wait and says it was not logged, and nothing is added after it.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("uvicorn", reason=API_EXTRA)

from sentiment import config  # noqa: E402
from sentiment.model.artifacts import save_model  # noqa: E402
from sentiment.ops.logstore import PredictionLog  # noqa: E402
from sentiment.serving.routes import LOGGED_HEADER  # noqa: E402
from sentiment.serving.local_server import LocalServer  # noqa: E402

CLIENTS = 20
WAIT_MS = 200
FAST_S = 1.0  # generous: the answers come after WAIT_MS; before, 5-15 s


@pytest.fixture(scope="module")
def model_path(tiny_pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("lock-model") / "model.pkl"
    save_model(tiny_pipeline, path, {"versions": {}})
    return path


def _request(server: LocalServer, method: str, path: str, body=None, rid=None):
    """(status, headers, JSON body, seconds) of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/json", **server.headers}
    if rid is not None:
        headers["X-Request-ID"] = rid
    start = time.perf_counter()
    try:
        connection.request(
            method, path, None if body is None else json.dumps(body), headers
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
        return response.status, response.headers, payload, time.perf_counter() - start
    finally:
        connection.close()


def _rows_for(db, correlation_ids: list[str]) -> int:
    marks = ",".join("?" * len(correlation_ids))
    with PredictionLog(db) as log:
        found = log.query(
            f"SELECT COUNT(*) AS n FROM predictions WHERE correlation_id IN ({marks})",
            correlation_ids,
        )
    return int(found["n"][0])


def test_a_held_log_lock_leaves_health_and_predict_fast(model_path, tmp_path):
    db = tmp_path / "predictions.db"
    env = {
        config.MODEL_PATH_ENV: str(model_path),
        config.LOG_DB_ENV: str(db),
        config.LOG_WAIT_ENV: str(WAIT_MS),
    }
    with LocalServer(env) as server:
        status, headers, _, _ = _request(
            server, "POST", "/predict", {"text": "i love pizza"}, "before"
        )
        assert (status, headers[LOGGED_HEADER]) == (200, "true")
        assert _rows_for(db, ["before"]) == 1  # committed before the answer

        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        locked_ids = [uuid.uuid4().hex for _ in range(CLIENTS)]
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                answers = list(
                    pool.map(
                        lambda rid: _request(
                            server, "POST", "/predict", {"text": f"post {rid}"}, rid
                        ),
                        locked_ids,
                    )
                )
            status, _, health, health_s = _request(server, "GET", "/health")
        finally:
            blocker.rollback()
            blocker.close()

        assert [a[0] for a in answers] == [200] * CLIENTS
        assert {a[1][LOGGED_HEADER] for a in answers} == {"false"}
        slowest = max(a[3] for a in answers)
        assert slowest < FAST_S, f"a request took {slowest:.2f} s under a held lock"
        assert status == 200 and health_s < FAST_S
        assert health["prediction_log"]["not_logged"] == CLIENTS

        # Once the lock is gone, answers are logged again, and none of the
        # answers that said "not logged" got a row afterwards.
        status, headers, _, _ = _request(
            server, "POST", "/predict", {"text": "i hate my car"}, "after"
        )
        assert (status, headers[LOGGED_HEADER]) == (200, "true")
        assert _rows_for(db, ["after"]) == 1
        assert _rows_for(db, locked_ids) == 0
        _, _, health, _ = _request(server, "GET", "/health")
        assert health["prediction_log"]["not_logged"] == CLIENTS
