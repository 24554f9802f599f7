"""The prediction log: schema, hostile text, switches, queries, failure policy."""

import hashlib
import logging
import sqlite3
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from sentiment import config, predict
from sentiment.batch import local as batch_local
from sentiment.model import predictor as model_predictor
from sentiment.ops.log_queries import dropped_rows
from sentiment.ops.logstore import LogStoreError, PredictionLog

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture()
def plog(tmp_path):
    with PredictionLog(tmp_path / "predictions.db") as log:
        yield log


def test_wal_busy_timeout_and_sync_are_set_and_read_back(plog):
    assert plog.settings() == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout_ms": config.LOG_BUSY_TIMEOUT_MS,
    }
    full = PredictionLog(plog.path, synchronous="full")
    assert full.settings()["synchronous"] == 2


def test_an_unusable_path_fails_at_open_with_advice(tmp_path):
    with pytest.raises(LogStoreError, match="SENTIMENT_LOG_DB"):
        PredictionLog(tmp_path)  # a folder, not a file
    with pytest.raises(LogStoreError, match="NORMAL or FULL"):
        PredictionLog(tmp_path / "x.db", synchronous="sometimes")


def test_rows_match_the_predictor_output(plog, tiny_predictor):
    texts = ["i love pizza", "", "news about my car", None]
    scored = tiny_predictor.score(texts)
    result = plog.append("page", "r1", "abc", texts, scored)
    assert (result.request_id, result.rows, result.logged) == ("r1", 4, True)
    rows = plog.predictions()
    assert rows["item"].tolist() == [0, 1, 2, 3]
    assert rows["label"].fillna("-").tolist() == ["positive", "-", "neutral", "-"]
    assert rows["status"].tolist() == scored["status"].tolist()
    assert rows["needs_review"].tolist() == scored["needs_review"].astype(int).tolist()
    assert rows["prob_positive"][0] == pytest.approx(scored["prob_positive"][0])
    assert rows["confidence"].isna().tolist() == [False, True, False, True]
    assert rows["text_length"].tolist() == [12, 0, 17, 0]
    assert (rows["model_version"] == "abc").all() and (rows["source"] == "page").all()


def test_prediction_objects_log_like_the_frame(plog, tiny_predictor):
    texts = ["i hate the team", ""]
    plog.append("api", "a", "v", texts, tiny_predictor.predict_batch(texts))
    plog.append("api", "b", "v", texts, tiny_predictor.score(texts))
    rows = plog.predictions()
    columns = ["label", "confidence", "prob_negative", "needs_review", "status"]
    a, b = rows[rows.request_id == "a"], rows[rows.request_id == "b"]
    pd.testing.assert_frame_equal(
        a[columns].reset_index(drop=True), b[columns].reset_index(drop=True)
    )


def test_a_retried_request_id_adds_no_second_row(plog, tiny_predictor):
    texts = ["i love pizza"]
    first = plog.append("api", "same", "v", texts, tiny_predictor.score(texts))
    again = plog.append("api", "same", "v", texts, tiny_predictor.score(texts))
    assert (first.rows, again.rows, again.logged) == (1, 0, True)
    assert len(plog.predictions()) == 1


def test_texts_and_predictions_must_pair_up(plog, tiny_predictor):
    with pytest.raises(ValueError, match="pair up"):
        plog.append("api", None, "v", ["a", "b"], tiny_predictor.score(["a"]))


HOSTILE = [
    "lone high \ud800 surrogate",
    "lone low \udfff",
    b"invalid \xff\xfe bytes".decode("utf-8", "surrogateescape"),
    "nul \x00 inside",
    "emoji 😀 rtl \u202e and zero\u200bwidth",
    "x" * (config.MAX_TEXT_CHARS + 10),
]


