"""score_csv keeps every row in order, adds predictions, neutralises formulas."""

import csv
import hashlib

import pandas as pd
import pytest

from sentiment.batch.local import score_csv
from sentiment.files.formats import DataError
from sentiment.files.output import OUTPUT_COLUMNS, neutralize_formulas
from sentiment.files.reading import read_table
from sentiment.ops.logstore import PredictionLog


def test_every_row_and_column_is_kept_in_order(tmp_path, tiny_predictor):
    texts = ["i love pizza", "", "i hate the team", "None", "news about my car"] * 2_000
    source = pd.DataFrame({"id": range(len(texts)), "text": texts, "note": "x"})
    source.to_csv(tmp_path / "in.csv", index=False)

    summary = score_csv(
        tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor, chunk_rows=3_000
    )

    out = read_table(tmp_path / "out.csv")
    assert summary.rows == len(out) == len(texts)
    assert list(out.columns) == ["id", "text", "note", *OUTPUT_COLUMNS]
    assert out["id"].tolist() == [str(i) for i in range(len(texts))]
    assert out["text"].tolist() == texts
    first = out["sentiment"].tolist()[:5]
    assert [first[i] for i in (0, 1, 2, 4)] == ["positive", "", "negative", "neutral"]
    empty = out[out["text"] == ""]
    assert (empty["status"] == "no_text").all() and (empty["sentiment"] == "").all()
    assert summary.no_text == len(empty)


def test_output_matches_the_predictor(tmp_path, tiny_predictor):
    texts = ["i love pizza", "i hate the team", "news about my car"]
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "in.csv", index=False)
    score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)
    out = read_table(tmp_path / "out.csv")
    expected = tiny_predictor.predict_batch(texts)
    assert out["sentiment"].tolist() == [p.label for p in expected]
    assert [float(c) for c in out["confidence"]] == pytest.approx(
        [p.confidence for p in expected], abs=1e-4
    )


def test_delimiter_is_kept(tmp_path, tiny_predictor):
    (tmp_path / "in.tsv").write_text("text\tid\ni love pizza\t1\n", encoding="utf-8")
    score_csv(tmp_path / "in.tsv", tmp_path / "out.tsv", tiny_predictor)
    header = (tmp_path / "out.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t")[:3] == ["text", "id", "sentiment"]


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("\x00x", "'\x00x"),
        ("-3.5", "-3.5"),
        ("+44", "+44"),
        ("hello = world", "hello = world"),
    ],
)
def test_formula_cells_are_neutralised(cell, expected):
    frame = pd.DataFrame({"a": [cell], "n": [1.5]})
    out = neutralize_formulas(frame)
    assert out["a"].tolist() == [expected]
    assert out["n"].tolist() == [1.5]


def test_echoed_text_is_neutralised_in_the_output(tmp_path, tiny_predictor):
    pd.DataFrame({"text": ["=cmd|' /C calc'!A0 i love pizza"]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)
    assert read_table(tmp_path / "out.csv")["text"][0].startswith("'=")


def test_missing_text_column_lists_columns(tmp_path, tiny_predictor):
    pd.DataFrame({"tweet": ["hi"]}).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match="Columns found: 'tweet'"):
        score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)


def test_already_scored_file_is_refused(tmp_path, tiny_predictor):
    pd.DataFrame({"text": ["hi"], "sentiment": ["x"]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    with pytest.raises(DataError, match="already has column"):
        score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)


def test_output_may_not_overwrite_input(tmp_path, tiny_predictor):
    pd.DataFrame({"text": ["hi"]}).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match="must differ"):
        score_csv(tmp_path / "in.csv", tmp_path / "in.csv", tiny_predictor)


class _FailsOnSecondChunk:
    """A predictor that breaks (out of memory, a bug) after its first chunk."""

    def __init__(self, predictor):
        self.predictor, self.calls = predictor, 0
        self.card = predictor.card

    def score_columns(self, texts, threshold=None):
        self.calls += 1
        if self.calls == 2:
            raise MemoryError("simulated failure in the middle of the file")
        return self.predictor.score_columns(texts, threshold)


def test_a_failure_mid_file_leaves_the_old_output_and_no_log_rows(
    tmp_path, tiny_predictor
):
    pd.DataFrame({"text": ["i love pizza"] * 5_000}).to_csv(
        tmp_path / "in.csv", index=False
    )
    (tmp_path / "out.csv").write_bytes(b"yesterday's results\n")
    with PredictionLog(tmp_path / "log.db") as prediction_log:
        with pytest.raises(MemoryError):
            score_csv(
                tmp_path / "in.csv",
                tmp_path / "out.csv",
                _FailsOnSecondChunk(tiny_predictor),
                chunk_rows=2_000,
                progress=False,
                prediction_log=prediction_log,
            )
        assert len(prediction_log.predictions()) == 0
    assert (tmp_path / "out.csv").read_bytes() == b"yesterday's results\n"
    # Neither the temporary output nor the staged log rows are left behind.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_rows_are_logged_once_the_output_is_in_place(tmp_path, tiny_predictor):
    texts = ["i love pizza", "", "i hate the team"] * 1_000
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "in.csv", index=False)
    with PredictionLog(tmp_path / "log.db") as prediction_log:
        score_csv(
            tmp_path / "in.csv",
            tmp_path / "out.csv",
            tiny_predictor,
            chunk_rows=700,
            progress=False,
            prediction_log=prediction_log,
        )
        logged = prediction_log.predictions()
    assert logged["request_id"].nunique() == 1
    assert logged["item"].tolist() == list(range(len(texts)))
    assert logged["text"].tolist() == texts
    scored = read_table(tmp_path / "out.csv")
    assert logged["label"].fillna("").tolist() == scored["sentiment"].tolist()


