import math

import pytest

from sentiment import config
from sentiment.files.output import OUTPUT_COLUMNS
from sentiment.model import predictor as predictor_module
from sentiment.model.predictor import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    STATUS_OK,
    Prediction,
    prepare_text,
    prepare_texts,
)
from sentiment.model.preprocess import clean_unicode


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


def _cleaned_lengths(monkeypatch) -> list[int]:
    """Record the length of every text that reaches clean_unicode (NFKC)."""
    seen: list[int] = []

    def counting(text: str) -> str:
        seen.append(len(text))
        return clean_unicode(text)

    monkeypatch.setattr(predictor_module, "clean_unicode", counting)
    return seen


def test_nfkc_work_is_bounded_by_what_is_kept(monkeypatch):
    # U+FDFA becomes 18 characters under NFKC: a 1 MB post of it took seconds.
    seen = _cleaned_lengths(monkeypatch)
    text, truncated = prepare_text("\ufdfa" * 350_000)
    assert truncated is True
    assert text == clean_unicode("\ufdfa" * 300)[: config.MAX_TEXT_CHARS]
    assert sum(seen) <= config.MAX_TEXT_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "a" * (config.MAX_TEXT_CHARS - 1) + " " * 50 + "\u200b" * 20_000,  # not cut
        " " * 20_000 + "hi" + "\u200b" * 20_000,  # not cut
        "e\u0301" * config.MAX_TEXT_CHARS,  # combining marks: 2 chars become 1
        "\u1100\u1161\u11a8 " * 4_000,  # Hangul jamo compose across a piece end
        "ﬁ" * 3_000 + "x" * 10_000,
    ],
)
def test_cutting_before_nfkc_gives_what_cleaning_everything_gives(text):
    whole = clean_unicode(text).strip()
    assert prepare_text(text) == (
        whole[: config.MAX_TEXT_CHARS],
        len(whole) > config.MAX_TEXT_CHARS,
    )


def test_texts_prepared_together_as_each_alone():
    texts = [
        None,
        "",
        "  plain ascii  ",
        "tab\tinside",
        "caf\u00e9 \u200b",
        "\x00nul",
        "x" * (config.MAX_TEXT_CHARS + 3),
        " " * (config.MAX_TEXT_CHARS + 3) + "late",
        "\ufdfa" * 400,
        "lone \ud800",
    ]
    cleaned, truncated = prepare_texts(texts)
    assert list(zip(cleaned, truncated)) == [prepare_text(t) for t in texts]
    with pytest.raises(TypeError):
        prepare_texts(["ok", 3])
