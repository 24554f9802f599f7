"""The API's brand monitoring: created_at and brand on predictions, languages,
empty texts in a batch, ``GET /brands/summary``, and agreement with the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("httpx2", reason=API_EXTRA)

from fastapi.testclient import TestClient  # noqa: E402

from sentiment import brands, config  # noqa: E402
from sentiment.ops.logstore import PredictionLog  # noqa: E402
from sentiment.ops.watchlist import join_brands, load_watchlist  # noqa: E402
from sentiment.serving import app as api  # noqa: E402

EXAMPLES = config.PROJECT_ROOT / "examples"


@pytest.fixture()
def log_path(tmp_path, monkeypatch):
    path = tmp_path / "api.db"
    monkeypatch.setenv(config.LOG_DB_ENV, str(path))
    return path


@pytest.fixture()
def client(tiny_predictor, log_path):
    with TestClient(
        api.create_app(lambda: tiny_predictor, keys=lambda: None)
    ) as test_client:
        yield test_client


def logged(path) -> pd.DataFrame:
    with PredictionLog(path) as log:
        return log.query(
            "SELECT text, label, status, posted_at, brand, language FROM predictions"
        )


def test_posting_time_and_brand_are_logged_and_a_resent_post_counts_once(
    client, log_path
):
    body = {
        "texts": ["i love the phone", "i hate my car", "news about the team"],
        "created_at": ["2026-10-20T09:15:00+02:00", "1790899200", None],
        "brand": ["Acme", "Acme|Zeta", None],
    }
    first = client.post("/predict/batch", json=body)
    again = client.post("/predict/batch", json=body)  # a retry of the same posts
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    rows = logged(log_path)
    # The post without created_at is a new prediction each time; the others once.
    assert rows["text"].tolist().count("i love the phone") == 1
    assert rows["text"].tolist().count("news about the team") == 2
    acme = rows[rows["text"] == "i love the phone"].iloc[0]
    assert (acme["posted_at"], acme["brand"]) == (
        "2026-10-20T07:15:00.000000+00:00",
        "Acme",
    )
    summary = client.get("/brands/summary", params={"freq": "day"}).json()
    assert summary["time_basis"] == "posted_at"
    by_brand = {b["brand"]: b for b in summary["brands"]}
    assert by_brand["Acme"]["posts"] == 2 and by_brand["Zeta"]["posts"] == 1
    assert [p["period"] for p in by_brand["Acme"]["series"]] == [
        "2026-10-02",
        "2026-10-20",
    ]
    since = client.get("/brands/summary", params={"since": "2026-10-10"}).json()
    assert {b["brand"]: b["posts"] for b in since["brands"]} == {"Acme": 1}


def test_one_empty_text_does_not_fail_the_batch(client):
    response = client.post("/predict/batch", json={"texts": ["i love pizza", "", " "]})
    assert response.status_code == 200
    statuses = [p["status"] for p in response.json()["predictions"]]
    assert statuses == ["ok", "no_text", "no_text"]


def test_a_post_not_in_english_is_marked_not_scored(client, log_path):
    french = "Le vol était vraiment horrible, aucune information"
    marked = client.post("/predict", json={"text": french, "brand": "Acme"}).json()
    assert (marked["status"], marked["label"], marked["language"]) == (
        "unsupported_language",
        None,
        "fr",
    )
    scored = client.post(
        "/predict", json={"text": french, "score_all_languages": True}
    ).json()
    # The tiny test model knows no French word: scored, but without signal.
    assert scored["status"] == "no_signal" and scored["label"] is not None
    rows = logged(log_path)
    assert rows["status"].tolist() == ["unsupported_language", "no_signal"]
    assert rows["label"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"text": "hi", "created_at": "last tuesday"}, "created_at"),
        ({"texts": ["a", "b"], "created_at": ["2026-10-01"]}, "body"),
        ({"texts": ["a"], "brand": ["x", "y"]}, "body"),
    ],
)
def test_bad_posting_times_and_brands_get_422(client, body, field):
    path = "/predict" if "text" in body else "/predict/batch"
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith(field)


def test_the_summary_refuses_a_bad_period(client):
    assert client.get("/brands/summary", params={"freq": "minute"}).status_code == 422
    assert client.get("/brands/summary", params={"since": "soon"}).status_code == 422


def test_cli_and_api_agree_on_the_demo_file(
    committed_predictor, log_path, tmp_path, capsys, monkeypatch
):
    """The same posts, through the command and through the API: same counts."""
    posts = pd.read_csv(EXAMPLES / "brand_posts.csv", dtype=str, keep_default_na=False)
    watchlist = load_watchlist(EXAMPLES / "brands.toml")
    code = brands.main(
        [
            "--watchlist",
            str(EXAMPLES / "brands.toml"),
            str(EXAMPLES / "brand_posts.csv"),
            "--json",
            "--no-log",
            "--no-progress",
        ]
    )
    cli_summary = json.loads(capsys.readouterr().out)
    assert code == 0
    with TestClient(
        api.create_app(lambda: committed_predictor, keys=lambda: None)
    ) as client:
        for start in range(0, len(posts), config.MAX_BATCH_TEXTS):
            part = posts.iloc[start : start + config.MAX_BATCH_TEXTS]
            response = client.post(
                "/predict/batch",
                json={
                    "texts": part["text"].tolist(),
                    "created_at": part["created_at"].tolist(),
                    "brand": [join_brands(watchlist.match(t)) for t in part["text"]],
                },
            )
            assert response.status_code == 200
        api_summary = client.get("/brands/summary").json()

    def counts(summary):
        return {
            b["brand"]: (b["posts"], b["labels"], b["unscored"], b["languages"])
            for b in summary["brands"]
        }

    assert counts(api_summary) == counts(cli_summary)
    assert cli_summary["brands"][0]["posts"] > 1_000  # a real comparison
    nimbus_cli = cli_summary["brands"][0]["series"]
    nimbus_api = api_summary["brands"][0]["series"]
    assert nimbus_api == nimbus_cli
