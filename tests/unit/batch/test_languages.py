"""Posts in a language the model was not trained for, in the batch engines:
kept in place, not scored, counted; ``score_all_languages`` scores them."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from sentiment import config, predict
from sentiment.batch import local as batch_local
from sentiment.batch.step import score_chunk
from sentiment.model.language import STATUS_UNSUPPORTED_LANGUAGE

POSTS = [
    "i love this phone, the battery lasts all day",
    "Le service client était vraiment décevant, je ne recommande pas du tout",
    "i hate waiting in line at the airport",
    "El nuevo modelo es horrible y la batería no dura nada",
]
FOREIGN = [1, 3]  # positions of the French and Spanish posts


def _read(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_score_chunk_marks_other_languages_and_counts_them(tiny_predictor):
    chunk = pd.DataFrame({"text": POSTS})
    scored, summary = score_chunk(tiny_predictor, chunk, "text")
    status = scored["status"].tolist()
    assert [i for i, s in enumerate(status) if s == STATUS_UNSUPPORTED_LANGUAGE] == (
        FOREIGN
    )
    assert (scored.loc[FOREIGN, "sentiment"] == "").all()
    assert scored.loc[FOREIGN, "confidence"].isna().all()
    assert summary.other_language == 2 and summary.rows == 4

    everything, summary = score_chunk(
        tiny_predictor, chunk, "text", score_all_languages=True
    )
    assert STATUS_UNSUPPORTED_LANGUAGE not in set(everything["status"])
    assert summary.other_language == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_score_csv_keeps_every_row_in_place(tmp_path, tiny_predictor, jobs):
    source = tmp_path / "posts.csv"
    pd.DataFrame({"id": range(4), "text": POSTS}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    summary = batch_local.score_csv(
        source, out, tiny_predictor, progress=False, jobs=jobs
    )
    rows = _read(out)
    assert [r["text"] for r in rows] == POSTS and [r["id"] for r in rows] == list(
        "0123"
    )
    assert [r["status"] for r in rows if r["sentiment"] == ""] == [
        STATUS_UNSUPPORTED_LANGUAGE
    ] * 2
    assert summary.other_language == 2


def test_the_cli_scores_every_language_when_asked(
    tmp_path, saved_tiny_model, capsys, monkeypatch
):
    monkeypatch.setenv(config.LOG_DB_ENV, str(tmp_path / "log.db"))
    source = tmp_path / "posts.csv"
    pd.DataFrame({"text": POSTS}).to_csv(source, index=False)
    common = ["--model", str(saved_tiny_model), "--trust-model-path", "--no-log"]
    marked, everything = tmp_path / "marked.csv", tmp_path / "all.csv"
    assert predict.main([str(source), "-o", str(marked), "--no-progress", *common]) == 0
    assert "2 posts in another language were not scored" in capsys.readouterr().err
    assert (
        predict.main(
            [str(source), "-o", str(everything), "--score-all-languages", *common]
        )
        == 0
    )
    assert [r["status"] for r in _read(marked)].count(STATUS_UNSUPPORTED_LANGUAGE) == 2
    assert all(r["sentiment"] for r in _read(everything))