def test_a_log_without_text_storage_gets_hashes_of_the_batch_posts(
    tmp_path, tiny_predictor
):
    posts = ["i love pizza", "", "café broken"]
    (tmp_path / "in.csv").write_text("text\n" + "\n".join(posts) + "\n", "utf-8")
    with PredictionLog(tmp_path / "log.db", store_text=False) as prediction_log:
        score_csv(
            tmp_path / "in.csv",
            tmp_path / "out.csv",
            tiny_predictor,
            progress=False,
            prediction_log=prediction_log,
        )
        logged = prediction_log.predictions()
    assert logged["text"].isna().all()
    assert logged["text_sha256"].tolist() == [
        hashlib.sha256(p.encode("utf-8")).hexdigest() for p in posts
    ]
    assert logged["text_length"].tolist() == [len(p) for p in posts]


def test_a_refused_column_leaves_the_old_output(tmp_path, tiny_predictor):
    pd.DataFrame({"text": ["hi"]}).to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "out.csv").write_bytes(b"keep me\n")
    with pytest.raises(DataError, match="no column 'nosuch'"):
        score_csv(
            tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor, text_col="nosuch"
        )
    assert (tmp_path / "out.csv").read_bytes() == b"keep me\n"


def test_a_lone_cr_in_a_cell_is_quoted_so_rows_stay_rows(tmp_path, tiny_predictor):
    (tmp_path / "in.csv").write_bytes(b'text,id\n"good\rday",1\n"two\nlines",2\n')
    score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [row[:2] for row in rows] == [
        ["text", "id"],
        ["good\rday", "1"],
        ["two\nlines", "2"],
    ]


def test_header_cells_are_neutralised_and_duplicates_kept(tmp_path, tiny_predictor):
    (tmp_path / "in.csv").write_text(
        'text,=HYPERLINK("x"),@cmd,note,note\nhi,1,2,a,b\n', encoding="utf-8"
    )
    score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor)
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header[:5] == ["text", '\'=HYPERLINK("x")', "'@cmd", "note", "note"]


def test_delimiter_can_be_given_when_detection_would_pick_another(
    tmp_path, tiny_predictor
):
    # The header has a comma and a semicolon; the user knows it is ;-separated.
    (tmp_path / "in.csv").write_text("text;a,b\nhi, there;1\n", encoding="utf-8")
    score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor, delimiter=";")
    out = read_table(tmp_path / "out.csv")
    assert list(out.columns[:2]) == ["text", "a,b"]
    assert out["text"].tolist() == ["hi, there"]


_IMPORTS_AFTER_A_RUN = """
import runpy, sys
sys.argv = ["predict", sys.argv[1], "-o", sys.argv[2], "--backend", sys.argv[3]]
sys.argv.append("--no-progress")
try:
    runpy.run_module("sentiment.predict", run_name="__main__")
except SystemExit as done:
    assert not done.code, done.code
print(" ".join(m for m in ("pandas", "sklearn", "scipy", "nltk") if m in sys.modules))
"""


@pytest.mark.parametrize("backend", ["classic", "cascade"])
def test_scoring_a_csv_loads_neither_pandas_nor_scikit_learn(tmp_path, backend):
    # Together they take longer to import than the model takes to score
    # 10,000 posts; the CSV path needs neither (issue 15). NLTK pulls in both,
    # and the cascade's negation routing once imported it (a second a run).
    import os
    import subprocess
    import sys

    from sentiment import config

    if backend == "cascade":
        pytest.importorskip("onnxruntime", reason="the transformer extra is missing")
        if not config.TRANSFORMER_MODEL_PATH.exists():
            pytest.skip(f"no committed transformer at {config.TRANSFORMER_MODEL_PATH}")
    (tmp_path / "in.csv").write_text(
        "id,text\n1,i love it\n2,Le vol était horrible\n3,\n", encoding="utf-8"
    )
    env = {**os.environ, config.LOG_DB_ENV: str(tmp_path / "log.db")}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_AFTER_A_RUN, "in.csv", "out.csv", backend],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[-1] for line in lines[1:]] == [
        "ok",
        "unsupported_language",
        "no_text",
    ]
    with PredictionLog(tmp_path / "log.db") as log:
        logged = log.predictions()
    assert logged["status"].tolist() == ["ok", "unsupported_language", "no_text"]


@pytest.mark.parametrize("progress", [True, False])
def test_the_progress_bar_shows_only_when_asked(
    tmp_path, tiny_predictor, capsys, progress
):
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": ["good day", "bad day"] * 50}).to_csv(src, index=False)
    summary = score_csv(src, tmp_path / "out.csv", tiny_predictor, progress=progress)
    assert summary.rows == 100
    drawn = capsys.readouterr().err
    assert ("scoring" in drawn) == progress
