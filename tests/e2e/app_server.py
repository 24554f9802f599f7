"""Start the Streamlit page on a free local port and drive it in headless Chromium.

Used by the browser test and by scripts/app_screenshot.py. Chromium is Debian's
package (``apt-get install chromium``), driven by Playwright through
``executable_path``: Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Page

from sentiment import config

CHROMIUM_ENV = "SENTIMENT_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The Chromium binary: $SENTIMENT_CHROMIUM, or Debian's chromium on PATH."""
    candidates = [os.environ.get(CHROMIUM_ENV), shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_app(
    model_path: Path | None = None, startup_timeout: float = 60.0
) -> Iterator[str]:
    """Run ``streamlit run app.py`` on 127.0.0.1 and yield its URL; always stop it.

    ``model_path`` is passed as $SENTIMENT_MODEL_PATH (default: the committed
    model). Raises RuntimeError with the server's log if it does not come up.
    """
    port = free_port()
    env = dict(os.environ)
    if model_path is not None:
        env[config.MODEL_PATH_ENV] = str(model_path)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, cwd=config.PROJECT_ROOT, env=env, stdout=log, stderr=log
        )
        try:
            _wait_until_healthy(url, server, log, startup_timeout)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def sign_in(page: Page, name: str, password: str) -> None:
    """Fill in the sign-in form of Monitoring or Review and submit it."""
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _wait_until_healthy(
    url: str, server: subprocess.Popen, log, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")[-4000:]
    raise RuntimeError(f"streamlit did not start within {timeout:.0f} s:\n{output}")
