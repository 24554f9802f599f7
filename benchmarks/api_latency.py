"""API latency at 20 concurrent clients, against peers in the same run.

    python benchmarks/api_latency.py                         # API vs ASGI echo
    python benchmarks/api_latency.py --peer-tree /tmp/old \\
        --peer-args "--loop asyncio --http h11"              # ... and old code

Starts each server once (a real uvicorn on 127.0.0.1, the prediction log on,
in a temporary folder), then runs rounds that alternate between them, so a
noisy machine hits every server alike; prints each round and the medians of
p50 / p99 / requests per second as Markdown. The peers:

* ``api``: this tree's ``sentiment.api:app`` with the committed model;
* ``echo``: ``benchmarks/asgi_echo.py``, the floor (server + client only);
* ``peer``: with ``--peer-tree``, ``sentiment.api:app`` of another checkout
  (``git archive COMMIT | tar -x -C DIR``) and ``--peer-args`` for uvicorn.

The client is raw asyncio: one keep-alive connection per client, requests
written by hand and answers parsed by Content-Length, so it costs the shared
cores little (httpx's AsyncClient caps near 350 requests/s on 2 cores and
measures itself). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from any folder

from sentiment import config  # noqa: E402
from sentiment.serving.local_server import LocalServer  # noqa: E402

TARGET_P99_MS = 20.0


@dataclass
class Load:
    """One load run: per-request seconds, errors, and wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu_s: float = 0.0  # user + system CPU of the server process

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s / max(len(self.latencies), 1) * 1e3

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies), q)) * 1e3

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def _client(
    port: int,
    heads: list[bytes],
    next_index: list[int],
    deadline: float,
    load: Load,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while next_index[0] < len(heads) and time.perf_counter() < deadline:
            request = heads[next_index[0]]
            next_index[0] += 1
            start = time.perf_counter()
            writer.write(request)
            status = (await reader.readline()).split(b" ", 2)[1]
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            load.latencies.append(time.perf_counter() - start)
            if status != b"200":
                load.errors.append(f"{status.decode()} {payload[:200]!r}")
    except (OSError, asyncio.IncompleteReadError, IndexError) as e:
        load.errors.append(f"{type(e).__name__}: {e}")
    finally:
        writer.close()


def requests_for(texts: list[str], headers: dict[str, str]) -> list[bytes]:
    """Whole HTTP/1.1 ``POST /predict`` requests, one per text."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    out = []
    for text in texts:
        body = json.dumps({"text": text}).encode()
        head = (
            "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


def run_load(
    server: LocalServer, requests: list[bytes], clients: int, limit_s: float
) -> Load:
    """Send ``requests`` over ``clients`` connections; stop at ``limit_s``.

    The server's CPU time per request is the figure least moved by other work
    on a shared machine; latencies are what callers see.
    """
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    before = process.cpu_times()

    async def main() -> Load:
        load = Load()
        next_index = [0]
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _client(server.port, requests, next_index, start + limit_s, load)
                for _ in range(clients)
            )
        )
        load.seconds = time.perf_counter() - start
        return load

    load = asyncio.run(main())
    after = process.cpu_times()
    load.server_cpu_s = (after.user - before.user) + (after.system - before.system)
    return load


def sample_texts(n: int) -> list[str]:
    """``n`` posts from ../shared train.csv when there, else templated ones."""
    if config.SEMEVAL_TRAIN.is_file():
        import pandas as pd

        texts = pd.read_csv(
            config.SEMEVAL_TRAIN, dtype=str, keep_default_na=False, usecols=["text"]
        )["text"].tolist()
    else:
        texts = [f"i love the new phone {i} :)" for i in range(100)]
        texts += [f"the show {i} is awful, never again" for i in range(100)]
    texts = [t for t in texts if t.strip()]
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.integers(0, len(texts), n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3_000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peer-tree", type=Path, help="another checkout to compare")
    parser.add_argument("--peer-app", default="sentiment.api:app", help="its app")
    parser.add_argument("--peer-args", default="", help="uvicorn options of the peer")
    parser.add_argument(
        "--peer-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of the peer (repeatable), e.g. SENTIMENT_LOG_DB=off",
    )
    parser.add_argument("--no-echo", action="store_true", help="leave out the echo")
    args = parser.parse_args()

    texts = sample_texts(args.requests)
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="api-latency-") as tmp:
        specs = {"api": {"env": {config.LOG_DB_ENV: f"{tmp}/api.db"}}}
        if args.peer_tree is not None:
            peer_env = dict(x.split("=", 1) for x in args.peer_env)
            specs["peer"] = {
                "env": {config.LOG_DB_ENV: f"{tmp}/peer.db", **peer_env},
                "cwd": args.peer_tree,
                "app": args.peer_app,
                "uvicorn_args": shlex.split(args.peer_args),
            }
        if not args.no_echo:
            specs["echo"] = {"app": "asgi_echo:app", "cwd": HERE}
        servers = {name: LocalServer(**spec) for name, spec in specs.items()}
        try:
            for server in servers.values():
                server.__enter__()
            requests = {
                name: requests_for(texts, server.headers)
                for name, server in servers.items()
            }
            for name, server in servers.items():  # warm-up, not counted
                run_load(server, requests[name][:300], args.clients, 60)
            rounds: dict[str, list[Load]] = {name: [] for name in servers}
            names = list(servers)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    load = run_load(servers[name], requests[name], args.clients, 300)
                    rounds[name].append(load)
                    print(
                        f"round {r + 1} {name}: p50 {load.percentile_ms(50):.1f} ms, "
                        f"p99 {load.percentile_ms(99):.1f} ms, {load.rate:,.0f} req/s, "
                        f"server CPU {load.cpu_ms_per_request:.2f} ms/request, "
                        f"{len(load.errors)} errors",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()

    command = "python benchmarks/api_latency.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:]
    )
    lines = [
        f"`{command.strip()}`, run {started}; 1-minute load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
        f"{os.cpu_count()} cores.",
        "",
        "| server | p50 ms | p99 ms | req/s | server CPU ms/request | errors "
        "| p99 per round (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, loads in rounds.items():
        p99s = [x.percentile_ms(99) for x in loads]
        lines.append(
            f"| {name} | {statistics.median(x.percentile_ms(50) for x in loads):.1f} "
            f"| {statistics.median(p99s):.1f} "
            f"| {statistics.median(x.rate for x in loads):,.0f} "
            f"| {statistics.median(x.cpu_ms_per_request for x in loads):.2f} "
            f"| {sum(len(x.errors) for x in loads)} "
            f"| {', '.join(f'{p:.1f}' for p in p99s)} |"
        )
    for name, loads in rounds.items():
        errors = [e for x in loads for e in x.errors]
        if errors:
            lines.append(f"\nFirst {name} error: {errors[0]}")
    lines.append(
        f"\nMedians over {args.rounds} alternating rounds of {args.requests:,} "
        f"requests at {args.clients} clients; target p99 <= {TARGET_P99_MS:.0f} ms."
    )
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