def test_surrogates_and_invalid_bytes_cannot_break_an_insert(plog, tiny_predictor):
    raw = [b"raw \xff bytes"]
    result = plog.append(
        "api",
        None,
        "v",
        HOSTILE + raw,
        tiny_predictor.score(HOSTILE + [None]),
    )
    assert result.logged and result.rows == len(HOSTILE) + 1
    stored = plog.predictions()["text"].tolist()
    for text in stored:
        text.encode("utf-8")  # valid UTF-8 when read back: no surrogate left
    assert stored[0] == "lone high \\ud800 surrogate"
    assert stored[2] == "invalid \\udcff\\udcfe bytes"
    assert stored[3] == HOSTILE[3] and stored[4] == HOSTILE[4]  # kept exactly
    assert len(stored[5]) == config.MAX_TEXT_CHARS
    assert stored[6] == "raw \\xff bytes"
    lengths = plog.predictions()["text_length"].tolist()
    assert lengths[5] == config.MAX_TEXT_CHARS + 10
    hashes = plog.predictions()["text_sha256"]
    assert hashes.nunique() == len(hashes)
    assert plog.integrity_check() == "ok"


def test_text_storage_off_keeps_a_hash_only(tmp_path, tiny_predictor):
    log = PredictionLog(tmp_path / "p.db", store_text=False)
    texts = ["i love pizza", "secret \ud800"]
    log.append("page", None, "v", texts, tiny_predictor.score(texts))
    log.append("page", None, "v", texts[:1], tiny_predictor.score(texts[:1]), True)
    rows = log.predictions()
    assert rows["text"].fillna("-").tolist() == ["-", "-", "i love pizza"]
    assert rows["text_sha256"][0] == hashlib.sha256(b"i love pizza").hexdigest()
    assert rows["text_length"].tolist() == [12, 8, 12]


def test_environment_switches(tmp_path):
    assert config.log_path_from_env({}) == config.DEFAULT_LOG_DB
    assert config.log_path_from_env({config.LOG_DB_ENV: ""}) == config.DEFAULT_LOG_DB
    for off in ("off", "OFF", "0", "false", "no"):
        assert config.log_path_from_env({config.LOG_DB_ENV: off}) is None
    assert config.log_path_from_env({config.LOG_DB_ENV: str(tmp_path / "a.db")}) == (
        tmp_path / "a.db"
    )
    assert config.store_text_from_env({}) is True
    assert config.store_text_from_env({config.LOG_TEXT_ENV: "0"}) is False


def test_a_locked_log_drops_visibly_and_the_answer_still_comes(
    tmp_path, tiny_predictor, caplog
):
    path = tmp_path / "p.db"
    log = PredictionLog(path, busy_timeout_ms=50)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    texts = ["i love pizza", "i hate my car"]
    with caplog.at_level(logging.ERROR):
        result = log.append("api", "r", "v", texts, tiny_predictor.score(texts))
    assert (result.logged, result.rows) == (False, 0)
    assert log.dropped == 2 and dropped_rows(path) == 2
    assert "NOT written" in caplog.text
    holder.execute("ROLLBACK")
    assert log.append("api", "r", "v", texts, tiny_predictor.score(texts)).rows == 2
    assert log.stats()["dropped_rows"] == 2  # the record of the drop persists
    assert log.integrity_check() == "ok"


def test_a_batch_the_locked_log_cannot_take_counts_every_row_dropped(
    tmp_path, tiny_predictor
):
    # Staged rows are copied by SQLite in one statement per transaction; a
    # failed copy must still count each of its rows, and a retry add none twice.
    from sentiment.ops.log_staging import StagedLog

    path = tmp_path / "p.db"
    log = PredictionLog(path, busy_timeout_ms=50)
    texts = ["i love pizza", "", "i hate my car"] * 5
    with StagedLog(log, "batch", "v", rows_per_commit=4) as staged:
        staged.add(texts[:7], tiny_predictor.score_columns(texts[:7]))
        staged.add(texts[7:], tiny_predictor.score_columns(texts[7:]))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        assert staged.commit() == (0, len(texts))
        assert log.dropped == dropped_rows(path) == len(texts)
        holder.execute("ROLLBACK")
        assert staged.commit() == (len(texts), 0)
        assert staged.commit() == (len(texts), 0)  # nothing written twice
    logged = log.predictions()
    assert logged["item"].tolist() == list(range(len(texts)))
    assert logged["text"].tolist() == texts
    expected = tiny_predictor.score(texts)
    assert logged["label"].fillna("").tolist() == expected["sentiment"].tolist()
    assert logged["status"].tolist() == expected["status"].tolist()
    assert log.integrity_check() == "ok"


