"""The REST API as an ASGI app: ``uvicorn sentiment.api:app`` (or
``python -m sentiment.api``). See :mod:`sentiment.serving.app` for the routes."""

from __future__ import annotations

import argparse

from sentiment import config
from sentiment.serving.app import create_app
from sentiment.serving.auth import ApiKeyError, new_key

app = create_app()


def main(argv: list[str] | None = None) -> None:
    """``python -m sentiment.api``: serve with uvicorn, JSON request logs only."""
    parser = argparse.ArgumentParser(prog="python -m sentiment.api")
    parser.add_argument(
        "--host",
        default=config.api_host_from_env(),
        help=f"address to listen on (default ${config.API_HOST_ENV} or "
        f"{config.DEFAULT_API_HOST}: this machine only)",
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--new-key",
        metavar="NAME",
        help="print a new API key and its line for the keys file, then exit",
    )
    args = parser.parse_args(argv)
    if args.new_key is not None:
        try:
            key, hashed = new_key(args.new_key)
        except ApiKeyError as e:
            parser.exit(2, f"error: {e}\n")
        print(f"# API key for {args.new_key}: give it to its owner; it is not stored")
        print(key)
        print(f"# its line for the file in ${config.API_KEYS_FILE_ENV}")
        print(hashed.line())
        return

    import uvicorn

    uvicorn.run(
        "sentiment.api:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the JSON line per request replaces it
        server_header=False,  # names no server software
        # No X-Forwarded-* rewriting: nothing here uses the client's address,
        # and the layer cost every request.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
