"""Behaviour of the committed transformer tier and the cascade, run on the
committed int8 ONNX file with onnxruntime (no torch): negation, litotes,
contrast, emoji, and invariance to @mentions and links. The cases are our
own, written before looking at any output; cases the model still gets wrong
are marked xfail (strict) with the reason, so a fix shows up as XPASS."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from sentiment import config
from sentiment.model.artifacts import ModelLoadError
from sentiment.model.tiers import backend_of, load_predictor, load_transformer
from sentiment.predict import main as predict_main

pytest.importorskip("onnxruntime", reason="pip install -r requirements-transformer.txt")
pytestmark = pytest.mark.skipif(
    not config.TRANSFORMER_MODEL_PATH.is_file(),
    reason=f"no committed transformer at {config.TRANSFORMER_MODEL_PATH}",
)


@pytest.fixture(scope="module", params=["transformer", "cascade"])
def tier(request):
    return load_predictor(backend=request.param)


# Cases the committed model gets wrong today (measured, not tuned away). The
# cascade sends every post with a negation or a contrasting "but" to the
# transformer, so it shares the transformer's misses. strict: a better model
# turns them into XPASS failures, and then they move up to the passing cases.
KNOWN_MISSES = {
    ("transformer", "I don't hate it"): "negation of a negative word",
    ("cascade", "I don't hate it"): "sent to the transformer, which misses it",
}


def expect_known_miss(request, tier, text: str) -> None:
    reason = KNOWN_MISSES.get((backend_of(tier), text))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize(
    "text, not_label",
    [
        ("not bad at all", "negative"),
        ("can't complain, the service was fine", "negative"),
        ("I don't hate it", "negative"),
        ("this phone is not good", "positive"),
        ("I do not like the new update", "positive"),
    ],
)
def test_negation_and_litotes(request, tier, text, not_label):
    expect_known_miss(request, tier, text)
    assert tier.predict(text).label != not_label


@pytest.mark.parametrize(
    "text, label",
    [
        ("the screen is nice but the battery is terrible", "negative"),
        ("I expected to hate it but it was actually great", "positive"),
    ],
)
def test_contrast_but_follows_the_second_clause(request, tier, text, label):
    expect_known_miss(request, tier, text)
    assert tier.predict(text).label == label


@pytest.mark.parametrize(
    "text, label",
    [
        ("just got my new phone 😍", "positive"),
        ("flight cancelled again 😡", "negative"),
    ],
)
def test_emoji_carry_sentiment(tier, text, label):
    assert tier.predict(text).label == label


@pytest.mark.parametrize(
    "a, b",
    [
        ("@AcmeAir lost my bag again", "@DeltaHelp lost my bag again"),
        ("loving the new album https://t.co/abc", "loving the new album"),
        ("@sam the concert was amazing", "the concert was amazing @sam"),
    ],
)
def test_invariant_to_mentions_and_links(tier, a, b):
    first, second = tier.predict_batch([a, b])
    assert first.label == second.label
    assert abs(first.confidence - second.confidence) < 0.15


def test_a_post_scores_the_same_alone_and_in_a_batch(tier):
    # The int8 model scales a call's activations together, so each post is
    # scored in its own call; in one shared call its batch mates moved a
    # post's probabilities by up to 0.4.
    posts = [
        "short one",
        "a much longer post about the game last night " * 3,
        "WORST. SERVICE. EVER. 😡😡",
        "ok",
    ]
    columns = [f"prob_{c}" for c in config.LABELS]
    together = tier.score(posts)[columns].to_numpy()
    for row, post in enumerate(posts):
        alone = tier.score([post])[columns].to_numpy()
        assert np.allclose(together[row], alone[0], atol=1e-5)


def test_the_contract_holds_for_empty_long_and_signal_free_posts(tier):
    empty, long, symbols = tier.predict_batch(["", "great " * 3000, "!!! ???"])
    assert (empty.status, empty.label) == ("no_text", None)
    assert long.truncated and long.label == "positive"
    assert symbols.status == "no_signal" and symbols.needs_review


def test_the_readme_example_is_not_negative_on_the_cascade(capsys):
    assert predict_main(["--text", "not bad at all", "--backend", "cascade"]) == 0
    assert '"label": "negative"' not in capsys.readouterr().out


def test_the_card_records_calibration_cutoff_and_hashes():
    card = load_transformer().card
    assert card["backend"] == "transformer" and len(card["model_sha256"]) == 64
    assert len(card["class_bias"]) == len(config.LABELS) and card["temperature"] > 0
    assert 0.0 < card["cascade"]["cutoff"] <= 1.0
    assert card["model_bytes"] < 25e6


def test_a_swapped_file_is_refused(tmp_path):
    folder = tmp_path / "transformer"
    shutil.copytree(config.TRANSFORMER_DIR, folder)
    tokenizer = folder / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace('"[UNK]"', '"[UNKNOWN]"'))
    with pytest.raises(ModelLoadError, match="does not match its card"):
        load_transformer(folder)


def _copy_with_card(folder, change):
    shutil.copytree(config.TRANSFORMER_DIR, folder)
    card_file = folder / "model.json"
    card = json.loads(card_file.read_text())
    change(card)
    card_file.write_text(json.dumps(card))
    return folder


def test_a_changed_signed_card_is_refused_anywhere(tmp_path):
    folder = _copy_with_card(
        tmp_path / "transformer", lambda card: card.update(temperature=0.01)
    )
    with pytest.raises(ModelLoadError, match="signature does not match"):
        load_transformer(folder)


def test_an_unsigned_card_loads_only_outside_the_models_folder(tmp_path, monkeypatch):
    folder = _copy_with_card(
        tmp_path / "models" / "transformer", lambda card: card.pop("signature")
    )
    assert load_transformer(folder).card["model_sha256"]  # named by the caller
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path / "models")
    with pytest.raises(ModelLoadError, match="not signed"):
        load_transformer(folder)
