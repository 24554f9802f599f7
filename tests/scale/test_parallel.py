"""--jobs N: worker processes give byte for byte the output of one process."""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from sentiment import predict
from sentiment.batch import pool as parallel
from sentiment.batch.local import score_csv
from sentiment.files.formats import DataError
from sentiment.ops.logstore import PredictionLog
from tests.tricky_posts import tricky_posts


@pytest.fixture(scope="module")
def tricky_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("tricky") / "posts.csv"
    tricky_posts(2_500).to_csv(path, index=False)
    return path


def test_jobs_output_is_byte_identical_to_one_process(
    tricky_csv, tmp_path, tiny_predictor
):
    one = score_csv(tricky_csv, tmp_path / "one.csv", tiny_predictor, progress=False)
    # Small chunks so both workers get several, out of step with each other.
    many = score_csv(
        tricky_csv,
        tmp_path / "many.csv",
        tiny_predictor,
        chunk_rows=97,
        progress=False,
        jobs=2,
    )
    assert (tmp_path / "many.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert many == one
    assert one.rows == 2_500 and one.no_text > 0 and one.truncated > 0


def test_cli_jobs_flag_matches_one_process(
    tricky_csv, tmp_path, saved_tiny_model, capsys
):
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.csv"
        code = predict.main(
            [str(tricky_csv), "-o", str(out), "--jobs", jobs]
            + ["--model", str(saved_tiny_model), "--trust-model-path", "--no-progress"]
        )
        assert code == 0
        outputs[jobs] = out.read_bytes()
    assert outputs["1"] == outputs["2"]
    assert "Wrote 2,500 rows" in capsys.readouterr().err


def test_zero_jobs_is_refused_with_a_message(tricky_csv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        predict.main([str(tricky_csv), "-o", str(tmp_path / "out.csv"), "-j", "0"])
    assert exit_.value.code == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


def test_bad_input_error_reaches_the_caller_from_workers(tmp_path, tiny_predictor):
    (tmp_path / "in.csv").write_text("tweet\nhello\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column 'text'"):
        score_csv(tmp_path / "in.csv", tmp_path / "out.csv", tiny_predictor, jobs=2)


def _pid_and_item(state: str, item: int) -> tuple[str, int, int]:
    return state, item, os.getpid()


def test_map_ordered_keeps_order_and_hands_state_to_workers():
    results = list(parallel.map_ordered(_pid_and_item, range(200), "state", jobs=2))
    assert [item for _, item, _ in results] == list(range(200))
    assert {state for state, _, _ in results} == {"state"}
    assert os.getpid() not in {pid for _, _, pid in results}


def test_map_ordered_reads_ahead_a_bounded_number_of_items():
    consumed = 0

    def items():
        nonlocal consumed
        for i in range(100):
            consumed += 1
            yield i

    ahead = []
    for done, _ in enumerate(parallel.map_ordered(_pid_and_item, items(), None, 2)):
        ahead.append(consumed - done)
    assert max(ahead) <= parallel.PENDING_PER_WORKER * 2 + 1


def _fail_on_three(state: None, item: int) -> int:
    if item == 3:
        raise ValueError("bad item 3")
    return item


def test_map_ordered_raises_a_worker_error():
    with pytest.raises(ValueError, match="bad item 3"):
        list(parallel.map_ordered(_fail_on_three, range(50), None, jobs=2))


def test_dask_engine_without_the_extra_says_how_to_install_it(
    tricky_csv, tmp_path, monkeypatch, capsys
):
    # None in sys.modules makes the import fail as if Dask were not installed.
    monkeypatch.setitem(sys.modules, "sentiment.batch.cluster", None)
    code = predict.main(
        [str(tricky_csv), "-o", str(tmp_path / "out"), "--engine", "dask"]
    )
    assert code == 2
    assert "pip install -r requirements-dask.txt" in capsys.readouterr().err


def test_scheduler_needs_the_dask_engine(tricky_csv, tmp_path, capsys):
    with pytest.raises(SystemExit):
        predict.main(
            [str(tricky_csv), "-o", str(tmp_path / "o.csv"), "--scheduler", "tcp://x:1"]
        )
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


def test_jobs_log_the_same_rows_as_one_process(tricky_csv, tmp_path, tiny_predictor):
    # With --jobs, workers stage their own rows; the log must not tell.
    logged = {}
    for jobs in (1, 2, 3):
        with PredictionLog(tmp_path / f"log{jobs}.db") as prediction_log:
            score_csv(
                tricky_csv,
                tmp_path / f"out{jobs}.csv",
                tiny_predictor,
                chunk_rows=97,
                progress=False,
                prediction_log=prediction_log,
                jobs=jobs,
            )
            rows = prediction_log.predictions()
        assert rows["request_id"].nunique() == 1  # one id per run
        assert rows.sort_values("id")["item"].tolist() == list(range(len(rows)))
        logged[jobs] = rows.drop(columns=["id", "ts", "request_id"])
    assert len(logged[1]) == 2_500
    pd.testing.assert_frame_equal(logged[1], logged[2])
    pd.testing.assert_frame_equal(logged[1], logged[3])
    assert not list(tmp_path.glob(".*staged-*"))  # scratch folders removed
