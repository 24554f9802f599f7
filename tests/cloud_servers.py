"""Real object stores for tests, on 127.0.0.1: moto's S3 (in this process) and
Azurite's Blob service (a subprocess). Each stops by itself after its module.

Credentials and endpoints are set the way the SDKs read them (``AWS_*``,
``AZURE_STORAGE_CONNECTION_STRING``), so processes started from the test
(Dask workers) inherit them. Registered for every test by pytest_plugins
in tests/conftest.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid

import pytest

from sentiment.files import remote

CLOUD_EXTRA = "the cloud extra is missing: pip install -r requirements-cloud.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    """A real S3 API (moto) on 127.0.0.1, stopped after this module."""
    pytest.importorskip("s3fs", reason=CLOUD_EXTRA)
    moto_server = pytest.importorskip(
        "moto.server",
        reason="moto[server] is missing: pip install -r requirements-dev.txt",
    )
    server = moto_server.ThreadedMotoServer(
        ip_address="127.0.0.1", port=free_port(), verbose=False
    )
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def bucket(moto_endpoint, monkeypatch) -> str:
    """A fresh bucket; credentials and endpoint the way the SDKs read them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # one built for another endpoint
    name = f"b-{uuid.uuid4().hex[:12]}"
    remote.filesystem(f"s3://{name}/x")[0].mkdir(name)
    return f"s3://{name}"


def put(url: str, data: bytes) -> None:
    fs, path = remote.filesystem(url)
    fs.pipe_file(path, data)


def get(url: str) -> bytes:
    fs, path = remote.filesystem(url)
    fs.invalidate_cache()
    return fs.cat_file(path)


AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw=="
)


@pytest.fixture(scope="module")
def azurite_connection(tmp_path_factory) -> str:
    """A real Azurite Blob service on 127.0.0.1 for this module; its connection
    string (the emulator's published development account)."""
    pytest.importorskip("adlfs", reason=CLOUD_EXTRA)
    binary = shutil.which("azurite-blob")
    if binary is None:
        pytest.skip("azurite-blob is not installed (npm install -g azurite@3.37.0)")
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    server = subprocess.Popen(
        [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port)]
        + ["--location", str(location), "--silent", "--skipApiVersionCheck"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, server)
        yield (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:  # it may finish its shutdown slowly
            server.kill()
            server.wait(timeout=5)


@pytest.fixture()
def azure_container(azurite_connection, monkeypatch) -> str:
    """A fresh container, the connection string where the Azure SDK reads it."""
    import adlfs

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection)
    adlfs.AzureBlobFileSystem.clear_instance_cache()
    name = f"c{uuid.uuid4().hex[:12]}"
    remote.filesystem(f"az://{name}/x")[0].mkdir(name)
    return f"az://{name}"


def _wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"azurite-blob exited with code {server.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"azurite-blob did not listen on port {port} in {timeout} s")
