"""The request's ``backend`` field: a server runs one tier and says so."""

from __future__ import annotations

import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("httpx2", reason=API_EXTRA)

from fastapi.testclient import TestClient  # noqa: E402

from sentiment.serving import app as api  # noqa: E402


@pytest.fixture(scope="module")
def client(tiny_predictor):
    with TestClient(
        api.create_app(lambda: tiny_predictor, keys=lambda: None)
    ) as test_client:
        yield test_client


@pytest.mark.parametrize("body", [{}, {"backend": "classic"}])
def test_the_served_tier_or_none_is_scored(client, body):
    response = client.post("/predict", json={"text": "i love pizza", **body})
    assert response.status_code == 200 and response.json()["label"] == "positive"


@pytest.mark.parametrize(
    "path, key", [("/predict", "text"), ("/predict/batch", "texts")]
)
def test_another_tier_gets_409_saying_how_to_start_it(client, path, key):
    text = "i love pizza"
    body = {key: text if key == "text" else [text], "backend": "cascade"}
    response = client.post(path, json=body)
    assert response.status_code == 409
    assert "SENTIMENT_BACKEND=cascade" in response.text
    assert "runs the classic tier" in response.text


def test_an_unknown_tier_is_a_422(client):
    response = client.post("/predict", json={"text": "hi", "backend": "bert"})
    assert response.status_code == 422
