"""Round trips through the three CLIs on a small CSV: train, evaluate, predict."""

import json

import pandas as pd
import pytest

from sentiment import config, evaluate, predict, train
from sentiment.files.storage import file_sha256
from sentiment.model.artifacts import read_card
from tests.conftest import write_tiny_csv


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    data = write_tiny_csv(folder / "train.csv")
    model = folder / "model.pkl"
    code = train.main(
        ["--data", str(data), "--out", str(model), "--seed", "7", "--no-progress"]
    )
    assert code == 0
    return data, model


def test_train_writes_model_and_card(trained):
    data, model = trained
    card = read_card(model)
    assert card["seed"] == 7
    assert card["classes"] == ["negative", "neutral", "positive"]
    assert card["training_data"]["rows_used"] == 216
    assert len(card["training_data"]["sha256"]) == 64
    assert card["versions"]["scikit-learn"]
    assert card["validation_metrics"]["macro_recall"] > 0.9
    assert card["test_metrics"] is None
    assert card["word_vectors"] == {
        "file": config.WORD_VECTORS_PATH.name,
        "sha256": file_sha256(config.WORD_VECTORS_PATH),
    }


def test_training_is_deterministic_for_a_seed(trained, tmp_path):
    data, model = trained
    again = tmp_path / "model.pkl"
    train.main(
        ["--data", str(data), "--out", str(again), "--seed", "7", "--no-progress"]
    )
    assert (
        read_card(again)["validation_metrics"] == read_card(model)["validation_metrics"]
    )


def test_evaluate_json_is_one_object_with_the_documented_keys(trained, capsys):
    data, model = trained
    code = evaluate.main(
        ["--data", str(data), "--model", str(model), "--trust-model-path", "--json"]
    )
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {
        "accuracy",
        "macro_f1",
        "macro_recall",
        "f1_pn",
        "per_class",
        "confusion_matrix",
        "n",
    } <= set(metrics)
    assert metrics["n"] == 216
    assert sum(map(sum, metrics["confusion_matrix"])) == 216


def test_evaluate_refuses_untrusted_path_without_flag(trained, capsys):
    data, model = trained
    assert evaluate.main(["--data", str(data), "--model", str(model)]) == 2
    assert "outside" in capsys.readouterr().err


def test_predict_csv_round_trip(trained, tmp_path, capsys):
    _, model = trained
    source = tmp_path / "posts.csv"
    pd.DataFrame({"text": ["i love pizza", "", "i hate my car"]}).to_csv(
        source, index=False
    )
    out = tmp_path / "scored.csv"
    args = [str(source), "-o", str(out), "--model", str(model), "--trust-model-path"]
    assert predict.main(args + ["--no-progress"]) == 0
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["sentiment"].tolist() == ["positive", "", "negative"]
    assert "Wrote 3 rows" in capsys.readouterr().err


def test_predict_single_text_prints_json(trained, capsys):
    _, model = trained
    args = ["--text", "i hate my car", "--model", str(model), "--trust-model-path"]
    assert predict.main(args) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "negative"


def test_cli_errors_are_messages_not_tracebacks(trained, tmp_path, capsys):
    _, model = trained
    (tmp_path / "bad.csv").write_text("tweet\nhi\n")
    code = predict.main(
        [
            str(tmp_path / "bad.csv"),
            "-o",
            str(tmp_path / "o.csv"),
            "--model",
            str(model),
        ]
        + ["--trust-model-path", "--no-progress"]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err
    assert train.main(["--data", str(tmp_path / "missing.csv"), "--no-progress"]) == 2


def test_the_transformer_tiers_score_in_one_process_unless_told_otherwise():
    assert predict.default_jobs("transformer") == predict.default_jobs("cascade") == 1
    assert predict.default_jobs("classic") == config.available_cores()
