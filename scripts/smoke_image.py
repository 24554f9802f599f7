"""Smoke test of the built image: start it, then check what users rely on.

    python3 scripts/smoke_image.py IMAGE [--engine podman|docker]

Standard library only, so it runs on a bare CI host or a GitHub runner before
any virtual environment exists. Checks, in order:
  1. the page container answers /_stcore/health with "ok" and serves the page;
  2. the image's HEALTHCHECK reports healthy;
  3. a real prediction with the committed model inside the container;
  4. the server process runs as a non-root user;
  5. models/ (and the model file) cannot be written by that user;
  6. the API, in a second container, answers /health and POST /predict.
Ports are published on 127.0.0.1 only. Containers are removed at the end,
whatever happened. Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

POSITIVE = "I love this phone, the battery is amazing :)"
NEGATIVE = "Worst service ever, I hate it and want my money back"

# Run inside the container by the image's own python (cwd: the app folder).
PREDICT_INSIDE = f"""
import json
from sentiment.model.predictor import load_local_predictor
p = load_local_predictor()
print(json.dumps([p.predict(t).label for t in ({POSITIVE!r}, {NEGATIVE!r})]))
"""
WRITE_MODELS_INSIDE = """
import json, os, pathlib
attempts = {}
for name, action in (
    ("create models/.smoke", lambda: pathlib.Path("models/.smoke").write_text("x")),
    ("append models/model.pkl", lambda: open("models/model.pkl", "ab").close()),
):
    try:
        action()
        attempts[name] = "written"
    except PermissionError:
        attempts[name] = "refused"
