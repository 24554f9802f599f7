"""Deployment files: the Dockerfile, .dockerignore and the Spaces deploy workflow.

No Docker engine runs here, so the image is not built: the Dockerfile is parsed
and checked, its health check and start command are run outside Docker.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from sentiment import config

ROOT = config.PROJECT_ROOT
DOCKERFILE = ROOT / "Dockerfile"
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"


def parse_dockerfile(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _all(keyword: str) -> list[str]:
    return [rest for key, rest in parse_dockerfile() if key == keyword]


def _env() -> dict[str, str]:
    env = {}
    for rest in _all("ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def _cmd(keyword: str) -> list[str]:
    rest = _all(keyword)[-1]
    if keyword == "HEALTHCHECK":
        rest = rest[rest.index("CMD") + 3 :].strip()
    return json.loads(rest)


def test_base_user_port_healthcheck_and_command():
    # One stage; its base is an ARG whose default is the public slim image, so
    # Docker and Spaces build the file as is and `make image` swaps the base.
    (base,) = _all("FROM")
    (argument,) = _all("ARG")
    name, _, default = argument.partition("=")
    assert base == f"${{{name}}}"
    assert default.startswith("python:3.11") and "slim" in default
    assert _all("USER")[-1] == "app"
    assert any("useradd" in run and "--uid 1000" in run for run in _all("RUN"))
    assert "8501" in _all("EXPOSE")[-1].split()
    assert _env()["HEALTHCHECK_URL"] == "http://127.0.0.1:8501/_stcore/health"
    assert "HEALTHCHECK_URL" in " ".join(_cmd("HEALTHCHECK"))
    command = _cmd("CMD")
    assert command[:3] == ["streamlit", "run", "app.py"]
    assert "--server.port=8501" in command and "--server.address=0.0.0.0" in command


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = Path(relative).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat) for p in prefixes for pat in patterns)


def test_every_copied_file_exists_and_reaches_the_build():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    missing, sources = [], []
    for rest in _all("COPY"):
        args = [a for a in rest.split() if not a.startswith("--")]
        for source in args[:-1]:
            found = sorted(ROOT.glob(source.rstrip("/")))
            (sources.extend(found) if found else missing.append(source))
    for path in sources:
        assert not _ignored(str(path.relative_to(ROOT)), patterns), path
    copied = {str(p.relative_to(ROOT)) for p in sources}
    assert {"models", "sentiment", "app_pages", ".streamlit", "app.py"} <= copied
    assert not _ignored("models/model.pkl", patterns)
    assert _ignored("logs/predictions.db", patterns) and _ignored(".venv/x", patterns)
    assert _ignored("models/archive/x/model.pkl", patterns)
    assert _ignored("models/word_vectors.npz", patterns)  # training input only
    assert not missing
    # Code and model stay root's: the serving user reads them, cannot swap them.
    assert not any("--chown" in rest for rest in _all("COPY"))


def test_requirements_are_pinned_exactly():
    for path in ROOT.glob("requirements*.txt"):
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{path.name}: {line} is not pinned"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_healthcheck(url: str) -> int:
    command = _cmd("HEALTHCHECK")
    assert command[0] == "python"
    env = {**os.environ, "HEALTHCHECK_URL": url}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, timeout=30
    ).returncode


def test_the_healthcheck_passes_on_a_healthy_server_and_fails_without_one():
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert _run_healthcheck(f"{url}/_stcore/health") == 0
        assert _run_healthcheck(f"{url}/missing") != 0
    finally:
        server.shutdown()
        server.server_close()
    assert _run_healthcheck(f"{url}/_stcore/health") != 0  # nobody listening


def test_the_image_start_command_serves_the_page(tmp_path):
    port = _free_port()
    command = [
        {"--server.address=0.0.0.0": "--server.address=127.0.0.1"}.get(arg, arg)
        for arg in _cmd("CMD")
    ]
    command = [
        a if a != "--server.port=8501" else f"--server.port={port}" for a in command
    ]
    env = {
        **os.environ,
        **_env(),
        config.LOG_DB_ENV: str(tmp_path / "predictions.db"),
        "HOME": str(tmp_path),  # streamlit writes ~/.streamlit
    }
    server = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, "streamlit exited"
            assert time.monotonic() < deadline, "no health after 90 s"
            time.sleep(0.5)
        with urllib.request.urlopen(base, timeout=10) as page:
            assert page.status == 200 and b"<title>" in page.read()
        assert _run_healthcheck(f"{base}/_stcore/health") == 0
    finally:
        server.terminate()
        server.wait(timeout=20)


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on` as true
    return data


def test_deploy_runs_after_ci_passes_on_main():
    workflow = _workflow()
    ci_name = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())["name"]
    trigger = workflow["on"]["workflow_run"]
    assert trigger == {
        "workflows": [ci_name],
        "types": ["completed"],
        "branches": ["main"],
    }
    (job,) = workflow["jobs"].values()
    assert "conclusion == 'success'" in job["if"]
    assert job["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    assert job["env"]["HF_SPACE"] == "${{ vars.HF_SPACE }}"
    first, *rest = job["steps"]
    assert all(step["if"] == "steps.settings.outputs.skip == 'false'" for step in rest)
    upload = rest[-1]["run"]
    # The image is smoke-tested, with the script CI uses, before the upload.
    smoke = [step["run"] for step in rest if "smoke_image.py" in step.get("run", "")]
    assert smoke and "--engine docker" in smoke[0]
    for pattern in (
        "Dockerfile",
        "README.md",
        "app.py",
        ".streamlit/config.toml",
        "models/model.pkl",
        "requirements*.txt",
        "app_pages/*.py",
    ):
        assert f'"{pattern}"' in upload
        assert list(ROOT.glob(pattern)), pattern


@pytest.mark.parametrize(
    "token, space, skip",
    [("", "me/space", "true"), ("t", "", "true"), ("t", "me/s", "false")],
)
def test_deploy_skips_with_a_message_without_its_settings(tmp_path, token, space, skip):
    script = _workflow()["jobs"]["deploy"]["steps"][0]["run"]
    output = tmp_path / "github_output"
    result = subprocess.run(
        ["bash", "-c", script],
        env={
            "PATH": os.environ["PATH"],
            "HF_TOKEN": token,
            "HF_SPACE": space,
            "GITHUB_OUTPUT": str(output),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert output.read_text().strip() == f"skip={skip}"
    assert ("Deploy skipped" in result.stdout) == (skip == "true")


@pytest.mark.skipif(
    not (ROOT / "README.md").read_text().startswith("---"),
    reason="README.md has no Hugging Face Spaces front matter yet (the lead adds it)",
)
def test_readme_front_matter_declares_a_docker_space():
    front = yaml.safe_load((ROOT / "README.md").read_text().split("---")[1])
    assert front["sdk"] == "docker" and front["app_port"] == 8501
