"""Exit 0 if HOST:PORT is free to listen on; else say so and exit 1.

    python scripts/port_free.py 127.0.0.1 8501

``make app`` runs it first, so that a busy port is reported instead of
Streamlit quietly starting on another one.
"""

from __future__ import annotations

import socket
import sys


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    if port_free(host, port):
        return 0
    print(
        f"Port {port} on {host} is already in use (another page or program). "
        "Stop it, or start on another port: make app APP_PORT=8502",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
