"""``--backend`` and ``--cutoff`` on the commands that score: each reaches the
model that is loaded, and a cut-off is refused where there is no cascade."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sentiment import brands, config, evaluate, monitor, predict
from sentiment.model.tiers import load_predictor

pytest.importorskip("onnxruntime", reason="pip install -r requirements-transformer.txt")
pytestmark = pytest.mark.skipif(
    not config.TRANSFORMER_MODEL_PATH.exists(),
    reason=f"no committed transformer at {config.TRANSFORMER_MODEL_PATH}",
)

POSTS = [
    "the new update is great, thanks!",
    "worst customer service I have ever had",
    "not bad at all",
    "meeting moved to 3pm",
    "I expected to hate it but it was actually great",
    "ok",
]
LABELS = ["positive", "negative", "positive", "neutral", "positive", "neutral"]


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.csv"
    pd.DataFrame({"text": POSTS, "label": LABELS}).to_csv(path, index=False)
    return path


def _evaluate(capsys, labelled, *options):
    code = evaluate.main(["--data", str(labelled), "--json", *options])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_the_cutoff_decides_how_many_posts_the_cascade_sends_on(labelled, capsys):
    everything = _evaluate(capsys, labelled, "--backend", "cascade", "--cutoff", "1")
    card_weight = load_predictor(backend="cascade").classic_weight
    assert everything["cascade"] == {
        "cutoff": 1.0,
        "classic_weight": card_weight,
        "share_sent_to_transformer": 1.0,
    }
    # Cut-off 0: only the posts with a negation or a contrasting "but" go on.
    routed = _evaluate(capsys, labelled, "--backend", "cascade", "--cutoff", "0")
    assert routed["cascade"]["share_sent_to_transformer"] == round(2 / 6, 4)
    default = _evaluate(capsys, labelled, "--backend", "cascade")
    card_cutoff = load_predictor(backend="cascade").cutoff
    assert default["cascade"]["cutoff"] == card_cutoff
    assert "cascade" not in _evaluate(capsys, labelled)


@pytest.mark.parametrize("backend", ["classic", "transformer"])
def test_a_cutoff_without_the_cascade_is_refused(backend, capsys):
    argv = ["--text", "fine", "--backend", backend, "--cutoff", "0.5", "--no-log"]
    assert predict.main(argv) == 2
    assert "--cutoff is the cascade's" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half"])
def test_a_cutoff_outside_0_to_1_is_an_argument_error(value, capsys):
    with pytest.raises(SystemExit) as stop:
        predict.main(["--text", "fine", "--backend", "cascade", "--cutoff", value])
    assert stop.value.code == 2
    assert "expected a number from 0 to 1" in capsys.readouterr().err


def test_brands_scores_with_the_tier_it_is_given(tmp_path, capsys):
    posts = tmp_path / "posts.csv"
    pd.DataFrame({"brand": ["Acme"] * len(POSTS), "text": POSTS}).to_csv(
        posts, index=False
    )
    output = tmp_path / "scored.csv"
    argv = [str(posts), "--brand-col", "brand", "--output", str(output)]
    code = brands.main([*argv, "--backend", "transformer", "--no-log", "--no-progress"])
    assert code == 0
    scored = pd.read_csv(output)
    columns = [f"prob_{label}" for label in config.LABELS]
    expected = load_predictor(backend="transformer").score(POSTS)[columns]
    assert np.allclose(scored[columns].to_numpy(), expected.to_numpy(), atol=1e-4)


def test_drift_has_no_tier_to_choose(capsys):
    with pytest.raises(SystemExit):
        monitor.main(["drift", "--current", "x.csv", "--backend", "cascade"])
    assert "unrecognized arguments: --backend" in capsys.readouterr().err
