"""The large artifacts through a DVC remote (dvc.yaml's ``artifacts`` stage):
pushed from a repository made of this checkout's tracked files, pulled into a
fresh ``git clone`` of it, byte-identical to the committed files. Against a
local directory, moto's S3 API and Azurite's Blob service on 127.0.0.1; the
remote's URL, endpoint and keys go into the untracked .dvc/config.local."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sentiment import config

ROOT = config.PROJECT_ROOT
DVC = ROOT / ".venv-dvc" / "bin" / "dvc"

pytestmark = pytest.mark.skipif(
    not DVC.exists() or shutil.which("git") is None,
    reason="DVC is not installed: make dvc-install (requirements-dvc.txt)",
)


def _copies() -> dict[str, str]:
    """Each DVC-cached copy (a path in dvc-artifacts/) -> the committed file."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["artifacts"]
    return dict(zip(stage["outs"], stage["deps"]))


def _run(args: list[str], cwd: Path) -> str:
    """Run git or dvc in ``cwd``; fail the test with its output if it fails."""
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=300, env=_env(cwd)
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _env(cwd: Path) -> dict[str, str]:
    """This process's environment (the object store's keys) without the user's
    DVC and git settings: no shared cache or remote can stand in for a pull."""
    home = cwd.parent / "home"
    home.mkdir(exist_ok=True)
    return os.environ | {
        "HOME": str(home),
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site"),
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A git repository of this checkout's tracked files whose DVC cache holds
    the copies (``dvc repro artifacts`` there), as after a fresh clone."""
    repo = tmp_path_factory.mktemp("published") / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():  # not one deleted here but not yet in git
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    _run(["git", "init", "-q"], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "tracked files"], repo)
    _run([str(DVC), "repro", "--single-item", "artifacts"], repo)
    # The lock already named these copies, and none of them is for git.
    assert _run(["git", "status", "--porcelain"], repo) == ""
    return repo


def _add_remote(repo: Path, url: str, settings: dict[str, str]) -> None:
    """Make ``url`` the default remote, in .dvc/config.local (never committed)."""
    _run([str(DVC), "remote", "add", "--local", "--default", "--force", "s", url], repo)
    for key, value in settings.items():
        _run([str(DVC), "remote", "modify", "--local", "s", key, value], repo)


def _push_clone_pull(published: Path, clone: Path, url: str, **settings: str) -> None:
    """Push the copies to ``url``, clone the repository into ``clone``, pull."""
    _add_remote(published, url, settings)
    _run([str(DVC), "push"], published)
    _run(["git", "clone", "-q", str(published), str(clone)], published)
    assert not (clone / "dvc-artifacts").exists()
    assert not (clone / ".dvc" / "config.local").exists()  # no URL or key in git
    _add_remote(clone, url, settings)
    _run([str(DVC), "pull"], clone)


def _assert_the_committed_files(clone: Path) -> None:
    copies = _copies()
    assert len(copies) == 3
    for copy, committed in copies.items():
        assert (clone / copy).read_bytes() == (ROOT / committed).read_bytes(), copy


def test_a_local_directory_remote(published, tmp_path):
    store = tmp_path / "store"

    _push_clone_pull(published, tmp_path / "clone", str(store))

    _assert_the_committed_files(tmp_path / "clone")
    # Content-addressed: one object per file, nothing else.
    assert len([p for p in store.rglob("*") if p.is_file()]) == 3


def test_a_pull_without_the_objects_names_them(published, tmp_path):
    """An empty remote: dvc pull fails and says which files it could not get."""
    clone = tmp_path / "clone"
    _run(["git", "clone", "-q", str(published), str(clone)], tmp_path)
    _add_remote(clone, str(tmp_path / "empty"), {})

    result = subprocess.run(
        [str(DVC), "pull"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(clone),
    )

    assert result.returncode != 0
    assert "dvc-artifacts/transformer/model.onnx" in result.stdout + result.stderr
    assert not (clone / "dvc-artifacts" / "transformer" / "model.onnx").exists()


def test_an_s3_remote(published, bucket, moto_endpoint, tmp_path):
    # Keys from the environment (the bucket fixture's), endpoint in config.local.
    clone = tmp_path / "clone"
    _push_clone_pull(published, clone, f"{bucket}/dvc", endpointurl=moto_endpoint)

    _assert_the_committed_files(clone)


def test_an_azure_blob_remote(published, azure_container, azurite_connection, tmp_path):
    url = f"azure://{azure_container.removeprefix('az://')}/dvc"
    clone = tmp_path / "clone"
    _push_clone_pull(published, clone, url, connection_string=azurite_connection)

    _assert_the_committed_files(clone)