def test_review_queue_and_corrections(plog, tiny_predictor):
    texts = ["i love pizza", "zzz qqq", "meh", "the team"]
    scored = tiny_predictor.score(texts, threshold=0.99)
    plog.append("page", None, "v", texts, scored)
    queue = plog.review_queue()
    assert set(queue["text"]) == set(t for t, r in zip(texts, scored.needs_review) if r)
    first = int(queue["id"].iloc[0])
    plog.record_correction(first, "NEG", reviewer="ana")
    plog.record_correction(first, "positive", reviewer="ana")  # changed her mind
    assert first not in plog.review_queue()["id"].tolist()
    corrections = plog.corrections()
    assert corrections["label"].tolist() == ["positive"]
    texts_out, labels_out, skipped = plog.feedback_rows()
    assert (labels_out, skipped) == (["positive"], [])
    assert texts_out == corrections["text"].tolist()
    with pytest.raises(ValueError, match="Unknown label"):
        plog.record_correction(first, "angry")
    with pytest.raises(ValueError, match="No logged prediction"):
        plog.record_correction(10_000, "neutral")


def test_corrections_without_text_are_counted_not_trained_on(tmp_path, tiny_predictor):
    log = PredictionLog(tmp_path / "p.db", store_text=False)
    log.append("page", None, "v", ["i love pizza"], tiny_predictor.score(["a"]))
    log.record_correction(1, "neutral")
    assert log.feedback_rows() == ([], [], [1])


def test_time_series_counts_every_period(plog, tiny_predictor):
    neg, pos = ["i hate my car"], ["i love pizza"]
    plog.append("api", None, "v", neg * 3, tiny_predictor.score(neg * 3), timestamp=T0)
    plog.append("api", None, "v", pos, tiny_predictor.score(pos), timestamp=T0)
    later = T0 + timedelta(hours=2, minutes=30)
    plog.append(
        "api", None, "v", pos * 2, tiny_predictor.score(pos * 2), timestamp=later
    )
    plog.append("api", None, "v", [""], tiny_predictor.score([""]), timestamp=later)
    hourly = plog.time_series("hour")
    assert hourly["n"].tolist() == [4, 0, 2]  # the empty text has no label
    assert hourly.index[0] == pd.Timestamp(T0)
    assert hourly["share_negative"].iloc[0] == pytest.approx(0.75)
    assert pd.isna(hourly["share_negative"].iloc[1])
    daily = plog.time_series("day")
    assert daily["n"].tolist() == [6] and daily["positive"].tolist() == [3]
    since = plog.time_series("hour", since=T0 + timedelta(hours=1))
    assert since["n"].tolist() == [2]
    assert plog.time_series("hour", since=T0 + timedelta(days=9)).empty