print(json.dumps({"uid": os.getuid(), "attempts": attempts}))
"""


class SmokeFailure(Exception):
    """A check failed; the message says which and what was seen."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine_run(engine: str, *args: str, timeout: float = 120) -> str:
    """Run ``engine args`` and return its stdout; raise SmokeFailure on failure."""
    result = subprocess.run(
        [engine, *args], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise SmokeFailure(
            f"`{engine} {' '.join(args)[:200]}` exited {result.returncode}: "
            f"{result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def http(
    url: str, body: dict | None = None, timeout: float = 10, key: str | None = None
) -> tuple[int, bytes]:
    """GET (or POST ``body`` as JSON, with API ``key`` if given); (status, body)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(
    engine: str, name: str, url: str, accept: bytes | None, timeout: float
) -> float:
    """Poll ``url`` until it answers 200 (with body ``accept`` when given); the
    seconds it took. Fails early, with the logs, if the container stops."""
    start = time.monotonic()
    while True:
        try:
            status, body = http(url, timeout=3)
            if status == 200 and (accept is None or body.strip() == accept):
                return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        running = engine_run(engine, "inspect", "--format", "{{.State.Running}}", name)
        if running.strip() != "true":
            logs = subprocess.run(
                [engine, "logs", name], capture_output=True, text=True
            )
            raise SmokeFailure(f"{name} stopped:\n{logs.stdout}{logs.stderr}"[-4000:])
        if time.monotonic() - start > timeout:
            raise SmokeFailure(f"{url} not ready after {timeout:.0f} s")
        time.sleep(1)


def check_healthcheck(engine: str, name: str, timeout: float) -> str:
    """The image's own HEALTHCHECK: podman runs it on demand; Docker runs it on
    its interval (set short at start), so wait for the status it reports."""
    if engine.endswith("podman"):
        result = subprocess.run(
            [engine, "healthcheck", "run", name], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SmokeFailure(f"HEALTHCHECK failed: {result.stdout}{result.stderr}")
        return "healthy"
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = engine_run(
            engine, "inspect", "--format", "{{.State.Health.Status}}", name
        ).strip()
        if status == "healthy":
            return status
        time.sleep(2)
    raise SmokeFailure(f"HEALTHCHECK status {status!r} after {timeout:.0f} s")


def health_options(engine: str) -> list[str]:
    """Podman runs health checks from systemd timers, absent in CI containers,
    so its checks are run on demand; Docker gets a short interval instead."""
    if engine.endswith("podman"):
        return ["--health-interval=disable"]
    return ["--health-interval=2s", "--health-start-period=60s"]


def exec_json(engine: str, name: str, code: str) -> object:
    """Run ``code`` with the container's python, as its user; its JSON output."""
    out = engine_run(engine, "exec", name, "python", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


def check_page(engine: str, image: str, name: str, timeout: float) -> list[str]:
    """Checks 1-5 on the default command (the Streamlit page)."""
    port = free_port()
    engine_run(
        engine, "run", "--detach", "--name", name, "-p", f"127.0.0.1:{port}:8501",
        *health_options(engine), image,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    seconds = wait_for(engine, name, f"{base}/_stcore/health", b"ok", timeout)
    notes = [f"page: /_stcore/health ok after {seconds:.1f} s"]
    status, body = http(base)
    if status != 200 or b"<title>" not in body:
        raise SmokeFailure(f"page: GET / gave {status}, no <title>")
    notes.append(f"page: GET / {status}")
    notes.append(f"HEALTHCHECK: {check_healthcheck(engine, name, timeout)}")
    labels = exec_json(engine, name, PREDICT_INSIDE)
    if labels != ["positive", "negative"]:
        raise SmokeFailure(f"prediction inside the container: {labels}")
    notes.append(f"prediction inside: {labels}")
    status_lines = engine_run(engine, "exec", name, "cat", "/proc/1/status")
    uid = next(ln.split()[1] for ln in status_lines.splitlines() if ln[:4] == "Uid:")
    if uid == "0":
        raise SmokeFailure("the server process (pid 1) runs as root")
    notes.append(f"server process uid {uid}")
    written = exec_json(engine, name, WRITE_MODELS_INSIDE)
    if set(written["attempts"].values()) != {"refused"} or written["uid"] == 0:
        raise SmokeFailure(f"models/ is writable by the serving user: {written}")
    notes.append(f"models/ read-only for uid {written['uid']}: {written['attempts']}")
    return notes


def check_api(engine: str, image: str, name: str, timeout: float) -> list[str]:
    """Check 6: the API started as the Dockerfile's header says, with a key."""
    port = free_port()
    key = secrets.token_urlsafe(24)  # made for this run, never stored
    engine_run(
        engine, "run", "--detach", "--name", name, "-p", f"127.0.0.1:{port}:8000",
        "-e", "HEALTHCHECK_URL=http://127.0.0.1:8000/health",
        "-e", "SENTIMENT_API_HOST=0.0.0.0", "-e", f"SENTIMENT_API_KEYS={key}",
        *health_options(engine), image, "python", "-m", "sentiment.api",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    seconds = wait_for(engine, name, f"{base}/health", None, timeout)
    notes = [f"api: /health 200 after {seconds:.1f} s"]
    status, _ = http(f"{base}/predict", {"text": POSITIVE})
    if status != 401:
        raise SmokeFailure(f"api: POST /predict without a key gave {status}, not 401")
    notes.append("api: POST /predict without a key 401")
    labels = []
    for text in (POSITIVE, NEGATIVE):
        status, body = http(f"{base}/predict", {"text": text}, key=key)
        if status != 200:
            raise SmokeFailure(f"api: POST /predict gave {status}: {body[:300]!r}")
        labels.append(json.loads(body)["label"])
    if labels != ["positive", "negative"]:
        raise SmokeFailure(f"api: POST /predict labels {labels}")
    notes.append(f"api: POST /predict {labels}")
    notes.append(f"api HEALTHCHECK: {check_healthcheck(engine, name, timeout)}")
    return notes


def remove(engine: str, name: str) -> None:
    """Remove the container, running or not; quiet when it never started."""
    subprocess.run([engine, "rm", "--force", name], capture_output=True, timeout=60)


def main(argv: list[str] | None = None) -> int:
    """Run every check; print one line each; 0 when all passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--engine", default=os.environ.get("ENGINE", "podman"))
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds to wait for a server"
    )
    args = parser.parse_args(argv)
    prefix = f"sentiment-smoke-{os.getpid()}"
    names = [f"{prefix}-page", f"{prefix}-api"]
    try:
        notes = check_page(args.engine, args.image, names[0], args.timeout)
        notes += check_api(args.engine, args.image, names[1], args.timeout)
    except (SmokeFailure, subprocess.TimeoutExpired) as failure:
        print(f"smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for name in names:
            remove(args.engine, name)
    print("\n".join(f"ok  {note}" for note in notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
