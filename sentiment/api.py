"""The REST API as an ASGI app: ``uvicorn sentiment.api:app`` (or
``python -m sentiment.api``). See :mod:`sentiment.serving.app` for the routes."""

from __future__ import annotations

import argparse

from sentiment.serving.app import create_app

app = create_app()


def main(argv: list[str] | None = None) -> None:
    """``python -m sentiment.api``: serve with uvicorn, JSON request logs only."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m sentiment.api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    uvicorn.run(
        "sentiment.api:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the JSON line per request replaces it
    )


if __name__ == "__main__":
    main()
