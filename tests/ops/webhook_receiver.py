"""A real HTTP receiver on 127.0.0.1 standing in for a Slack/Teams webhook."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class Receiver:
    """What the receiver got; it answers ``failures`` times with ``status``."""

    def __init__(self, failures: int = 0, status: int = 500) -> None:
        self.failures, self.status = failures, status
        self.attempts = 0
        self.accepted: list[dict] = []
        self.url = ""


@contextmanager
def webhook_receiver(failures: int = 0, status: int = 500) -> Iterator[Receiver]:
    """Serve on a free port of 127.0.0.1 in a thread; always stopped at the end."""
    receiver = Receiver(failures, status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.attempts += 1
            if receiver.failures > 0:
                receiver.failures -= 1
                self.send_response(receiver.status)
                self.end_headers()
                return
            receiver.accepted.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
