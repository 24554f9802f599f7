"""sentiment.files.upload and sentiment.batch.upload: reading an upload, choosing
the text column, scoring, download."""

import codecs
import csv
import io

import pandas as pd
import pytest

from sentiment.batch.local import score_csv
from sentiment.batch.upload import (
    filter_results,
    label_mix_over_time,
    score_frame,
    scored_file_bytes,
    scored_file_name,
    summarize,
)
from sentiment.files.formats import DataError, TableFormat, detect_format
from sentiment.files.upload import most_text_like_column, read_upload


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("a.csv", "text;id\nbon café;1\n".encode("cp1252"), ("utf-8", ";", False)),
        ("a.tsv", "text\tid\nhello\t1\n".encode("utf-16"), ("utf-16", "\t", False)),
        ("a.tsv", "text\tid\nhi\t1\n".encode("utf-16-le"), ("utf-16-le", "\t", True)),
        ("a.csv", "text,id\nhi,1\n".encode("utf-16-be"), ("utf-16-be", ",", True)),
        ("a.csv", codecs.BOM_UTF8 + b"text,id\nhi,1\n", ("utf-8-sig", ",", False)),
        ("a.tsv", b"text\nhi\n", ("utf-8", "\t", False)),
    ],
)
def test_bytes_and_path_are_detected_alike(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)

    from_bytes = detect_format(data, name)

    assert from_bytes == detect_format(path) == TableFormat(*expected)


def test_upload_is_read_as_strings_with_no_row_lost():
    data = b"id,text\n1,None\n2,\n3,NA\n\n4,i love it\n"

    table = read_upload(data, "posts.csv")

    assert table.frame["text"].tolist() == ["None", "", "NA", "", "i love it"]
    assert table.frame["id"].tolist() == ["1", "2", "3", "", "4"]
    assert not table.plain_text


def test_txt_upload_has_one_post_per_line_blank_lines_kept():
    table = read_upload(b"i love it\r\n\r\nawful :(\nnews at 5\n", "posts.txt")

    assert table.plain_text
    assert table.frame["text"].tolist() == ["i love it", "", "awful :(", "news at 5"]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "is empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        ("book.csv", b"PK\x03\x04\x14\x00\x06\x00", "zip archive"),
        ("nul.csv", b"text\nfine\nbad\x00post\n", "NUL byte on line 3"),
        ("header.csv", b"text,label\n", "no data rows"),
        ("blank.csv", b"\n\n", "no header row"),
        ("quote.csv", b'text\n"never closed\nnext\n', "starting on line 2 is never"),
        ("ragged.csv", b"text,id\nhi,1\nhello, you,2\n", "line 3 has 3 field"),
    ],
)
def test_unusable_uploads_raise_a_data_error_naming_the_file(name, data, message):
    with pytest.raises(DataError, match=message) as error:
        read_upload(data, name)
    assert name in str(error.value)


@pytest.mark.parametrize("name", ["mixed.csv", "mixed.txt"])
def test_lines_that_are_not_utf8_are_read_as_cp1252_and_named(name):
    header = b"" if name.endswith(".txt") else b"text\n"
    data = codecs.BOM_UTF8 + header + "naïve 😀\n".encode() + "café\n".encode("cp1252")

    table = read_upload(data, name)

    assert table.frame["text"].tolist() == ["naïve 😀", "café"]
    assert "line(s) 3" in table.warning or "line(s) 2" in table.warning
    assert read_upload(b"text\nplain\n", "ok.csv").warning is None


def test_upload_over_the_limit_is_refused_with_the_limit_stated():
    with pytest.raises(DataError, match=r"2\.0 MB, over the 1 MB upload limit"):
        read_upload(b"x" * (2 * 2**20), "big.csv", max_bytes=2**20)


def test_most_text_like_column_prefers_posts_over_ids_labels_and_dates():
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "label": ["positive", "negative", "neutral"],
            "created": ["Mon Jan 05 2024", "Tue Jan 06 2024", "Wed Jan 07 2024"],
            "tweet": ["i love this so much", "", "what a terrible day it was"],
        }
    )
    assert most_text_like_column(frame) == "tweet"
    assert most_text_like_column(frame[["id"]]) is None
    assert most_text_like_column(frame[["id", "label"]]) == "label"


def test_score_frame_in_chunks_equals_one_pass_and_reports_progress(tiny_predictor):
    texts = ["i love pizza", "", "i hate my car", "news about the team", "x"] * 7
    seen = []

    chunked = score_frame(
        tiny_predictor, texts, 0.7, chunk_rows=4, on_progress=lambda *a: seen.append(a)
    )

    pd.testing.assert_frame_equal(chunked, tiny_predictor.score(texts, 0.7))
    assert [done for done, _ in seen] == list(range(4, 35, 4)) + [35]
    assert {total for _, total in seen} == {35}


