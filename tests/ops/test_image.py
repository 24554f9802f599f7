"""The built image, run for real with podman: the smoke test passes on it and
fails on images that break what it guards (root server, writable model).

Needs podman and an image built by ``make image`` (CI builds it, then runs this
file); skips with the reason otherwise. The broken images are one-line
derivations of the built one, so they take seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sentiment import config

ROOT = config.PROJECT_ROOT
SMOKE = ROOT / "scripts" / "smoke_image.py"
IMAGE = "localhost/sentiment:latest"  # scripts/build_image.sh's default tag
CONTAINERS_CONF = ROOT / "scripts" / "containers.conf"


def _podman_env() -> dict[str, str]:
    return config.child_environment({"CONTAINERS_CONF": str(CONTAINERS_CONF)})


def _image_exists() -> bool:
    if shutil.which("podman") is None:
        return False
    result = subprocess.run(
        ["podman", "image", "exists", IMAGE], env=_podman_env(), timeout=60
    )
    return result.returncode == 0


pytestmark = [
    pytest.mark.skipif(
        shutil.which("podman") is None,
        reason="podman is not installed (CI installs it: see .ci/run)",
    ),
    pytest.mark.skipif(
        not _image_exists(), reason=f"no {IMAGE}: build it with `make image`"
    ),
]


def _smoke(image: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SMOKE), image, "--engine", "podman", "--timeout", "120"],
        env=_podman_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def derived_image(tmp_path: Path):
    """Build IMAGE plus a few Dockerfile lines; removed afterwards."""
    tags = []

    def build(*lines: str) -> str:
        tag = f"localhost/sentiment-broken:{uuid.uuid4().hex[:8]}"
        (tmp_path / "Dockerfile").write_text(f"FROM {IMAGE}\n" + "\n".join(lines))
        subprocess.run(
            ["podman", "build", "--format", "docker", "-t", tag, str(tmp_path)],
            env=_podman_env(),
            check=True,
            capture_output=True,
            timeout=300,
        )
        tags.append(tag)
        return tag

    yield build
    for tag in tags:
        subprocess.run(
            ["podman", "rmi", "--force", tag], env=_podman_env(), capture_output=True
        )


def _leftover_containers() -> list[str]:
    out = subprocess.run(
        ["podman", "ps", "--all", "--format", "{{.Names}}"],
        env=_podman_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in out if name.startswith("sentiment-smoke-")]


def test_the_built_image_passes_every_smoke_check():
    before = _leftover_containers()
    result = _smoke(IMAGE)
    assert result.returncode == 0, result.stderr
    for check in (
        "/_stcore/health ok",
        "HEALTHCHECK: healthy",
        "prediction inside: ['positive', 'negative']",
        "server process uid 1000",
        "models/ read-only",
        "api: POST /predict ['positive', 'negative']",
        "api HEALTHCHECK: healthy",
    ):
        assert check in result.stdout, check
    assert _leftover_containers() == before  # containers removed afterwards


def test_the_smoke_test_fails_when_the_server_runs_as_root(derived_image):
    result = _smoke(derived_image("USER root"))
    assert result.returncode == 1
    assert "runs as root" in result.stderr


def test_the_smoke_test_fails_when_the_model_is_writable(derived_image):
    image = derived_image("USER root", "RUN chown -R app:app models", "USER app")
    result = _smoke(image)
    assert result.returncode == 1
    assert "models/ is writable" in result.stderr


def test_the_healthcheck_survived_the_build():
    # OCI images drop HEALTHCHECK; `podman build --format docker` keeps it.
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Config.Healthcheck.Test}}"]
        + [IMAGE],
        env=_podman_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "HEALTHCHECK_URL" in out
