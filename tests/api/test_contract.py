"""The REST API's contract and every client mistake, through FastAPI's TestClient."""

from __future__ import annotations

import io
import json
import logging

import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("httpx2", reason=API_EXTRA)

from fastapi.testclient import TestClient  # noqa: E402

from sentiment import config  # noqa: E402
from sentiment.model.artifacts import ModelLoadError  # noqa: E402
from sentiment.ops.logstore import LogStoreError, PredictionLog  # noqa: E402
from sentiment.serving import app as api  # noqa: E402
from sentiment.serving import middleware  # noqa: E402
from sentiment.serving.auth import ApiKeys, hash_key  # noqa: E402
from sentiment.serving.routes import LOGGED_HEADER  # noqa: E402

PREDICTION_KEYS = {
    "label",
    "confidence",
    "probabilities",
    "needs_review",
    "status",
    "truncated",
    "language",
    "model_version",
}


KEY = "contract-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def contract_keys() -> ApiKeys:
    return ApiKeys([hash_key("tests", KEY)])


def make_app(load, **options):
    """The API with the tests' key."""
    return api.create_app(load, keys=contract_keys, **options)


@pytest.fixture(scope="module")
def client(tiny_predictor):
    with TestClient(make_app(lambda: tiny_predictor), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture()
def log_lines():
    """The JSON lines the API logs while a test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(middleware.JsonFormatter())
    api.log.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    api.log.removeHandler(handler)


def test_predict_returns_the_predictors_verdict(client, tiny_predictor):
    response = client.post("/predict", json={"text": "i love pizza"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PREDICTION_KEYS
    expected = tiny_predictor.predict("i love pizza")
    assert body == {
        **expected.to_dict(),
        "language": "en",
        "model_version": tiny_predictor.version,
    }
    assert body["label"] == "positive"
    assert set(body["probabilities"]) == set(config.LABELS)


def test_threshold_changes_only_needs_review(client):
    low = client.post("/predict", json={"text": "i love pizza", "threshold": 0.0})
    high = client.post("/predict", json={"text": "i love pizza", "threshold": 1.0})
    assert low.json()["needs_review"] is False
    assert high.json()["needs_review"] is True
    assert low.json()["probabilities"] == high.json()["probabilities"]


def test_batch_keeps_input_order(client, tiny_predictor):
    texts = ["i hate my car", "i love pizza", "news about the team", "i love pizza"]
    response = client.post("/predict/batch", json={"texts": texts})
    assert response.status_code == 200
    got = response.json()["predictions"]
    expected = tiny_predictor.predict_batch(texts)
    assert [p["label"] for p in got] == [e.label for e in expected]
    assert [p["confidence"] for p in got] == [e.confidence for e in expected]


def test_batch_of_the_maximum_size_is_accepted(client):
    texts = ["i love pizza"] * config.MAX_BATCH_TEXTS
    response = client.post("/predict/batch", json={"texts": texts})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == config.MAX_BATCH_TEXTS


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({}, "text", "Field required"),
        ({"text": None}, "text", "valid string"),
        ({"text": 5}, "text", "valid string"),
        ({"text": ["i love pizza"]}, "text", "valid string"),
        ({"text": ""}, "text", "at least 1 character"),
        ({"text": " \u200b\t "}, "text", "no visible characters"),
        ({"text": "x" * (config.MAX_TEXT_CHARS + 1)}, "text", "at most 5000"),
        ({"text": "hi", "threshold": 1.5}, "threshold", "less than or equal to 1"),
        ({"text": "hi", "threshold": "high"}, "threshold", "valid number"),
        ({"text": "hi", "treshold": 0.5}, "treshold", "Extra inputs"),
    ],
)
def test_bad_single_requests_get_422_naming_field_and_reason(
    client, body, field, reason
):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert reason in errors[0]["message"]
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"texts": []}, "texts", "at least 1 item"),
        (
            {"texts": ["a"] * (config.MAX_BATCH_TEXTS + 1)},
            "texts",
            "at most 1000 items",
        ),
        ({"texts": ["i love pizza", None]}, "texts.1", "valid string"),
        ({"texts": "i love pizza"}, "texts", "valid array"),
        ({"text": "i love pizza"}, "texts", "Field required"),
    ],
)
def test_bad_batch_requests_get_422_naming_field_and_reason(
    client, body, field, reason
):
    response = client.post("/predict/batch", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert reason in errors[0]["message"]


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b'{"text": "hi"', "application/json"),
        (b'{"text": "hi"}', "text/plain"),
        (b'["hi"]', "application/json"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies_get_422_not_500(client, content, content_type):
    response = client.post(
        "/predict", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "content", [b"\xff\xfe binary", b"\xff\xfe\x00 binary", bytes(range(256))]
)
def test_binary_bodies_are_client_errors_not_500(client, content):
    response = client.post(
        "/predict", content=content, headers={"Content-Type": "application/json"}
    )
    # 400 when the bytes are not text at all, 422 when they decode but are not JSON.
    assert response.status_code in (400, 422)
    assert "body" in response.json()["detail"]


def test_body_over_the_limit_is_413_from_its_content_length(client):
    text = "x" * (config.MAX_BODY_BYTES + 1)
    response = client.post("/predict", json={"text": text})
    assert response.status_code == 413
    assert f"{config.MAX_BODY_BYTES:,} bytes" in response.json()["detail"]


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(config.MAX_BODY_BYTES // 65_536 + 2):
            yield b"x" * 65_536

    response = client.post(
        "/predict", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413


def test_health_model_and_docs(client, tiny_predictor):
    health = client.get("/health")
    assert health.json() == {
        "status": "ok",
        "model_loaded": True,
        "model_version": tiny_predictor.version,
        "prediction_log": {"not_logged": 0, "queued": 0},
    }
    assert client.get("/model").json() == tiny_predictor.card
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/predict", "/predict/batch", "/health", "/model"} <= set(paths)


def test_health_says_starting_before_the_model_is_loaded(tiny_predictor):
    # Without `with`, TestClient does not run the start-up (lifespan) step.
    not_started = TestClient(make_app(lambda: tiny_predictor), headers=AUTH)
    assert not_started.get("/health").status_code == 503
    assert not_started.post("/predict", json={"text": "hi"}).status_code == 503


def test_model_is_loaded_once_at_start_up(tiny_predictor):
    calls = []

    def load():
        calls.append(1)
        return tiny_predictor

    with TestClient(make_app(load), headers=AUTH) as test_client:
        for _ in range(3):
            test_client.post("/predict", json={"text": "i love pizza"})
    assert calls == [1]


def test_a_model_that_fails_to_load_stops_start_up_with_a_log_line(log_lines):
    def load():
        raise ModelLoadError("models/model.pkl does not match its card")

    with pytest.raises(ModelLoadError):
        with TestClient(make_app(load)):
            pass
    (line,) = [x for x in log_lines() if x["level"] == "CRITICAL"]
    assert "does not match its card" in line["message"]


def test_request_id_is_in_the_header_and_the_json_log_line(client, log_lines):
    response = client.post("/predict", json={"text": "i love pizza"})
    request_id = response.headers[middleware.REQUEST_ID_HEADER]
    assert len(request_id) == 32
    (line,) = [x for x in log_lines() if x.get("request_id") == request_id]
    assert line["method"] == "POST" and line["path"] == "/predict"
    assert line["status"] == 200 and line["duration_ms"] > 0


def test_errors_carry_a_request_id_too(client, log_lines):
    response = client.post("/predict", json={})
    request_id = response.headers[middleware.REQUEST_ID_HEADER]
    assert [x["status"] for x in log_lines() if x.get("request_id") == request_id] == [
        422
    ]


@pytest.mark.parametrize(
    "incoming, kept",
    [("trace-42.a:b", True), ("bad id\nforged log line", False), ("x" * 65, False)],
)
def test_a_safe_caller_request_id_is_kept(client, incoming, kept):
    response = client.get("/health", headers={middleware.REQUEST_ID_HEADER: incoming})
    assert (response.headers[middleware.REQUEST_ID_HEADER] == incoming) is kept


def test_an_internal_error_is_a_json_500_with_the_request_id(tiny_predictor):
    class Broken:
        version = "broken"
        card: dict = {}

        def predict_batch(self, texts, threshold=None):
            raise RuntimeError("boom")

    with TestClient(make_app(lambda: Broken()), headers=AUTH) as test_client:
        response = test_client.post("/predict", json={"text": "hi"})
    assert response.status_code == 500
    assert response.headers[middleware.REQUEST_ID_HEADER] in response.json()["detail"]


def test_answered_predictions_are_in_the_prediction_log_under_the_request_id(
    client, _prediction_log_in_tmp
):
    texts = ["i love pizza", "i hate my car"]
    response = client.post(
        "/predict/batch", json={"texts": texts}, headers={"X-Request-ID": "log-1"}
    )
    assert response.status_code == 200
    assert response.headers[LOGGED_HEADER] == "true"
    with PredictionLog(_prediction_log_in_tmp) as prediction_log:
        rows = prediction_log.query(
            "SELECT * FROM predictions WHERE correlation_id = ?", ["log-1"]
        )
    assert rows["source"].tolist() == ["api", "api"]
    assert rows["item"].tolist() == [0, 1]
    assert rows["text"].tolist() == texts
    assert rows["label"].tolist() == [
        p["label"] for p in response.json()["predictions"]
    ]


def test_a_misconfigured_prediction_log_stops_start_up(
    tiny_predictor, tmp_path, monkeypatch, log_lines
):
    monkeypatch.setenv(config.LOG_DB_ENV, str(tmp_path / "missing-dir-is-a-file"))
    (tmp_path / "missing-dir-is-a-file").mkdir()  # a folder where the file should be
    with pytest.raises(LogStoreError):
        with TestClient(make_app(lambda: tiny_predictor)):
            pass
    assert any(x["level"] == "CRITICAL" for x in log_lines())


def test_two_answers_with_one_caller_request_id_get_two_log_rows(
    client, _prediction_log_in_tmp
):
    same = {"X-Request-ID": "retried-7"}
    first = client.post("/predict", json={"text": "i love pizza"}, headers=same)
    second = client.post("/predict", json={"text": "i hate my car"}, headers=same)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers[LOGGED_HEADER] == second.headers[LOGGED_HEADER]
    assert second.headers[LOGGED_HEADER] == "true"
    with PredictionLog(_prediction_log_in_tmp) as prediction_log:
        rows = prediction_log.query(
            "SELECT request_id, text, label FROM predictions "
            "WHERE correlation_id = ? ORDER BY id",
            ["retried-7"],
        )
    assert rows["text"].tolist() == ["i love pizza", "i hate my car"]
    assert rows["label"].tolist() == [first.json()["label"], second.json()["label"]]
    assert rows["request_id"].nunique() == 2  # each answer has its own log key


@pytest.mark.parametrize("name", [config.LOG_WAIT_ENV, config.LOG_QUEUE_ENV])
@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bad_log_queue_setting_stops_start_up_naming_it(
    tiny_predictor, monkeypatch, log_lines, name, value
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        with TestClient(make_app(lambda: tiny_predictor)):
            pass
    (line,) = [x for x in log_lines() if x["level"] == "CRITICAL"]
    assert name in line["message"] and "whole number" in line["message"]
