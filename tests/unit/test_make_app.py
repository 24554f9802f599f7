"""``make app``: listens on 127.0.0.1 unless told otherwise, and refuses a busy
port with a message instead of moving to another one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import pytest

from sentiment import config

SCRIPT = config.PROJECT_ROOT / "scripts" / "port_free.py"


def _port_check(host: str, port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), host, str(port)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_busy_port_is_reported_and_a_free_one_passes():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        busy = _port_check("127.0.0.1", port)
    assert busy.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in busy.stderr
    assert "APP_PORT=" in busy.stderr
    assert _port_check("127.0.0.1", port).returncode == 0  # closed: free again


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_app_binds_localhost_and_checks_the_port_first():
    def dry_run(*overrides: str) -> list[str]:
        out = subprocess.run(
            ["make", "-n", "-o", ".venv/.installed", "app", *overrides],
            cwd=config.PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        return [
            line for line in out.splitlines() if "port_free" in line or "run" in line
        ]

    check, run = dry_run()
    assert check.endswith("scripts/port_free.py 127.0.0.1 8501")
    assert "--server.address 127.0.0.1 --server.port 8501" in run
    assert (
        "--server.address 0.0.0.0 --server.port 9000"
        in dry_run("APP_HOST=0.0.0.0", "APP_PORT=9000")[1]
    )
