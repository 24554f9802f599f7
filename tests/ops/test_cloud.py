"""Datasets and models on cloud storage, against real servers: moto's S3 (in
this process, on 127.0.0.1) and Azurite's Blob service (a subprocess; the test
skips when ``azurite-blob`` is not installed: CI installs it with npm)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment import config, predict
from sentiment import train as train_command
from sentiment.files import decoding, remote
from sentiment.files.remote import RemoteError
from sentiment.model import artifacts
from sentiment.model.artifacts import ModelLoadError
from sentiment.model.predictor import load_predictor
from sentiment.model.signing import new_private_key, public_key_hex
from tests.cloud_servers import get, put
from tests.conftest import write_tiny_csv

s3fs = pytest.importorskip(
    "s3fs", reason="the cloud extra is missing: pip install -r requirements-cloud.txt"
)
moto_server = pytest.importorskip(
    "moto.server", reason="moto[server] is missing: pip install -r requirements-dev.txt"
)

POSTS = 'id,text\n1,i love this phone\n2,"so angry, with my car"\n3,news at 5pm\n'


def run_predict(src: str | Path, out: str | Path, model: Path) -> int:
    return predict.main(
        [str(src), "--output", str(out), "--model", str(model), "--trust-model-path"]
        + ["--no-log", "--no-progress", "--jobs", "1"]
    )


def test_urls_are_told_from_paths():
    assert remote.is_url("s3://bucket/in.csv")
    assert remote.is_url("az://container/in.csv")
    assert not remote.is_url("data/in.csv")
    assert not remote.is_url(Path("/tmp/in.csv"))
    assert not remote.is_url("file:///tmp/in.csv")
    assert not remote.is_url(None)
    # Path would fold "s3://b" into "s3:/b": URLs stay strings.
    assert remote.path_or_url("s3://b/k.csv") == "s3://b/k.csv"


def test_a_missing_sdk_names_the_extra(monkeypatch):
    import fsspec.core

    def no_sdk(url):
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", no_sdk)
    with pytest.raises(RemoteError, match="pip install -r requirements-cloud.txt"):
        remote.open_input("s3://bucket/in.csv")


def test_predict_round_trip_equals_the_local_run(bucket, saved_tiny_model, tmp_path):
    local_in = tmp_path / "in.csv"
    local_in.write_text(POSTS, encoding="utf-8")
    assert run_predict(local_in, tmp_path / "out.csv", saved_tiny_model) == 0
    put(f"{bucket}/in/posts.csv", POSTS.encode())

    code = run_predict(f"{bucket}/in/posts.csv", f"{bucket}/out.csv", saved_tiny_model)

    assert code == 0
    assert get(f"{bucket}/out.csv") == (tmp_path / "out.csv").read_bytes()


def test_the_input_is_streamed_in_ranged_reads(
    bucket, saved_tiny_model, tmp_path, monkeypatch
):
    """Never fetched whole: ranged GETs of a block or two, and the same output
    as the local run."""
    rows = "".join(f"{i},i love this phone number {i}\n" for i in range(20_000))
    posts = ("id,text\n" + rows).encode()
    (tmp_path / "in.csv").write_bytes(posts)
    assert run_predict(tmp_path / "in.csv", tmp_path / "out.csv", saved_tiny_model) == 0
    put(f"{bucket}/big.csv", posts)
    # Small blocks for the store and the reader, so a small file has many.
    monkeypatch.setattr(remote, "READ_BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(decoding, "_BLOCK", 64 * 1024)
    ranges = []
    fetch = s3fs.core.S3File._fetch_range

    def record(self, start, end):
        ranges.append(end - start)
        return fetch(self, start, end)

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", record)

    assert run_predict(f"{bucket}/big.csv", f"{bucket}/out.csv", saved_tiny_model) == 0

    assert len(posts) > 10 * 64 * 1024
    # A read fetches what the reader asks for plus one block ahead, no more.
    assert len(ranges) > 5 and max(ranges) <= 2 * 64 * 1024
    assert get(f"{bucket}/out.csv") == (tmp_path / "out.csv").read_bytes()


def test_an_output_bucket_that_does_not_exist_is_one_clear_line(
    bucket, saved_tiny_model, capsys
):
    put(f"{bucket}/in.csv", POSTS.encode())
    code = run_predict(
        f"{bucket}/in.csv", "s3://no-such-bucket-x1/out.csv", saved_tiny_model
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "no-such-bucket-x1" in err


def test_a_failing_run_leaves_the_remote_output_untouched(
    bucket, saved_tiny_model, capsys
):
    put(f"{bucket}/out.csv", b"the old output\n")
    # Malformed far down the file: rows were already scored when it fails.
    rows = "".join(f"{i},i love it\n" for i in range(5000)) + "5000,a,b\n"
    put(f"{bucket}/bad.csv", ("id,text\n" + rows).encode())

    code = run_predict(f"{bucket}/bad.csv", f"{bucket}/out.csv", saved_tiny_model)

    assert code == 2
    assert "line 5,002" in capsys.readouterr().err
    assert get(f"{bucket}/out.csv") == b"the old output\n"
    fs, _ = remote.filesystem(f"{bucket}/out.csv")
    assert fs.ls(bucket.removeprefix("s3://"), detail=False) == [
        f"{bucket.removeprefix('s3://')}/bad.csv",
        f"{bucket.removeprefix('s3://')}/out.csv",
    ]


def test_missing_input_is_one_clear_line(bucket, saved_tiny_model, capsys):
    code = run_predict(f"{bucket}/nope.csv", f"{bucket}/out.csv", saved_tiny_model)
    assert code == 2
    assert "nope.csv does not exist" in capsys.readouterr().err


@pytest.fixture()
def signed_remote_model(tiny_pipeline, tmp_path, monkeypatch, bucket) -> str:
    """The tiny model, signed by a key the test trusts, uploaded to the bucket."""
    seed = new_private_key()
    key_file = tmp_path / "signing.key"
    key_file.write_text(seed.hex())
    monkeypatch.setenv(config.SIGNING_KEY_ENV, str(key_file))
    monkeypatch.setenv(config.TRUSTED_KEYS_ENV, public_key_hex(seed))
    local = tmp_path / "signed" / "model.pkl"
    artifacts.save_model(tiny_pipeline, local, {"versions": {}})
    remote.upload_files(
        [local, local.with_suffix(".npz"), local.with_suffix(".json")],
        f"{bucket}/models/v1",
    )
    return f"{bucket}/models/v1/model.pkl"


TEXTS = ["i love pizza", "i hate the team", "news about my car", ""]


def test_a_signed_model_loads_from_the_bucket_and_scores_the_same(
    signed_remote_model, tmp_path
):
    here = load_predictor(
        tmp_path / "signed" / "model.pkl", allow_outside_models_dir=True
    )

    there = load_predictor(signed_remote_model)  # no --trust-model-path needed

    assert there.card["model_sha256"] == here.card["model_sha256"]
    assert [there.predict(t) for t in TEXTS] == [here.predict(t) for t in TEXTS]
    # The pickle is read later (explanations): it is still there to read.
    assert there.pipeline is not None


def test_a_tampered_remote_model_is_refused(signed_remote_model):
    arrays = signed_remote_model.replace(".pkl", ".npz")
    put(arrays, get(arrays) + b"\0")
    with pytest.raises(ModelLoadError, match="does not match its card"):
        load_predictor(signed_remote_model, allow_outside_models_dir=True)


def test_an_unsigned_remote_model_needs_trust(signed_remote_model, monkeypatch):
    monkeypatch.setenv(config.TRUSTED_KEYS_ENV, public_key_hex(new_private_key()))
    with pytest.raises(ModelLoadError, match="signed by a trusted key"):
        load_predictor(signed_remote_model)


def test_the_model_path_variable_takes_a_url(signed_remote_model, monkeypatch):
    monkeypatch.setenv(config.MODEL_PATH_ENV, signed_remote_model)
    from sentiment.model.tiers import load_local_predictor

    assert load_local_predictor().predict("i love pizza").label == "positive"


def test_train_from_and_to_the_bucket(bucket, tmp_path, monkeypatch):
    monkeypatch.delenv(config.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setattr(config, "HYPERPARAMS", {**config.HYPERPARAMS, "word_min_df": 1})
    put(f"{bucket}/data/train.csv", write_tiny_csv(tmp_path / "t.csv").read_bytes())

    code = train_command.main(
        [
            "--data",
            f"{bucket}/data/train.csv",
            "--test-data",
            f"{bucket}/data/train.csv",
        ]
        + ["--out", f"{bucket}/models/new/model.pkl", "--no-progress"]
    )

    assert code == 0
    fs, _ = remote.filesystem(f"{bucket}/models")
    fs.invalidate_cache()
    names = sorted(Path(p).name for p in fs.ls(f"{bucket[5:]}/models/new"))
    assert names == ["model.json", "model.npz", "model.pkl", "model.reference.json"]
    loaded = load_predictor(
        f"{bucket}/models/new/model.pkl", allow_outside_models_dir=True
    )
    assert loaded.card["training_data"]["file"] == "train.csv"
    assert loaded.predict("i love pizza").label == "positive"


def test_a_failed_training_uploads_nothing(bucket, monkeypatch):
    put(f"{bucket}/data/bad.csv", b"text,label\ni love it,positive\n")
    code = train_command.main(
        ["--data", f"{bucket}/data/bad.csv", "--out", f"{bucket}/m/model.pkl"]
        + ["--no-progress"]
    )
    assert code == 2
    fs, _ = remote.filesystem(f"{bucket}/m")
    fs.invalidate_cache()
    assert not fs.exists(f"{bucket[5:]}/m/model.pkl")


# --- Azure Blob (Azurite) ---


def test_predict_round_trip_on_azure_blob(azure_container, saved_tiny_model, tmp_path):
    local_in = tmp_path / "in.csv"
    local_in.write_text(POSTS, encoding="utf-8")
    assert run_predict(local_in, tmp_path / "out.csv", saved_tiny_model) == 0
    put(f"{azure_container}/in.csv", POSTS.encode())
    put(f"{azure_container}/out.csv", b"the old output\n")

    bad = run_predict(
        f"{azure_container}/nope.csv", f"{azure_container}/out.csv", saved_tiny_model
    )
    assert bad == 2
    assert get(f"{azure_container}/out.csv") == b"the old output\n"

    code = run_predict(
        f"{azure_container}/in.csv", f"{azure_container}/out.csv", saved_tiny_model
    )

    assert code == 0
    assert get(f"{azure_container}/out.csv") == (tmp_path / "out.csv").read_bytes()


def test_a_signed_model_loads_from_azure_blob(
    azure_container, tiny_pipeline, tmp_path, monkeypatch
):
    seed = new_private_key()
    (tmp_path / "signing.key").write_text(seed.hex())
    monkeypatch.setenv(config.SIGNING_KEY_ENV, str(tmp_path / "signing.key"))
    monkeypatch.setenv(config.TRUSTED_KEYS_ENV, public_key_hex(seed))
    local = tmp_path / "m" / "model.pkl"
    artifacts.save_model(tiny_pipeline, local, {"versions": {}})
    remote.upload_files(
        [local, local.with_suffix(".npz"), local.with_suffix(".json")],
        f"{azure_container}/models",
    )
    here = load_predictor(local, allow_outside_models_dir=True)

    there = load_predictor(f"{azure_container}/models/model.pkl")

    assert [there.predict(t) for t in TEXTS] == [here.predict(t) for t in TEXTS]
