import pytest

from sentiment.model.preprocess import (
    URL_TOKEN,
    USER_TOKEN,
    clean_unicode,
    has_negation_or_contrast,
    normalize,
    tokenize,
)


def tokens(text: str) -> list[str]:
    return tokenize(normalize(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("see https://t.co/abc123 now", f"see {URL_TOKEN} now"),
        ("www.example.com/page?x=1", URL_TOKEN),
        ("@bob_99 hi @alice", f"{USER_TOKEN} hi {USER_TOKEN}"),
        ("mail me@example.com", "mail me@example.com"),
        ("Soooooo good", "soo good"),
        ("wow!!!!!!", "wow!!"),
        ("I LOVE It", "i love it"),
        ("#happy day", "happy day"),
        ("#NotHappy", "not happy"),
        ("#USA", "usa"),
        ("it’s fine", "it's fine"),
        ("  lots \n of\t space  ", "lots of space"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("not good", ["not", "good_NEG"]),
        ("I don't like it. Great", ["i", "don't", "like_NEG", "it_NEG", ".", "great"]),
        ("never again! ok", ["never", "again_NEG", "!", "ok"]),
        ("good", ["good"]),
    ],
)
def test_negation_scope_is_marked_until_clause_punctuation(text, expected):
    assert tokens(text) == expected


def test_negated_and_plain_words_differ():
    assert tokens("not good") != tokens("good")
    assert "good" not in tokens("not good")


@pytest.mark.parametrize("symbol", [":)", ":-(", ";)", "<3", "😀", "👍🏽", "😭"])
def test_emoticons_and_emoji_survive_as_tokens(symbol):
    assert symbol in tokens(f"so {symbol} today")


@pytest.mark.parametrize(
    "dirty",
    ["g\u200bood", "go\u200dod", "\u202egood", "go\u00adod", "g\x00ood", "goo\ufeffd"]
    + ["go\x7fod", "g\x1bood"],
)
def test_invisible_characters_are_removed(dirty):
    assert clean_unicode(dirty) == "good"


def test_compatibility_forms_fold_to_plain_letters():
    assert clean_unicode("ｇｏｏｄ") == "good"
    assert normalize("𝐆𝐨𝐨𝐝") == "good"


def test_normalize_is_safe_on_hostile_input():
    assert normalize("") == ""
    assert "broken" in tokens("\ud800 broken surrogate")
    long_text = "ha" * 100_000
    assert len(normalize(long_text)) == len(long_text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("not bad at all", True),
        ("I can't complain", True),
        ("Nothing works!!", True),
        ("nice screen but awful battery", True),
        ("I love it", False),
        ("butter chicken is great", False),  # "but" only as a whole token
        ("@notbad http://no.example", False),  # handles and links are placeholders
        ("", False),
    ],
)
def test_negation_or_contrast_is_found_in_raw_posts(text, expected):
    assert has_negation_or_contrast(text) is expected
