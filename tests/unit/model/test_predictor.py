import math

import pytest

from sentiment import config
from sentiment.files.output import OUTPUT_COLUMNS
from sentiment.model.predictor import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    STATUS_OK,
    Prediction,
)


def test_prediction_contract(tiny_predictor):
    result = tiny_predictor.predict("i love the phone")
    assert isinstance(result, Prediction)
    assert result.label == "positive"
    assert result.status == STATUS_OK
    assert set(result.probabilities) == set(config.LABELS)
    assert math.isclose(sum(result.probabilities.values()), 1.0, abs_tol=1e-6)
    assert result.confidence == max(result.probabilities.values())
    assert result.probabilities[result.label] == result.confidence


@pytest.mark.parametrize("empty", ["", "   ", "\n\t", None, "\u200b\u200b"])
def test_empty_input_gives_no_text_result(tiny_predictor, empty):
    result = tiny_predictor.predict(empty)
    assert result.status == STATUS_NO_TEXT
    assert result.label is None and result.probabilities is None
    assert result.needs_review is False


def test_non_string_input_is_a_clear_type_error(tiny_predictor):
    with pytest.raises(TypeError, match="str or None"):
        tiny_predictor.predict(42)


def test_threshold_decides_needs_review(tiny_predictor):
    confidence = tiny_predictor.predict("i hate my car").confidence
    assert tiny_predictor.predict("i hate my car", threshold=0.0).needs_review is False
    below = min(1.0, confidence + 1e-6)
    assert tiny_predictor.predict("i hate my car", threshold=below).needs_review


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_threshold_out_of_range_is_rejected(tiny_predictor, bad):
    with pytest.raises(ValueError, match="between 0 and 1"):
        tiny_predictor.predict("ok", threshold=bad)


@pytest.mark.parametrize("unknown", ["qqqzzzxxx", "🫠🫠🫠", "ñññ ßßß"])
def test_text_with_no_known_word_is_flagged(tiny_predictor, unknown):
    result = tiny_predictor.predict(unknown)
    assert result.status == STATUS_NO_SIGNAL
    assert result.needs_review is True


def test_invisible_characters_do_not_change_the_prediction(tiny_predictor):
    plain = tiny_predictor.predict("i love pizza")
    assert tiny_predictor.predict("i lo\u200bve pi\u200dzza") == plain
    assert tiny_predictor.predict("ｉ ｌｏｖｅ ｐｉｚｚａ") == plain


def test_long_text_is_truncated_not_rejected(tiny_predictor):
    result = tiny_predictor.predict("i love pizza " * 2_000)
    assert result.truncated is True
    assert result.label == "positive"
    assert tiny_predictor.predict("i love pizza").truncated is False


def test_batch_matches_single_predictions_in_order(tiny_predictor):
    texts = ["i love pizza", "", "i hate the team", None, "news about my car"]
    batch = tiny_predictor.predict_batch(texts)
    assert batch == [tiny_predictor.predict(t) for t in texts]
    assert [p.label for p in batch] == ["positive", None, "negative", None, "neutral"]


def test_score_has_one_row_per_input(tiny_predictor):
    frame = tiny_predictor.score(["i love pizza", "", "x"])
    assert len(frame) == 3
    assert list(frame.columns[: len(OUTPUT_COLUMNS)]) == OUTPUT_COLUMNS
    assert tiny_predictor.score([]).empty
