"""--engine dask: partitioned output that equals the single-process run row for row."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

DASK_EXTRA = "needs the Dask extra: pip install -r requirements-dask.txt"
distributed_ = pytest.importorskip("distributed", reason=DASK_EXTRA)
pytest.importorskip("pyarrow", reason=DASK_EXTRA)

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from sentiment import predict  # noqa: E402
from sentiment.batch import cluster as distributed  # noqa: E402
from sentiment.batch.local import score_csv  # noqa: E402
from sentiment.files.formats import DataError  # noqa: E402
from sentiment.files.output import OUTPUT_COLUMNS  # noqa: E402
from tests.tricky_posts import tricky_posts  # noqa: E402

ROWS = 1_500
PARTITION_ROWS = 400  # four partitions, the last one short


@pytest.fixture(scope="module")
def cluster():
    with distributed_.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def posts_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask-in") / "posts.csv"
    tricky_posts(ROWS).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def single_process_output(posts_csv, tmp_path_factory, tiny_predictor):
    out = tmp_path_factory.mktemp("dask-single") / "scored.csv"
    score_csv(posts_csv, out, tiny_predictor, progress=False)
    return out.read_text(encoding="utf-8")


def _joined_csv_parts(folder) -> str:
    """The parts' text as one file: the first header, then every part's rows."""
    parts = sorted(folder.glob("part-*.csv"))
    texts = [p.read_text(encoding="utf-8") for p in parts]
    header, _ = texts[0].split("\n", 1)
    assert all(t.startswith(header + "\n") for t in texts)
    return header + "\n" + "".join(t[len(header) + 1 :] for t in texts)


def test_csv_on_a_running_cluster_equals_the_single_process_run(
    cluster, posts_csv, single_process_output, tmp_path, tiny_predictor
):
    out = tmp_path / "scored"
    summary = distributed.score_dask(
        posts_csv,
        out,
        tiny_predictor,
        scheduler=cluster,
        partition_rows=PARTITION_ROWS,
        progress=False,
    )
    assert [p.name for p in sorted(out.iterdir())] == [
        f"part-{i:05d}.csv" for i in range(4)
    ]
    assert _joined_csv_parts(out) == single_process_output
    assert summary.rows == ROWS and summary.no_text > 0


def test_parquet_on_a_running_cluster_equals_the_single_process_run(
    cluster, posts_csv, single_process_output, tmp_path, tiny_predictor
):
    source = tmp_path / "posts.parquet"
    frame = tricky_posts(ROWS)
    frame.loc[3, "text"] = None  # Parquet can say "missing": scored as no text
    pq.write_table(pa.Table.from_pandas(frame), source, row_group_size=150)
    out = tmp_path / "scored"
    distributed.score_dask(
        source,
        out,
        tiny_predictor,
        scheduler=cluster,
        partition_rows=PARTITION_ROWS,
        progress=False,
    )
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 4  # row groups of 150 packed to >= 400 rows: 450 x 3 + 150
    got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert got["id"].tolist() == frame["id"].tolist()
    assert got["text"].isna().tolist() == frame["text"].isna().tolist()
    assert got.loc[3, "status"] == "no_text"

    expected = tiny_predictor.score([None if pd.isna(t) else t for t in frame["text"]])
    pd.testing.assert_frame_equal(
        got[OUTPUT_COLUMNS].reset_index(drop=True),
        expected[OUTPUT_COLUMNS],
        check_dtype=False,
    )


def test_cli_without_scheduler_starts_a_local_cluster(
    posts_csv, single_process_output, tmp_path, saved_tiny_model, monkeypatch, capsys
):
    monkeypatch.setattr(distributed, "PARTITION_ROWS", PARTITION_ROWS)
    out = tmp_path / "scored"
    code = predict.main(
        [str(posts_csv), "-o", str(out), "--engine", "dask", "--jobs", "2"]
        + ["--model", str(saved_tiny_model), "--trust-model-path", "--no-progress"]
    )
    assert code == 0, capsys.readouterr().err
    assert _joined_csv_parts(out) == single_process_output


def test_a_glob_of_csv_files_is_scored_in_file_order(cluster, tmp_path, tiny_predictor):
    frame = tricky_posts(300)
    for i, part in enumerate([frame.iloc[:100], frame.iloc[100:]]):
        part.to_csv(tmp_path / f"day{i}.csv", index=False)
    frame.to_csv(tmp_path / "all.csv.txt", index=False)
    score_csv(tmp_path / "all.csv.txt", tmp_path / "single.csv", tiny_predictor)
    out = tmp_path / "scored"
    distributed.score_dask(
        tmp_path / "day*.csv", out, tiny_predictor, scheduler=cluster, progress=False
    )
    assert _joined_csv_parts(out) == (tmp_path / "single.csv").read_text("utf-8")


def test_output_folder_must_be_new_or_empty(posts_csv, tmp_path, tiny_predictor):
    (tmp_path / "scored").mkdir()
    (tmp_path / "scored" / "old.csv").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="not an empty folder"):
        distributed.score_dask(posts_csv, tmp_path / "scored", tiny_predictor)


def test_missing_text_column_is_reported_before_any_work(
    cluster, tmp_path, tiny_predictor
):
    pd.DataFrame({"tweet": ["hi"]}).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match="no column 'text'"):
        distributed.score_dask(
            tmp_path / "in.csv", tmp_path / "out", tiny_predictor, scheduler=cluster
        )


def test_non_text_parquet_column_is_refused(cluster, tmp_path, tiny_predictor):
    pq.write_table(pa.table({"text": [1, 2, 3]}), tmp_path / "in.parquet")
    with pytest.raises(DataError, match="holds int64, not text"):
        distributed.score_dask(
            tmp_path / "in.parquet", tmp_path / "out", tiny_predictor, scheduler=cluster
        )


def test_unreachable_scheduler_is_a_clear_error(
    posts_csv, tmp_path, tiny_predictor, monkeypatch
):
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(distributed.ClusterError, match="Could not reach"):
        distributed.score_dask(
            posts_csv, tmp_path / "out", tiny_predictor, scheduler="tcp://127.0.0.1:9"
        )
