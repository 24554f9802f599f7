"""The API under a real uvicorn server on 127.0.0.1: HTTP, concurrency, the client."""

from __future__ import annotations

import http.client
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pandas as pd
import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("uvicorn", reason=API_EXTRA)

from sentiment import config  # noqa: E402
from sentiment.model.artifacts import save_model  # noqa: E402
from sentiment.model.language import languages  # noqa: E402
from sentiment.model.predictor import Prediction, Predictor  # noqa: E402
from sentiment.serving import client, local_server, middleware  # noqa: E402
from sentiment.serving.routes import VERSION_FIELDS  # noqa: E402
from tests.conftest import tiny_dataset  # noqa: E402
from tests.tricky_posts import SPECIAL_TEXTS  # noqa: E402

CONCURRENT_REQUESTS = 2_000
CLIENT_THREADS = 16


@pytest.fixture(scope="module")
def model_path(tiny_pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("api-model") / "model.pkl"
    save_model(tiny_pipeline, path, {"versions": {}})
    return path


@pytest.fixture(scope="module")
def served_predictor(model_path):
    """In-process twin of the served model: same file, same card."""
    from sentiment.model.predictor import load_predictor

    return load_predictor(model_path, allow_outside_models_dir=True)


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("api-log") / "server.log"
    with local_server.LocalServer(
        {"SENTIMENT_MODEL_PATH": str(model_path), config.API_KEYS_ENV: KEY},
        log_path=log_path,
    ) as running:
        yield running


KEY = "server-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _post(connection: http.client.HTTPConnection, path: str, body: dict, headers=None):
    connection.request(
        "POST",
        path,
        json.dumps(body),
        {"Content-Type": "application/json", **AUTH, **(headers or {})},
    )
    response = connection.getresponse()
    return response.status, response.headers, json.loads(response.read())


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def test_real_http_request_is_answered_and_logged_under_its_id(
    server, served_predictor
):
    connection = _connect(server.url)
    status, headers, body = _post(connection, "/predict", {"text": "i love pizza"})
    connection.close()
    assert status == 200
    assert body == {
        **served_predictor.predict("i love pizza").to_dict(),
        "language": "en",
        "model_version": served_predictor.version,
    }
    request_id = headers[middleware.REQUEST_ID_HEADER]
    # The server writes the request's line once the response is on its way, so
    # on a busy machine the client can read the log before it is there.
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
        mine = [x for x in lines if x.get("request_id") == request_id]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (line,) = mine
    assert (line["method"], line["path"], line["status"]) == ("POST", "/predict", 200)


def test_concurrent_requests_equal_single_threaded_predictions(
    server, served_predictor
):
    texts, _ = tiny_dataset()
    valid = [t for t in SPECIAL_TEXTS if t.strip() and len(t) <= config.MAX_TEXT_CHARS]
    pool = texts + valid
    requests = [
        (pool[i % len(pool)], 0.5 if i % 3 == 0 else None)
        for i in range(CONCURRENT_REQUESTS)
    ]
    version = served_predictor.version
    expected = [
        {
            **served_predictor.predict(text, threshold).to_dict(),
            "language": language,
            "model_version": version,
        }
        for (text, threshold), language in zip(
            requests, languages([text for text, _ in requests])
        )
    ]

    def send(share: list[int]) -> list[tuple[int, int, dict]]:
        connection = _connect(server.url)  # one keep-alive connection per thread
        try:
            answers = []
            for i in share:
                text, threshold = requests[i]
                # Every language scored: this compares batching, not languages.
                body = {"text": text, "threshold": threshold}
                body["score_all_languages"] = True
                status, _, body = _post(connection, "/predict", body)
                answers.append((i, status, body))
            return answers
        finally:
            connection.close()

    shares = [
        list(range(k, len(requests), CLIENT_THREADS)) for k in range(CLIENT_THREADS)
    ]
    with ThreadPoolExecutor(CLIENT_THREADS) as threads:
        answers = [a for share in threads.map(send, shares) for a in share]

    assert len(answers) == CONCURRENT_REQUESTS
    assert [status for _, status, _ in answers if status != 200] == []
    mismatched = [(body, expected[i]) for i, _, body in answers if body != expected[i]]
    assert mismatched[:1] == []  # the first mismatch, if any, is shown


def _raw_response(url: str, head: bytes, body_chunks: list[bytes]) -> bytes:
    """Send a request by hand (no client library buffering), return the reply."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            sock.sendall(chunk)
        return sock.recv(65_536)


def test_declared_oversize_body_is_refused_before_it_is_sent(server):
    head = (
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    # Not one byte of the declared 100 MB is sent: a server that waited for the
    # body would time out here instead of answering.
    reply = _raw_response(server.url, head, [])
    assert reply.startswith(b"HTTP/1.1 413")
    assert middleware.REQUEST_ID_HEADER.lower().encode() in reply.lower()


def test_chunked_oversize_body_is_refused_without_reading_the_rest(server):
    head = (
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    size = 64 * 1024
    chunk = b"%x\r\n" % size + b"x" * size + b"\r\n"
    # Just over the limit, and never the final zero-length chunk: the body is
    # unfinished, so only a server that stops reading at the limit answers.
    chunks = [chunk] * (config.MAX_BODY_BYTES // size + 1)
    reply = _raw_response(server.url, head, chunks)
    assert reply.startswith(b"HTTP/1.1 413")


def test_api_predictor_gives_what_the_in_process_predictor_gives(
    server, served_predictor
):
    remote = client.ApiPredictor(server.url, api_key=KEY)
    texts = ["i love pizza", "", None, "i hate my car", *SPECIAL_TEXTS]
    pd.testing.assert_frame_equal(remote.score(texts), served_predictor.score(texts))
    assert remote.predict_batch(texts, 0.9) == served_predictor.predict_batch(
        texts, 0.9
    )
    assert remote.predict("i love pizza") == served_predictor.predict("i love pizza")
    assert isinstance(remote.predict(""), Prediction)
    assert remote.version == served_predictor.version
    card = served_predictor.card
    assert remote.card == {k: v for k, v in card.items() if k not in VERSION_FIELDS}


def test_api_predictor_splits_large_inputs_into_allowed_batches(
    server, served_predictor
):
    texts = [f"i love pizza {i}" for i in range(client.BATCH_TEXTS + 5)]
    assert client.ApiPredictor(server.url, api_key=KEY).predict_batch(
        texts
    ) == served_predictor.predict_batch(texts)


def test_get_predictor_follows_sentiment_api_url(server, model_path, monkeypatch):
    monkeypatch.setenv(config.API_URL_ENV, server.url)
    monkeypatch.setenv(config.API_KEY_ENV, KEY)
    remote = client.get_predictor()
    assert isinstance(remote, client.ApiPredictor) and remote.api_key == KEY
    assert remote.predict("i love pizza").label == "positive"
    monkeypatch.delenv(config.API_URL_ENV)
    monkeypatch.setenv(config.MODEL_PATH_ENV, str(model_path))
    assert isinstance(client.get_predictor(), Predictor)


def test_unreachable_api_is_a_clear_error():
    closed = f"http://127.0.0.1:{local_server._free_port()}"
    with pytest.raises(client.ApiError, match="could not be reached"):
        client.ApiPredictor(closed, timeout=5).predict("i love pizza")


def test_api_refusal_is_reported_with_the_servers_reason(server):
    remote = client.ApiPredictor(server.url, api_key=KEY)
    with pytest.raises(client.ApiError, match="422.*threshold"):
        remote.predict("i love pizza", threshold=7)


@pytest.mark.parametrize("damage", ["tampered", "missing"])
def test_bad_model_stops_start_up_with_a_clear_log_line(model_path, tmp_path, damage):
    broken = tmp_path / "model.pkl"
    if damage == "tampered":  # the arrays, which serving loads
        broken.write_bytes(model_path.read_bytes())
        arrays = model_path.with_suffix(".npz").read_bytes()
        (tmp_path / "model.npz").write_bytes(arrays + b"\0")
        (tmp_path / "model.json").write_bytes(
            model_path.with_suffix(".json").read_bytes()
        )
    with pytest.raises(RuntimeError, match="exited with code") as failure:
        with local_server.LocalServer({"SENTIMENT_MODEL_PATH": str(broken)}):
            pass
    critical = [
        json.loads(line)
        for line in str(failure.value).splitlines()
        if line.startswith("{") and '"CRITICAL"' in line
    ]
    reason = "does not match its card" if damage == "tampered" else "No model at"
    assert len(critical) == 1 and reason in critical[0]["message"]


def test_threshold_default_comes_from_config(server):
    connection = _connect(server.url)
    _, _, body = _post(connection, "/predict", {"text": "news about the team"})
    connection.close()
    assert body["needs_review"] == (body["confidence"] < config.DEFAULT_THRESHOLD)
