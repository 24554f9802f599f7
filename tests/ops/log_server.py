"""A minimal prediction server for the log durability test.

``python -m tests.ops.log_server DB`` prints its port, then answers
``POST /predict {"text": ..., "request_id": ...}`` only after the prediction
log's commit has returned, as the real page and API must. It binds 127.0.0.1 on
a free port and exits by itself after ``LIFETIME_S`` seconds.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import Predictor, model_version
from sentiment.ops.logstore import PredictionLog
from tests.conftest import TINY_PARAMS, tiny_dataset

LIFETIME_S = 60


def serve(db_path: str) -> None:
    texts, labels = tiny_dataset()
    pipeline = build_pipeline(TINY_PARAMS).fit(texts, labels)
    predictor = Predictor(pipeline, {"model_sha256": "0" * 64})
    log = PredictionLog(db_path)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prediction = predictor.predict(body["text"])
            result = log.append(
                "api",
                body["request_id"],
                model_version(predictor),
                [body["text"]],
                [prediction],
            )
            reply = json.dumps(
                {"request_id": result.request_id, **prediction.to_dict()}
            )
            self.send_response(200 if result.logged else 503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Timer(LIFETIME_S, lambda: os._exit(0)).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1])