def test_download_is_byte_identical_to_the_batch_cli(tmp_path, tiny_predictor):
    texts = ["i love pizza", "", '=HYPERLINK("x")', "i hate the team", "-3.5"]
    source = pd.DataFrame({"id": range(5), "text": texts, "when": "2024-01-01"})
    source.to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    data = (tmp_path / "in.tsv").read_bytes()

    table = read_upload(data, "in.tsv")
    scored = score_frame(tiny_predictor, table.frame["text"].tolist())
    score_csv(tmp_path / "in.tsv", tmp_path / "out.tsv", tiny_predictor, progress=False)

    assert scored_file_bytes(table, scored) == (tmp_path / "out.tsv").read_bytes()


def test_txt_download_is_a_csv_with_a_text_column(tiny_predictor):
    table = read_upload(b"i love pizza\n\n@bob hi, there\n", "posts.txt")
    scored = score_frame(tiny_predictor, table.frame["text"].tolist())

    lines = scored_file_bytes(table, scored).decode("utf-8").splitlines()

    assert lines[0].startswith("text,sentiment,confidence,")
    assert len(lines) == 4
    assert lines[2].startswith(",,") and lines[2].endswith(",no_text")
    assert lines[3].startswith('"\'@bob hi, there",')


@pytest.mark.parametrize(
    "name, expected",
    [
        ("posts.tsv", "posts_scored.tsv"),
        ("posts.txt", "posts_scored.csv"),
        ("my posts.CSV", "my posts_scored.CSV"),
        ("noext", "noext_scored.csv"),
    ],
)
def test_scored_file_name(name, expected):
    assert scored_file_name(name) == expected


def test_summarize_counts_labels_no_text_and_review(tiny_predictor):
    scored = tiny_predictor.score(["i love pizza", "i love my car", "", "i hate it"])

    summary, mix = summarize(scored)

    assert (summary.rows, summary.no_text) == (4, 1)
    assert mix.set_index("label")["count"].to_dict() == {
        "negative": 1,
        "neutral": 0,
        "positive": 2,
        "no text": 1,
        "other language": 0,
    }
    assert mix["share"].sum() == pytest.approx(1.0)


def test_label_mix_over_time_per_day_with_unreadable_dates_counted():
    dates = ["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-03", "soon", "2024-01-09"]
    labels = pd.Series(["positive", "negative", "positive", "neutral", "negative"])

    mix, unparsed = label_mix_over_time(pd.Series(dates, name="when"), labels)

    assert unparsed == 1
    assert mix["period"].nunique() == 3  # a span of 8 days is shown per day
    day1 = mix[mix["period"] == pd.Timestamp("2024-01-01")].set_index("label")
    assert day1["count"].to_dict() == {"negative": 1, "neutral": 0, "positive": 1}
    assert day1["share"].to_dict() == {"negative": 0.5, "neutral": 0.0, "positive": 0.5}


def test_label_mix_over_time_leaves_out_rows_without_text_and_picks_hours():
    dates = pd.Series(["2024-01-01 10:05", "2024-01-01 10:50", "2024-01-01 12:00"])
    labels = pd.Series(["positive", "", "negative"])

    mix, unparsed = label_mix_over_time(dates, labels)

    counts = mix.groupby("period")["count"].sum()
    assert unparsed == 0
    assert counts.to_dict() == {
        pd.Timestamp("2024-01-01 10:00"): 1,
        pd.Timestamp("2024-01-01 12:00"): 1,
    }


def test_label_mix_over_time_without_any_date_is_a_data_error():
    with pytest.raises(DataError, match="No date could be read in column 'id'"):
        label_mix_over_time(pd.Series(["a", "b"], name="id"), pd.Series(["x", "y"]))


def test_filter_results_by_label_and_review_flag():
    results = pd.DataFrame(
        {
            "sentiment": ["positive", "negative", "", "positive"],
            "needs_review": [True, False, False, False],
        }
    )
    assert filter_results(results, ["positive"]).index.tolist() == [0, 3]
    assert filter_results(results, ["positive"], True).index.tolist() == [0]
    assert filter_results(results, ["", "negative"], False).index.tolist() == [1, 2]


def test_download_quotes_cr_keeps_duplicate_names_and_guards_the_header(
    tiny_predictor,
):
    data = b'text,=cmd|x,note,note\n"good\rday",1,a,b\n"two\r\nlines",2,c,d\n'
    table = read_upload(data, "posts.csv")
    scored = score_frame(tiny_predictor, table.frame.iloc[:, 0].tolist())

    download = scored_file_bytes(table, scored).decode("utf-8")

    rows = list(csv.reader(io.StringIO(download, newline="")))
    assert rows[0][:4] == ["text", "'=cmd|x", "note", "note"]
    assert [row[:4] for row in rows[1:]] == [
        ["good\rday", "1", "a", "b"],
        ["two\r\nlines", "2", "c", "d"],
    ]
