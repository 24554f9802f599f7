"""Watchlists: which brands a post mentions, and clear errors for bad files."""

from __future__ import annotations

import pytest

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.ops.watchlist import (
    brands_from_column,
    load_watchlist,
    watchlist_from_dict,
)

EXAMPLE = config.PROJECT_ROOT / "examples" / "brands.toml"


def apple_and_pear():
    return watchlist_from_dict(
        {
            "brand": [
                {
                    "name": "Apple",
                    "keywords": ["apple", "iphone"],
                    "handles": ["@Apple"],
                    "exclude": ["apple pie", "apple juice"],
                },
                {"name": "Pear Phone", "hashtags": ["#pearphone"]},
            ]
        }
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("My new IPHONE is great", ["Apple"]),
        ("apple pie for dinner", []),
        ("APPLE PIE at the Apple store", ["Apple"]),
        ("@apple my phone died", ["Apple"]),
        ("@apple_fan says hi", []),  # another account
        ("pineapple on pizza", []),  # inside a word
        ("applesauce", []),
        ("love #PearPhone and my iPhone", ["Apple", "Pear Phone"]),
        ("#pearphones is someone else's tag", []),
        ("", []),
    ],
)
def test_matching_is_case_insensitive_on_word_boundaries(text, expected):
    assert apple_and_pear().match(text) == expected


def test_a_phrase_matches_across_any_run_of_spaces():
    watchlist = watchlist_from_dict({"brand": [{"name": "Nimbus Air"}]})
    assert watchlist.match("flying nimbus   air\ttoday") == ["Nimbus Air"]
    assert watchlist.match("nimbus airline") == []


def test_the_example_watchlist_loads_and_excludes_weather():
    watchlist = load_watchlist(EXAMPLE)
    assert watchlist.names == ["Nimbus Air", "Brightbean", "Voltra"]
    assert watchlist.match("Grey nimbus clouds over @NimbusAir") == ["Nimbus Air"]
    assert watchlist.match("Grey nimbus clouds all morning") == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[brand]]\nkeywords = ['x']\n", "'name'"),
        ("[[brand]]\nname = 'A'\nkeyword = ['x']\n", "unknown key"),
        ("[[brand]]\nname = 'A'\nkeywords = 'x'\n", "list of strings"),
        ("title = 'no brands'\n", r"no \[\[brand\]\]"),
        ("[[brand]]\nname = 'A'\n[[brand]]\nname = 'a'\n", "appears twice"),
        ("[[brand\n", "not a valid TOML"),
    ],
)
def test_a_bad_watchlist_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "brands.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_watchlist(path)


def test_a_missing_watchlist_says_where_to_start(tmp_path):
    with pytest.raises(DataError, match="examples/brands.toml"):
        load_watchlist(tmp_path / "nope.toml")


def test_a_brand_column_may_name_several_brands():
    assert brands_from_column(["A", "A| B", "", None, float("nan")]) == [
        ["A"],
        ["A", "B"],
        [],
        [],
        [],
    ]
