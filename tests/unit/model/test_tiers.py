"""The tier contract: the cascade's routing and card, backend choice, and the
post-hoc calibration it relies on (no ONNX file needed)."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment import config
from sentiment.model.calibration import (
    fit_class_bias,
    fit_temperature,
    logit_adjustment,
    macro_recall_of,
    softmax,
)
from sentiment.model.encoder_text import encoder_text
from sentiment.model.tiers import (
    CascadePredictor,
    TransformerPredictor,
    backend_of,
    blend,
    cascade_card,
    load_predictor,
    routing_mismatch,
)


class FixedModel:
    """A transformer stand-in that says "positive" at 0.9 for every post and
    records what it was asked to score."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def scores(self, texts):
        self.seen += list(texts)
        probabilities = np.tile([0.05, 0.05, 0.9], (len(texts), 1))
        return probabilities, np.ones(len(texts), dtype=np.int64)


def cascade(
    tiny_predictor,
    cutoff: float,
    route_negation: bool = False,
    classic_weight: float = 0.0,
) -> tuple[CascadePredictor, FixedModel]:
    model = FixedModel()
    transformer = TransformerPredictor(
        model, {"backend": "transformer", "model_sha256": "1" * 64}
    )
    predictor = CascadePredictor(
        tiny_predictor,
        transformer,
        cutoff,
        route_negation=route_negation,
        classic_weight=classic_weight,
    )
    return predictor, model


POSTS = ["i love pizza", "news about the team", "i hate my car", "qwzx"]


def test_cascade_sends_only_the_posts_classic_is_unsure_of(tiny_predictor):
    classic = tiny_predictor.score(POSTS)
    cutoff = float(np.median(classic["confidence"]))
    predictor, model = cascade(tiny_predictor, cutoff)
    scored = predictor.score(POSTS)
    unsure = classic["confidence"] < cutoff
    assert model.seen == [p for p, u in zip(POSTS, unsure) if u]
    assert np.allclose(scored.loc[unsure, "prob_positive"], 0.9)
    kept = ~unsure
    assert np.allclose(
        scored.loc[kept, "prob_positive"], classic.loc[kept, "prob_positive"]
    )
    assert (predictor.sent, predictor.scored) == (int(unsure.sum()), len(POSTS))


def test_a_post_sent_on_gets_both_tiers_pooled_with_the_cards_classic_weight(
    tiny_predictor,
):
    columns = ["prob_negative", "prob_neutral", "prob_positive"]
    classic = tiny_predictor.score(POSTS)[columns].to_numpy()
    predictor, _ = cascade(tiny_predictor, 1.0, classic_weight=0.25)
    scored = predictor.score(POSTS)[columns].to_numpy()
    pooled = classic**0.25 * np.array([0.05, 0.05, 0.9]) ** 0.75
    assert np.allclose(scored, pooled / pooled.sum(axis=1, keepdims=True))


def test_blend_weights_run_from_the_transformer_alone_to_classic_alone():
    classic = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    transformer = np.array([[0.1, 0.3, 0.6], [0.0, 0.5, 0.5]])
    assert np.allclose(blend(classic, transformer, 0.0), transformer)
    assert np.allclose(blend(classic, transformer, 1.0), classic)
    mixed = blend(classic, transformer, np.array([[0.0], [0.5]]))
    assert np.allclose(mixed[0], transformer[0]) and mixed[1, 0] < 1e-5
    assert np.allclose(mixed.sum(axis=1), 1.0)


def test_a_post_sent_for_a_negation_or_contrast_keeps_the_transformers_answer(
    tiny_predictor,
):
    posts = ["i love pizza", "i don't love pizza", "nice screen but awful battery"]
    predictor, model = cascade(
        tiny_predictor, 1.0, route_negation=True, classic_weight=0.5
    )
    scored = predictor.score(posts)
    assert model.seen == posts
    assert np.allclose(scored.loc[1:, "prob_positive"], 0.9)
    assert not np.isclose(scored.loc[0, "prob_positive"], 0.9)  # blended


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_a_classic_weight_outside_0_1_is_refused(tiny_predictor, weight):
    with pytest.raises(ValueError, match="classic_weight must be between 0 and 1"):
        cascade(tiny_predictor, 0.5, classic_weight=weight)


@pytest.mark.parametrize("cutoff, sent", [(0.0, 0), (1.0, len(POSTS))])
def test_cutoff_zero_sends_nothing_and_one_sends_everything(
    tiny_predictor, cutoff, sent
):
    predictor, model = cascade(tiny_predictor, cutoff)
    predictor.predict_batch(POSTS)
    assert len(model.seen) == sent


def test_negation_routing_sends_negated_and_contrasted_posts_whatever_the_cutoff(
    tiny_predictor,
):
    posts = POSTS + ["i don't love pizza", "nice screen but awful battery"]
    routed, model = cascade(tiny_predictor, 0.0, route_negation=True)
    routed.predict_batch(posts)
    assert model.seen == posts[-2:]
    plain, model = cascade(tiny_predictor, 0.0)
    plain.predict_batch(posts)
    assert model.seen == []


def test_the_cascade_keeps_the_contract_for_empty_text(tiny_predictor):
    predictor, model = cascade(tiny_predictor, 1.0)
    empty, post = predictor.predict_batch(["   ", "i love pizza"])
    assert (empty.status, empty.label, model.seen) == (
        "no_text",
        None,
        ["i love pizza"],
    )
    assert post.label == "positive" and post.needs_review is False


