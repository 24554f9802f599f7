"""A real uvicorn server on 127.0.0.1 in a child process, for tests and
benchmarks; it stops when the ``with`` block ends."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Sequence

from sentiment import config


class LocalServer:
    """``uvicorn sentiment.api:app`` in a subprocess on a free 127.0.0.1 port.

    For tests, benchmarks and notebooks: ``with LocalServer() as server:`` waits
    until ``/health`` answers (raising with the server's log if it exits or
    ``startup_timeout`` passes), and stops the server on the way out. Its
    stdout and stderr (the JSON request log) go to ``log_path``, by default a
    temporary file removed with the server.

    Unless ``env`` configures keys itself, the server gets one new random API
    key, ``api_key``, which ``headers`` sends. ``app``, ``cwd`` and
    ``uvicorn_args`` serve another ASGI app or tree (benchmark peers).
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        workers: int = 1,
        startup_timeout: float = 120.0,
        log_path: Path | None = None,
        app: str = "sentiment.api:app",
        cwd: Path | None = None,
        uvicorn_args: Sequence[str] = (),
    ) -> None:
        env = dict(env or {})
        keys_set = {config.API_KEYS_ENV, config.API_KEYS_FILE_ENV, config.API_AUTH_ENV}
        self.api_key: str | None = None
        if not keys_set & env.keys():
            self.api_key = secrets.token_urlsafe(32)
            env[config.API_KEYS_ENV] = self.api_key
        self.headers = (
            {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        )
        self.env = config.child_environment(env)
        self.app = app
        self.cwd = cwd
        self.uvicorn_args = list(uvicorn_args)
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_log = log_path is None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="sentiment-api-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        command = [sys.executable, "-m", "uvicorn", self.app]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--no-access-log"]
        command += ["--no-server-header", "--no-proxy-headers", *self.uvicorn_args]
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to repeat."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The API server exited with code {self.process.returncode} "
                    f"during start-up:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"The API server did not answer within {self.startup_timeout:.0f} s:\n"
            f"{self.log()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
