"""The Score-a-file page's choices: filtered or whole download, spreadsheet-safe
or not, re-labelling at another threshold, and the brand filter."""

from __future__ import annotations

import io

import pandas as pd

from sentiment.batch.upload import (
    brand_values,
    relabel,
    result_mask,
    scored_file_bytes,
)
from sentiment.files.upload import read_upload

CSV = (
    "id,text,brand\n"
    "1,@NimbusAir i love the phone,Nimbus\n"
    "2,i hate my car,Voltra|Nimbus\n"
    "3,=cmd|' /C calc'!A0,Voltra\n"
    "4,,Other\n"
).encode()


def test_filtered_rows_download_keeps_their_order_and_every_column(tiny_predictor):
    table = read_upload(CSV, "posts.csv")
    scored = tiny_predictor.score(table.frame["text"].tolist())
    keep = result_mask(
        pd.concat([table.frame, scored], axis=1),
        ["negative", "positive", "neutral", ""],
        brand_col="brand",
        brands=["Voltra"],
    )
    rows = pd.read_csv(io.BytesIO(scored_file_bytes(table, scored, keep)), dtype=str)
    assert rows["id"].tolist() == ["2", "3"]
    assert list(rows.columns[:3]) == ["id", "text", "brand"]
    assert rows["text"].tolist()[1].startswith("'=")  # spreadsheet-safe


def test_switching_spreadsheet_safe_off_writes_cells_as_they_were(tiny_predictor):
    table = read_upload(CSV, "posts.csv")
    scored = tiny_predictor.score(table.frame["text"].tolist())
    safe = pd.read_csv(io.BytesIO(scored_file_bytes(table, scored)), dtype=str)
    raw = pd.read_csv(
        io.BytesIO(scored_file_bytes(table, scored, spreadsheet_safe=False)),
        dtype=str,
    )
    assert safe["text"][0] == "'@NimbusAir i love the phone"
    assert raw["text"].tolist()[:3] == table.frame["text"].tolist()[:3]


def test_relabel_equals_scoring_at_that_threshold(tiny_predictor):
    texts = ["i love pizza", "news about the team", "", "zzqx", "i hate my car"]
    base = tiny_predictor.score(texts, 0.5)
    for threshold in (0.0, 0.4, 0.7, 0.95, 1.0):
        again = tiny_predictor.score(texts, threshold)
        assert relabel(base, threshold)["needs_review"].tolist() == (
            again["needs_review"].tolist()
        )


def test_brand_values_split_cells_naming_several_brands():
    assert brand_values(pd.Series(["b|a", "a", "", " c "])) == ["a", "b", "c"]
