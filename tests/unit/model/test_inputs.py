"""Input preparation: cleaning, the cut to MAX_TEXT_CHARS, and its cost."""

import pytest

from sentiment import config
from sentiment.model import inputs
from sentiment.model.inputs import prepare_text, prepare_texts
from sentiment.model.preprocess import clean_unicode


def _cleaned_lengths(monkeypatch) -> list[int]:
    """Record the length of every text that reaches clean_unicode (NFKC)."""
    seen: list[int] = []

    def counting(text: str) -> str:
        seen.append(len(text))
        return clean_unicode(text)

    monkeypatch.setattr(inputs, "clean_unicode", counting)
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
