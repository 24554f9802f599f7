"""Watchlists: which brands a post mentions.

A brand is a name plus the ways people refer to it: keywords, @handles and
#hashtags, minus exclusions ("apple pie" is not Apple). Brands live in a TOML
file that users edit (``examples/brands.toml``)::

    [[brand]]
    name = "Nimbus Air"
    keywords = ["nimbus air", "nimbus airlines"]
    handles = ["@NimbusAir"]
    hashtags = ["#nimbusair"]
    exclude = ["nimbus clouds"]

Matching is case-insensitive and respects word boundaries ("Voltra" does not
match "Voltrage"); a post is tagged with every brand it mentions. An excluded
phrase is blanked out before the brand's terms are looked for, so "apple pie
from the Apple store" still mentions Apple.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from sentiment.files.formats import DataError

# Several brands in one cell of a file or the log are joined with this.
BRAND_SEPARATOR = "|"
_ALLOWED_KEYS = {"name", "keywords", "handles", "hashtags", "exclude"}


@dataclass(frozen=True)
class Brand:
    """One brand of a watchlist and the terms that mention it."""

    name: str
    keywords: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    excluded: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        terms = [_term_regex(k) for k in self.keywords]
        terms += [_term_regex("@" + h.lstrip("@")) for h in self.handles]
        terms += [_term_regex("#" + t.lstrip("#")) for t in self.hashtags]
        object.__setattr__(self, "pattern", re.compile("|".join(terms), re.I))
        excluded = [_term_regex(e) for e in self.exclude]
        object.__setattr__(
            self, "excluded", re.compile("|".join(excluded), re.I) if excluded else None
        )

    def mentioned_in(self, text: str) -> bool:
        """Whether ``text`` mentions this brand outside its excluded phrases."""
        if self.excluded is not None:
            text = self.excluded.sub(" ", text)
        return self.pattern.search(text) is not None


def _term_regex(term: str) -> str:
    """A term as a regex: spaces match any run of spaces, word edges are kept.

    A term is not matched inside a longer word, nor as the tail of an @handle
    or #hashtag ("@voltra_fan" does not mention the keyword "voltra").
    """
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    return rf"(?<![\w@#]){body}(?!\w)"


@dataclass(frozen=True)
class Watchlist:
    """The brands a user watches, in the order of their file."""

    brands: tuple[Brand, ...]

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.brands]

    def match(self, text: object) -> list[str]:
        """The names of every brand ``text`` mentions, in watchlist order."""
        if not isinstance(text, str) or not text:
            return []
        return [b.name for b in self.brands if b.mentioned_in(text)]

    def match_all(self, texts: Iterable[object]) -> list[list[str]]:
        """:meth:`match` for each text."""
        return [self.match(t) for t in texts]


def load_watchlist(path: str | Path) -> Watchlist:
    """Read a watchlist TOML file; DataError says what is wrong and where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DataError(
            f"No watchlist at {path}. Copy examples/brands.toml and edit it."
        ) from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not a valid TOML file: {e}.") from e
    return watchlist_from_dict(data, str(path))


def watchlist_from_dict(data: dict, where: str = "watchlist") -> Watchlist:
    """A watchlist from parsed TOML (``{"brand": [{...}, ...]}``)."""
    entries = data.get("brand")
    if not isinstance(entries, list) or not entries:
        raise DataError(
            f"{where} has no [[brand]] entries: add one per brand, with a name and "
            "keywords, handles or hashtags (see examples/brands.toml)."
        )
    brands, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        brand = _brand(entry, f"{where}, brand {number}")
        if brand.name.lower() in seen:
            raise DataError(f"{where}: the brand {brand.name!r} appears twice.")
        seen.add(brand.name.lower())
        brands.append(brand)
    return Watchlist(tuple(brands))


def _brand(entry: object, where: str) -> Brand:
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a table of name, keywords, ...")
    unknown = set(entry) - _ALLOWED_KEYS
    if unknown:
        raise DataError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use "
            f"{', '.join(sorted(_ALLOWED_KEYS))}."
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or BRAND_SEPARATOR in name:
        raise DataError(
            f"{where}: 'name' must be a non-empty string without "
            f"'{BRAND_SEPARATOR}'."
        )
    lists = {}
    for key in ("keywords", "handles", "hashtags", "exclude"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v.strip(" @#") for v in value
        ):
            raise DataError(f"{where} ({name}): '{key}' must be a list of strings.")
        lists[key] = tuple(v.strip() for v in value)
    if not (lists["keywords"] or lists["handles"] or lists["hashtags"]):
        lists["keywords"] = (name.strip(),)  # the name is the one keyword
    return Brand(name.strip(), **lists)


def brands_from_column(values: Sequence[object]) -> list[list[str]]:
    """Brands given in a column of the file (``--brand-col``), one cell per row.

    A cell may name several brands separated by ``|``; empty cells name none.
    """
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            out.append([])
            continue
        parts = [p.strip() for p in str(value).split(BRAND_SEPARATOR)]
        out.append([p for p in parts if p])
    return out


def join_brands(brands: Sequence[str]) -> str:
    """The cell that holds a post's brands in a file or the log."""
    return BRAND_SEPARATOR.join(brands)
