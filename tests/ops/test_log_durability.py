"""No answered prediction is lost: concurrent writers, and the real API server
(uvicorn on 127.0.0.1) killed mid-load: every answer that says its row is
logged has exactly one row, and every answer that says it is not has none.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from sentiment import config
from sentiment.model.artifacts import save_model
from sentiment.ops.log_queries import dropped_rows
from sentiment.ops.logstore import PredictionLog
from sentiment.serving.local_server import LocalServer

LOGGED_HEADER = "X-Prediction-Logged"  # as sentiment.serving.app sends it

PROCESSES = 8
PER_PROCESS = 2_000

# A worker is one writer process. Its predictions are duck-typed like
# sentiment.model.predictor.Prediction, which the log reads by attribute; importing
# scikit-learn in eight processes would only slow the start.
WORKER = """
import pathlib, sys, time
from types import SimpleNamespace
from sentiment.ops.logstore import PredictionLog
db, worker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
probabilities = {"negative": 0.2, "neutral": 0.5, "positive": 0.3}
prediction = SimpleNamespace(label="neutral", confidence=0.5, needs_review=True,
    probabilities=probabilities, status="ok")
log = PredictionLog(db)
folder = pathlib.Path(db).parent
(folder / f"ready-{worker}").touch()
while not (folder / "go").exists():  # all workers begin together
    time.sleep(0.001)
for i in range(n):  # one transaction per prediction, as one API request each
    log.append("api", f"{worker}-{i}", "v", [f"post {worker}-{i}"], [prediction])
sys.exit(1 if log.dropped else 0)
"""


def test_concurrent_processes_lose_and_duplicate_nothing(tmp_path):
    db = tmp_path / "predictions.db"
    PredictionLog(db).close()  # create the schema once, as a service start would
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db), str(w), str(PER_PROCESS)],
            cwd=config.PROJECT_ROOT,
        )
        for w in range(PROCESSES)
    ]
    for _ in range(1_200):  # up to 2 minutes for the imports on a busy machine
        if len(list(tmp_path.glob("ready-*"))) == PROCESSES:
            break
        time.sleep(0.1)
    (tmp_path / "go").touch()
    codes = [w.wait(timeout=240) for w in workers]
    assert codes == [0] * PROCESSES  # no worker dropped a row

    log = PredictionLog(db)
    rows = log.query("SELECT request_id, item, text FROM predictions")
    expected = {f"{w}-{i}" for w in range(PROCESSES) for i in range(PER_PROCESS)}
    assert len(rows) == PROCESSES * PER_PROCESS
    assert set(rows["request_id"]) == expected  # none lost...
    assert not rows.duplicated(["request_id", "item"]).any()  # ...none twice
    assert rows["text"].nunique() == len(rows)
    assert log.integrity_check() == "ok"
    assert dropped_rows(db) == 0


def _post(url: str, headers: dict[str, str], request_id: str) -> str:
    """POST /predict under ``request_id``; X-Prediction-Logged of a 200, else ''."""
    body = json.dumps({"text": f"i love pizza {request_id}"})
    request = urllib.request.Request(
        f"{url}/predict",
        body.encode(),
        {"Content-Type": "application/json", "X-Request-ID": request_id, **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        ok = reply.status == 200 and "label" in json.load(reply)
        return reply.headers[LOGGED_HEADER] if ok else ""


def test_a_server_killed_mid_load_keeps_every_answered_request(tmp_path, tiny_pipeline):
    pytest.importorskip("uvicorn", reason="needs the API extra: requirements-api.txt")
    model = tmp_path / "model.pkl"
    save_model(tiny_pipeline, model, {"versions": {}})
    db = tmp_path / "predictions.db"
    logged: list[str] = []  # answered, and the answer says its row is committed
    not_logged: list[str] = []  # answered, and the answer says it is not
    failed: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    env = {config.MODEL_PATH_ENV: str(model), config.LOG_DB_ENV: str(db)}

    with LocalServer(env) as server:

        def client() -> None:
            for _ in range(2_000):  # bounded, the kill normally ends it sooner
                request_id = uuid.uuid4().hex
                try:
                    header = _post(server.url, server.headers, request_id)
                # A kill between an answer's headers and its body cuts it off
                # (IncompleteRead, an HTTPException): not answered either.
                except (urllib.error.URLError, http.client.HTTPException, OSError):
                    with lock:
                        failed.append(request_id)
                    return
                with lock:
                    outcome = {"true": logged, "false": not_logged}.get(header, failed)
                    outcome.append(request_id)
                    if len(logged) >= 400:
                        enough.set()

        clients = [threading.Thread(target=client) for _ in range(4)]
        try:
            for c in clients:
                c.start()
            assert enough.wait(timeout=60), "the server answered too few requests"
            assert server.process is not None
            os.kill(server.process.pid, signal.SIGKILL)  # mid-load
        finally:
            server.stop()
            for c in clients:
                c.join(timeout=30)
    assert server.process.returncode == -signal.SIGKILL
    assert failed, "the kill should have cut some requests off"

    log = PredictionLog(db)
    rows = log.query("SELECT request_id, correlation_id FROM predictions")
    counts = rows["correlation_id"].value_counts()
    assert all(counts.get(rid, 0) == 1 for rid in logged)  # exactly one row each
    assert all(counts.get(rid, 0) == 0 for rid in not_logged)  # as they said
    # Rows beyond the answered ones can only be requests in flight at the kill.
    assert len(rows) - len(logged) <= len(clients)
    assert rows["request_id"].is_unique  # every answer its own key
    assert log.integrity_check() == "ok"
