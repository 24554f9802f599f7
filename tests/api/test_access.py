"""Who may call the API, and what it reveals: API keys, versions, the bind address."""

from __future__ import annotations

import pytest

API_EXTRA = "needs the API extra: pip install -r requirements-api.txt"
pytest.importorskip("fastapi", reason=API_EXTRA)
pytest.importorskip("httpx2", reason=API_EXTRA)

from fastapi.testclient import TestClient  # noqa: E402

from sentiment import api as api_command  # noqa: E402
from sentiment import config  # noqa: E402
from sentiment.model.predictor import Predictor  # noqa: E402
from sentiment.serving import app as api  # noqa: E402
from sentiment.serving.auth import (  # noqa: E402
    ApiKeyError,
    ApiKeys,
    hash_key,
    new_key,
    read_keys_file,
)

KEY = "access-test-key"
VERSIONED_CARD = {
    "model_sha256": "0" * 64,
    "versions": {"python": "3.11.7", "scikit-learn": "1.9.1", "numpy": "2.4.6"},
    "git_commit": "90538339023dcab8eecd7a70e2143deefa7e44ae",
}


@pytest.fixture(scope="module")
def versioned_predictor(tiny_pipeline):
    return Predictor(tiny_pipeline, dict(VERSIONED_CARD))


def app_with(predictor, keys=lambda: ApiKeys([hash_key("alice", KEY)]), **options):
    return api.create_app(lambda: predictor, keys=keys, **options)


@pytest.fixture(scope="module")
def client(versioned_predictor):
    with TestClient(app_with(versioned_predictor)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/predict", {"text": "i love pizza"}),
        ("POST", "/predict/batch", {"texts": ["i love pizza"]}),
        ("GET", "/brands/summary", None),
    ],
)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer ", "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x"],
)
def test_protected_routes_answer_401_without_a_valid_key(
    client, method, path, body, authorization
):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_valid_key_is_let_in(client):
    for authorization in (f"Bearer {KEY}", f"bearer {KEY}"):
        response = client.post(
            "/predict",
            json={"text": "i love pizza"},
            headers={"Authorization": authorization},
        )
        assert response.status_code == 200
    # /brands* is guarded before routing: with a key, an unknown route is a 404.
    missing = client.get("/brands/nosuch", headers={"Authorization": f"Bearer {KEY}"})
    assert missing.status_code == 404


def test_health_and_docs_stay_open(client):
    assert client.get("/health").status_code == 200
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert schema["paths"]["/predict"]["post"]["security"] == [{"ApiKey": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_the_api_does_not_reveal_versions_or_the_commit_by_default(client):
    served = [
        client.get(path).text
        for path in ("/model", "/docs", "/openapi.json", "/health")
    ]
    revealing = [
        *VERSIONED_CARD["versions"].values(),
        VERSIONED_CARD["git_commit"][:7],
    ]
    assert [v for v in revealing if any(v in text for text in served)] == []
    card = client.get("/model").json()
    assert card == {"model_sha256": VERSIONED_CARD["model_sha256"]}


def test_versions_are_shown_when_enabled(versioned_predictor):
    with TestClient(app_with(versioned_predictor, show_versions=True)) as test_client:
        assert test_client.get("/model").json() == VERSIONED_CARD


def test_the_flag_comes_from_the_environment():
    assert config.api_show_versions_from_env({}) is False
    assert config.api_show_versions_from_env({config.API_SHOW_VERSIONS_ENV: "1"})


def test_keys_come_from_the_environment_and_a_hashed_file(tmp_path):
    bob_key, bob = new_key("bob")
    keys_file = tmp_path / "api-keys"
    keys_file.write_text(f"# team keys\n\n{bob.line()}\n", encoding="utf-8")
    keys = ApiKeys.from_env(
        {config.API_KEYS_ENV: " k1 , k2 ", config.API_KEYS_FILE_ENV: str(keys_file)}
    )
    assert [keys.check(f"Bearer {k}") for k in ("k1", "k2", bob_key, "k3")] == [
        "key1",
        "key2",
        "bob",
        None,
    ]
    assert bob_key not in keys_file.read_text()  # only its salted hash is stored


def test_a_file_key_does_not_match_another_salt():
    key, stored = new_key("carol")
    assert hash_key("carol", key, stored.salt) == stored
    assert hash_key("carol", key).digest != stored.digest  # a fresh salt each time


@pytest.mark.parametrize(
    "line", ["carol", "carol:zz:00", "carol:00:abcd", ":00:" + "0" * 64]
)
def test_a_malformed_keys_file_is_refused_with_its_line_number(tmp_path, line):
    keys_file = tmp_path / "api-keys"
    keys_file.write_text(f"# comment\n{line}\n", encoding="utf-8")
    with pytest.raises(ApiKeyError, match="line 2 is not name:salt-hex:sha256-hex"):
        read_keys_file(keys_file)


def test_no_keys_configured_stops_start_up_with_advice(tiny_predictor):
    with pytest.raises(ApiKeyError, match=config.API_KEYS_ENV):
        ApiKeys.from_env({})
    app = api.create_app(lambda: tiny_predictor, keys=lambda: ApiKeys.from_env({}))
    with pytest.raises(ApiKeyError):
        with TestClient(app):
            pass


def test_auth_off_serves_without_keys(tiny_predictor):
    assert ApiKeys.from_env({config.API_AUTH_ENV: "off"}) is None
    app = api.create_app(lambda: tiny_predictor, keys=lambda: None)
    with TestClient(app) as test_client:
        assert test_client.post("/predict", json={"text": "hi"}).status_code == 200


def test_the_api_command_binds_this_machine_unless_told(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: calls.append(kw))
    monkeypatch.delenv(config.API_HOST_ENV, raising=False)
    api_command.main([])
    monkeypatch.setenv(config.API_HOST_ENV, "0.0.0.0")
    api_command.main([])
    api_command.main(["--host", "10.1.2.3"])
    assert [c["host"] for c in calls] == ["127.0.0.1", "0.0.0.0", "10.1.2.3"]
    assert all(c["server_header"] is False for c in calls)


def test_new_key_prints_a_key_and_a_line_that_accepts_it(tmp_path, capsys):
    api_command.main(["--new-key", "dave"])
    lines = [x for x in capsys.readouterr().out.splitlines() if not x.startswith("#")]
    key, line = lines
    (tmp_path / "keys").write_text(line + "\n", encoding="utf-8")
    assert ApiKeys(read_keys_file(tmp_path / "keys")).check(f"Bearer {key}") == "dave"


def test_make_api_leaves_the_bind_address_to_the_api_command():
    makefile = (config.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\napi:", 1)[1].split("\n\n", 1)[0]
    assert "-m sentiment.api" in recipe
    assert "--host" not in recipe and "0.0.0.0" not in recipe
