"""``python -m sentiment.train --backend ...`` where torch is not installed."""

from __future__ import annotations

import importlib.util

import pytest

from sentiment import train


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
