"""--engine dask on object storage: a ``dask scheduler`` process and two ``dask
worker`` processes over TCP on 127.0.0.1 read their input from S3 (a moto
server on 127.0.0.1) and write the parts back to it. The workers are separate
processes: they get the endpoint and credentials the way any AWS SDK user
would, from the standard ``AWS_*`` variables of their environment.

The parts, read in name order, equal the single-process run row for row.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

DASK_EXTRA = "needs the Dask extra: pip install -r requirements-dask.txt"
pytest.importorskip("distributed", reason=DASK_EXTRA)

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from sentiment import predict  # noqa: E402
from sentiment.batch import cluster as distributed  # noqa: E402
from sentiment.files import remote  # noqa: E402
from sentiment.files.formats import DataError  # noqa: E402
from sentiment.files.output import OUTPUT_COLUMNS  # noqa: E402
from tests.cloud_servers import get, put  # noqa: E402
from tests.scale.dask_processes import start_cluster  # noqa: E402
from tests.tricky_posts import tricky_posts  # noqa: E402

ROWS = 1_500
PARTITION_ROWS = 400  # four parts, the last one short


@pytest.fixture(scope="module")
def aws_environment(moto_endpoint):
    """The moto endpoint and test credentials in the SDKs' standard variables,
    set before the workers start so that they inherit them."""
    s3fs = pytest.importorskip("s3fs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
        s3fs.S3FileSystem.clear_instance_cache()
        yield


@pytest.fixture(scope="module")
def processes(aws_environment, tmp_path_factory):
    cluster = start_cluster(tmp_path_factory.mktemp("dask-bucket"))
    yield cluster
    cluster.stop()


def _joined_parts(prefix: str) -> str:
    """The CSV parts under ``prefix`` as one file: the first header, then rows."""
    parts = remote.list_objects(prefix)
    assert [remote.url_name(p) for p in parts] == [
        f"part-{i:05d}.csv" for i in range(len(parts))
    ]
    texts = [get(p).decode("utf-8") for p in parts]
    header, _ = texts[0].split("\n", 1)
    assert all(t.startswith(header + "\n") for t in texts)
    return header + "\n" + "".join(t[len(header) + 1 :] for t in texts)


def _model_args(model) -> list[str]:
    return ["--model", str(model), "--trust-model-path", "--no-progress"]


def test_csv_from_the_bucket_to_the_bucket_equals_the_local_run(
    processes, bucket, tmp_path, saved_tiny_model, monkeypatch
):
    local = tmp_path / "posts.csv"
    tricky_posts(ROWS).to_csv(local, index=False)
    put(f"{bucket}/in/posts.csv", local.read_bytes())
    single = tmp_path / "single.csv"
    common = _model_args(saved_tiny_model)
    assert predict.main([str(local), "-o", str(single), "--no-log", *common]) == 0
    monkeypatch.setattr(distributed, "PARTITION_ROWS", PARTITION_ROWS)

    code = predict.main(
        [f"{bucket}/in/posts.csv", "-o", f"{bucket}/scored/", "--engine", "dask"]
        + ["--scheduler", processes.address, *common]
    )

    assert code == 0
    assert len(remote.list_objects(f"{bucket}/scored/")) == 4
    assert _joined_parts(f"{bucket}/scored/") == single.read_bytes().decode("utf-8")


def test_parquet_row_groups_are_read_by_the_workers_from_the_bucket(
    processes, bucket, tiny_predictor
):
    frame = tricky_posts(ROWS)
    frame.loc[3, "text"] = None  # Parquet can say "missing": scored as no text
    for day, rows in enumerate([frame.iloc[:600], frame.iloc[600:]]):
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(rows), buffer, row_group_size=150)
        put(f"{bucket}/in/day{day}.parquet", buffer.getvalue())

    summary = distributed.score_dask(
        f"{bucket}/in/day*.parquet",
        f"{bucket}/scored",
        tiny_predictor,
        scheduler=processes.address,
        partition_rows=PARTITION_ROWS,
        progress=False,
    )

    parts = remote.list_objects(f"{bucket}/scored")
    assert [remote.url_name(p) for p in parts] == [
        f"part-{i:05d}.parquet" for i in range(len(parts))
    ]
    got = pd.concat(
        [pd.read_parquet(io.BytesIO(get(p))) for p in parts], ignore_index=True
    )
    assert summary.rows == ROWS
    assert got["id"].tolist() == frame["id"].tolist()
    assert got["text"].isna().tolist() == frame["text"].isna().tolist()
    expected = tiny_predictor.score([None if pd.isna(t) else t for t in frame["text"]])
    pd.testing.assert_frame_equal(
        got[OUTPUT_COLUMNS], expected[OUTPUT_COLUMNS], check_dtype=False
    )


def test_an_output_prefix_that_holds_objects_is_refused_untouched(
    bucket, tiny_predictor
):
    put(f"{bucket}/in.csv", b"id,text\n1,i love it\n")
    put(f"{bucket}/scored/part-00000.csv", b"an earlier run\n")
    with pytest.raises(DataError, match="already holds objects"):
        distributed.score_dask(f"{bucket}/in.csv", f"{bucket}/scored/", tiny_predictor)
    assert get(f"{bucket}/scored/part-00000.csv") == b"an earlier run\n"
    with pytest.raises(DataError, match="No file matches"):
        distributed.score_dask(f"{bucket}/none*.csv", f"{bucket}/x/", tiny_predictor)