def test_the_cascade_version_changes_with_either_model_or_the_routing():
    base = cascade_card({"model_sha256": "a"}, {"model_sha256": "b"}, 0.7)
    assert base["backend"] == "cascade"
    for other in (
        cascade_card({"model_sha256": "c"}, {"model_sha256": "b"}, 0.7),
        cascade_card({"model_sha256": "a"}, {"model_sha256": "c"}, 0.7),
        cascade_card({"model_sha256": "a"}, {"model_sha256": "b"}, 0.8),
        cascade_card({"model_sha256": "a"}, {"model_sha256": "b"}, 0.7, True),
        cascade_card({"model_sha256": "a"}, {"model_sha256": "b"}, 0.7, False, 0.2),
    ):
        assert other["model_sha256"] != base["model_sha256"]


ROUTING = {"chosen_on": {"file": "train.csv", "sha256": "a" * 64}}


@pytest.mark.parametrize(
    "trained, warned",
    [
        ({"file": "train.csv", "sha256": "a" * 64}, False),
        ({"file": "ours.csv", "sha256": "b" * 64}, True),
        (None, False),  # a card that does not say
    ],
)
def test_a_cutoff_chosen_for_other_training_data_is_flagged(trained, warned):
    classic = {"training_data": trained} if trained else {}
    warning = routing_mismatch(classic, ROUTING)
    assert bool(warning) is warned
    if warned:
        assert "ours.csv" in warning and "--backend cascade" in warning


def test_the_cascade_warns_when_its_routing_was_chosen_for_other_data(
    tiny_predictor, caplog, monkeypatch
):
    card = {**tiny_predictor.card, "training_data": {"file": "ours.csv", "sha256": "b"}}
    monkeypatch.setattr(tiny_predictor, "card", card)
    transformer = TransformerPredictor(
        FixedModel(),
        {"backend": "transformer", "model_sha256": "1", "cascade": ROUTING},
    )
    with caplog.at_level("WARNING"):
        predictor = CascadePredictor(tiny_predictor, transformer, 0.5)
    assert "ours.csv" in predictor.card["routing_warning"]
    assert "choose them again" in caplog.text


def test_backend_of_each_tier(tiny_predictor):
    predictor, _ = cascade(tiny_predictor, 0.5)
    assert backend_of(tiny_predictor) == "classic"
    assert backend_of(predictor.transformer) == "transformer"
    assert backend_of(predictor) == "cascade"


def test_an_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="classic, transformer, cascade"):
        load_predictor(backend="bert")


@pytest.mark.parametrize(
    "environ, expected",
    [({}, "classic"), ({config.BACKEND_ENV: " Cascade "}, "cascade")],
)
def test_backend_from_env(environ, expected):
    assert config.backend_from_env(environ) == expected


def test_a_wrong_backend_in_the_environment_says_what_to_use():
    with pytest.raises(ValueError, match="use one of classic"):
        config.backend_from_env({config.BACKEND_ENV: "gpt"})


def test_class_bias_raises_macro_recall_of_a_model_that_ignores_a_class():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 3000)
    logits = rng.normal(0, 1, (3000, 3))
    logits[np.arange(3000), labels] += 1.5
    logits[:, 0] -= 2.0  # the model rarely says class 0
    before = macro_recall_of(labels, logits.argmax(1), 3)
    bias = fit_class_bias(logits, labels)
    assert bias[1] == 0.0 and bias[0] > 1.0
    assert macro_recall_of(labels, (logits + bias).argmax(1), 3) > before + 0.1


def test_temperature_is_recovered_from_overconfident_logits():
    rng = np.random.default_rng(1)
    honest = rng.normal(0, 1.5, (20000, 3))
    labels = np.array([rng.choice(3, p=p) for p in softmax(honest)])
    assert fit_temperature(honest * 3.0, labels) == pytest.approx(3.0, rel=0.1)


@pytest.mark.parametrize(
    "a, b",
    [
        ("love it @alice", "love it @bob_99"),
        ("see https://t.co/abc now", "see http://example.com/x?y=1 now"),
        ("SO HAPPYYYYY", "so happyy"),
    ],
)
def test_the_encoder_reads_mentions_links_and_shouting_alike(a, b):
    assert encoder_text(a) == encoder_text(b)


def test_the_encoder_reads_emoji_as_words():
    assert "smiling face with heart-eyes" in encoder_text("new phone 😍")


def test_weighted_temperature_equals_the_temperature_of_repeated_posts():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 2.0, (3000, 3))
    labels = np.array([rng.choice(3, p=p) for p in softmax(logits / 2.0)])
    weights = np.where(labels == 0, 3, 1)  # e.g. a class mix with more of class 0
    repeated = fit_temperature(
        np.repeat(logits, weights, 0), np.repeat(labels, weights)
    )
    weighted = fit_temperature(logits, labels, weights)
    assert weighted == pytest.approx(repeated, rel=1e-6)
    assert weighted != pytest.approx(fit_temperature(logits, labels), rel=1e-3)


def test_logit_adjustment_undoes_the_training_mix_for_macro_recall():
    # Posteriors of a model that learned a mix of 70 % / 20 % / 10 %: the
    # offsets are minus the log shares, middle class at 0, and lift the rare
    # class's recall as a model trained on equal classes would have it.
    rng = np.random.default_rng(4)
    shares = np.array([0.7, 0.2, 0.1])
    labels = rng.choice(3, size=30000, p=shares)
    evidence = rng.normal(0, 1, (30000, 3))
    evidence[np.arange(30000), labels] += 1.0
    logits = evidence + np.log(shares)  # Bayes posterior under the mix
    bias = logit_adjustment(labels, 3)
    assert bias[1] == 0.0
    assert bias == pytest.approx(np.log(0.2) - np.log(shares), abs=0.03)
    before = macro_recall_of(labels, logits.argmax(1), 3)
    assert macro_recall_of(labels, (logits + bias).argmax(1), 3) > before + 0.05
