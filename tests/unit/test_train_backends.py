"""``python -m sentiment.train --backend ...`` where torch is not installed."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pandas as pd
import pytest

from sentiment import config, train
from sentiment.model.cascade_cutoff import CUTOFF_GRID, choose_classic_weight
from tests.conftest import tiny_dataset


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is not None, reason="torch is installed here"
)
def test_fine_tuning_without_torch_says_how_to_get_it(tmp_path, capsys):
    data = tmp_path / "posts.csv"
    data.write_text("text,label\ngood,positive\n", encoding="utf-8")
    code = train.main(["--backend", "transformer", "--data", str(data)])
    assert code == 2
    assert "make transformer" in capsys.readouterr().err


def test_an_unknown_backend_is_an_argument_error(tmp_path):
    with pytest.raises(SystemExit) as stop:
        train.main(["--backend", "bert", "--data", str(tmp_path / "x.csv")])
    assert stop.value.code == 2


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None, reason="needs onnxruntime"
)
def test_the_cascade_is_tuned_on_the_users_file_with_its_own_column_names(
    tmp_path, capsys
):
    texts, labels = tiny_dataset()
    data = tmp_path / "ours.csv"
    pd.DataFrame({"tweet": texts, "mood": [label[:3] for label in labels]}).to_csv(
        data, index=False
    )
    folder = tmp_path / "transformer"
    shutil.copytree(config.TRANSFORMER_DIR, folder)
    argv = ["--backend", "cascade", "--data", str(data), "--transformer-dir"]
    argv += [str(folder), "--text-col", "tweet", "--label-col", "mood"]
    assert train.main(argv) == 0
    routing = json.loads((folder / "model.json").read_text())["cascade"]
    assert routing["chosen_on"]["file"] == "ours.csv"
    assert routing["chosen_on"]["rows_used"] == len(texts)
    assert routing["classic_weight"] == choose_classic_weight(
        routing["classic_weight_table"]
    )
    assert routing["cutoff"] in CUTOFF_GRID
    assert f"classic weight {routing['classic_weight']}" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["classic", "cascade"])
def test_a_class_with_fewer_than_two_posts_is_refused_by_name(
    tmp_path, capsys, backend
):
    data = tmp_path / "few.csv"
    rows = ["good day,positive", "great day,positive", "meh,neutral", "ok,neutral"]
    data.write_text("text,label\n" + "\n".join(rows + ["awful,negative"]) + "\n")
    argv = ["--backend", backend, "--data", str(data), "--out"]
    argv += [str(tmp_path / "m" / "model.pkl"), "--transformer-dir", str(tmp_path)]
    assert train.main(argv) == 2
    error = capsys.readouterr().err
    assert "at least 2 examples of every class" in error
    assert "too few of negative in" in error and "few.csv" in error
