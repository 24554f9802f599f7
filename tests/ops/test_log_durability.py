"""No answered prediction is lost: concurrent writers, and a server killed mid-load.

The server here is a stdlib stand-in (tests/ops/log_server.py) that answers only
after the log's commit returns; point ``start_server`` at the real API to test
it the same way.
"""

from __future__ import annotations

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

from sentiment import config
from sentiment.ops.log_queries import dropped_rows
from sentiment.ops.logstore import PredictionLog

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


def start_server(db) -> tuple[subprocess.Popen, str]:
    """Start the prediction server on a free port; return it and its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.log_server", str(db)],
        cwd=config.PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(server.stdout.readline())
    return server, f"http://127.0.0.1:{port}"


def _post(url: str, request_id: str) -> bool:
    body = json.dumps({"text": f"i love pizza {request_id}", "request_id": request_id})
    request = urllib.request.Request(
        f"{url}/predict", body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status == 200 and json.load(reply)["request_id"] == request_id


def test_a_server_killed_mid_load_keeps_every_answered_request(tmp_path):
    db = tmp_path / "predictions.db"
    server, url = start_server(db)
    answered: list[str] = []
    failed: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def client() -> None:
        for _ in range(2_000):  # bounded, the kill normally ends it much sooner
            request_id = uuid.uuid4().hex
            try:
                ok = _post(url, request_id)
            except (urllib.error.URLError, ConnectionError, OSError):
                with lock:
                    failed.append(request_id)
                return
            with lock:
                (answered if ok else failed).append(request_id)
                if len(answered) >= 400:
                    enough.set()

    clients = [threading.Thread(target=client) for _ in range(4)]
    try:
        for c in clients:
            c.start()
        assert enough.wait(timeout=60), "the server answered too few requests"
        os.kill(server.pid, signal.SIGKILL)  # mid-load: clients are still sending
    finally:
        server.kill()
        server.wait(timeout=10)
        for c in clients:
            c.join(timeout=30)
    assert server.returncode == -signal.SIGKILL
    assert failed, "the kill should have cut some requests off"

    log = PredictionLog(db)
    logged = log.query("SELECT request_id FROM predictions")["request_id"]
    counts = logged.value_counts()
    assert all(counts.get(rid, 0) == 1 for rid in answered)  # exactly one row each
    # Rows beyond the answered ones can only be requests in flight at the kill.
    assert len(logged) - len(answered) <= len(clients)
    assert log.integrity_check() == "ok"