def test_batch_cli_logs_every_row_once_and_no_log_skips(tmp_path, monkeypatch):
    # A tiny model on disk, so the CLI's own loading path is used.
    from sentiment import train
    from tests.conftest import write_tiny_csv

    model = tmp_path / "m" / "model.pkl"
    data = write_tiny_csv(tmp_path / "train.csv")
    assert train.main(["--data", str(data), "--out", str(model), "--no-progress"]) == 0
    db = tmp_path / "log.db"
    monkeypatch.setenv(config.LOG_DB_ENV, str(db))
    posts = tmp_path / "posts.csv"
    pd.DataFrame({"text": ["i love pizza", "", "i hate my car"] * 5}).to_csv(
        posts, index=False
    )
    common = ["--model", str(model), "--trust-model-path", "--no-progress"]
    out = str(tmp_path / "out.csv")
    assert predict.main([str(posts), "-o", out, *common]) == 0
    assert predict.main([str(posts), "-o", out, "--no-log", *common]) == 0
    assert predict.main(["--text", "i love pizza", *common]) == 0
    rows = PredictionLog(db).predictions()
    assert rows["source"].value_counts().to_dict() == {"batch": 15, "cli": 1}
    batch = rows[rows.source == "batch"]
    assert batch["item"].tolist() == list(range(15)) and batch.request_id.nunique() == 1


def test_score_csv_logs_across_chunks(tmp_path, tiny_predictor, plog):
    posts = tmp_path / "posts.csv"
    texts = [f"i love pizza {i}" for i in range(10)]
    pd.DataFrame({"text": texts}).to_csv(posts, index=False)
    batch_local.score_csv(
        posts,
        tmp_path / "out.csv",
        tiny_predictor,
        chunk_rows=3,
        progress=False,
        prediction_log=plog,
    )
    rows = plog.predictions()
    assert rows["text"].tolist() == texts
    assert rows["item"].tolist() == list(range(10))
    assert rows["request_id"].nunique() == 1


def test_append_many_writes_each_request_under_its_id_in_one_commit(plog):
    probabilities = {"negative": 0.1, "neutral": 0.1, "positive": 0.8}
    first = [model_predictor.Prediction("positive", 0.8, probabilities, False, "ok")]
    second = [
        model_predictor.Prediction("positive", 0.8, probabilities, False, "ok")
    ] * 2
    results = plog.append_many(
        "api", "v" * 64, [("a", ["x"], first), ("b", ["y", "z"], second)]
    )
    again = plog.append_many("api", "v" * 64, [("a", ["x"], first)])
    rows = plog.predictions()
    assert [(r.request_id, r.rows, r.logged) for r in results] == [
        ("a", 1, True),
        ("b", 2, True),
    ]
    assert again[0].rows == 0  # a retried request id adds no second row
    assert list(zip(rows["request_id"], rows["item"], rows["text"])) == [
        ("a", 0, "x"),
        ("b", 0, "y"),
        ("b", 1, "z"),
    ]


def test_a_log_made_before_correlation_ids_gains_the_column(tmp_path, tiny_predictor):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the first release's table, one old row
        conn.executescript(
            "CREATE TABLE predictions (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, "
            "source TEXT NOT NULL, request_id TEXT NOT NULL, item INTEGER NOT NULL, "
            "model_version TEXT NOT NULL, label TEXT, confidence REAL, "
            "prob_negative REAL, prob_neutral REAL, prob_positive REAL, "
            "needs_review INTEGER NOT NULL, status TEXT NOT NULL, "
            "text_length INTEGER NOT NULL, text TEXT, text_sha256 TEXT NOT NULL, "
            "UNIQUE (request_id, item));"
            "INSERT INTO predictions (ts, source, request_id, item, model_version, "
            "needs_review, status, text_length, text_sha256) "
            "VALUES ('2026-01-01T00:00:00Z', 'api', 'old', 0, 'v', 0, 'ok', 0, '')"
        )
    with PredictionLog(path) as log:
        texts = ["i love pizza"]
        log.append_many(
            "api",
            "v",
            [("new", texts, tiny_predictor.score(texts))],
            correlation_ids=["c1"],
        )
        rows = log.query(
            "SELECT request_id, correlation_id FROM predictions ORDER BY id"
        )
    assert rows["request_id"].tolist() == ["old", "new"]
    assert rows["correlation_id"].isna().tolist() == [True, False]
    assert rows["correlation_id"][1] == "c1"
