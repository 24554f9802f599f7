"""A corpus of hostile CSV/TSV files, generated (never committed) with what each
one means: the table a user intended, or the line a reader must refuse.

Each :class:`Case` holds the file's bytes and either ``table`` (header and rows
every reader must give back exactly) or ``refusal`` (the line number and words
the error message must contain). :func:`million_rows` writes the 1M-row file.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sentiment import config


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    table: tuple[list[str], list[list[str]]] | None = None  # header, rows
    refusal: tuple[str, ...] = ()  # words the error must contain


def kept(
    name: str, data: bytes | str, header: list[str], rows: list[list[str]]
) -> Case:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return Case(name, raw, table=(header, rows))


def refused(name: str, data: bytes | str, *words: str) -> Case:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return Case(name, raw, refusal=words)


def as_csv(header: list[str], rows: list[list[str]], **dialect: str) -> str:
    """The table written by the csv module itself (an independent writer)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, **dialect)
    writer.writerows([header, *rows])
    return buffer.getvalue()


POSTS = [
    ["i love pizza", "1"],
    ["awful day :(", "2"],
    ["news at 5", "3"],
]


def _kept_cases() -> list[Case]:
    header = ["text", "id"]
    table = (header, POSTS)
    quoted = [
        ["hello, world", "1"],
        ['she said "hi"', "2"],
        ["two\nlines", "3"],
        ["good\rday", "4"],
        ["crlf\r\ninside", "5"],
    ]
    formulas = [
        ['=HYPERLINK("http://x","click")', "=1+1"],
        ["+cmd", "-2+3"],
        ["@SUM(A1)", "-3.5"],
        ["\tTAB first", "+44"],
        ["i love it = yes", "1e5"],
    ]
    odd_text = [
        ["line\u2028separator and\x0cform feed", "1"],
        ["next\x85line and \x1cfile sep", "2"],
        ["None", "NA"],
        ["null", ""],
        ["", "5"],
    ]
    return [
        kept("plain.csv", as_csv(*table), *table),
        kept("crlf.csv", as_csv(*table, lineterminator="\r\n"), *table),
        kept("lone_cr.csv", as_csv(*table, lineterminator="\r"), *table),
        kept("no_final_newline.csv", as_csv(*table).rstrip("\r\n"), *table),
        kept("quoted_fields.csv", as_csv(header, quoted), header, quoted),
        kept(
            "quoted_fields_lf.csv",
            as_csv(header, quoted[:3], lineterminator="\n"),
            header,
            quoted[:3],
        ),
        kept(
            "utf8_bom.csv",
            codecs.BOM_UTF8 + as_csv(header, [["naïve 😀", "1"]]).encode(),
            header,
            [["naïve 😀", "1"]],
        ),
        kept(
            "utf16_bom.tsv",
            as_csv(header, [["café ☕", "1"]], delimiter="\t").encode("utf-16"),
            header,
            [["café ☕", "1"]],
        ),
        kept(
            "utf16le_no_bom.csv",
            as_csv(header, [["日本語の投稿", "1"], ["hi", "2"]]).encode("utf-16-le"),
            header,
            [["日本語の投稿", "1"], ["hi", "2"]],
        ),
        kept(
            "utf16be_no_bom.tsv",
            as_csv(header, [["ünïcödé", "1"]], delimiter="\t").encode("utf-16-be"),
            header,
            [["ünïcödé", "1"]],
        ),
        kept(
            "cp1252.csv",
            as_csv(header, [["café “quoted” 5€", "1"], ["plain", "2"]]).encode(
                "cp1252"
            ),
            header,
            [["café “quoted” 5€", "1"], ["plain", "2"]],
        ),
        kept(
            "mixed_utf8_cp1252.csv",
            b"text,id\r\n"
            + "naïve 😀,1\r\n".encode()
            + "café,2\r\n".encode("cp1252")
            + "ok ✓,3\r\n".encode(),
            header,
            [["naïve 😀", "1"], ["café", "2"], ["ok ✓", "3"]],
        ),
        kept("semicolon.csv", as_csv(*table, delimiter=";"), *table),
        kept("tab.tsv", as_csv(*table, delimiter="\t"), *table),
        kept("pipe.csv", as_csv(*table, delimiter="|"), *table),
        kept(
            "commas_in_semicolon_file.csv",
            as_csv(header, [["a, b, c", "1"], ["x,y", "2"]], delimiter=";"),
            header,
            [["a, b, c", "1"], ["x,y", "2"]],
        ),
        kept(
            "formulas_in_body.csv",
            as_csv(["text", "n"], formulas),
            ["text", "n"],
            formulas,
        ),
        kept(
            "formulas_in_header.csv",
            as_csv(["text", "=cmd|' /C calc'!A0", "@id"], [["hi", "1", "2"]]),
            ["text", "=cmd|' /C calc'!A0", "@id"],
            [["hi", "1", "2"]],
        ),
        kept(
            "duplicate_header.csv",
            as_csv(["text", "note", "note"], [["hi", "a", "b"]]),
            ["text", "note", "note"],
            [["hi", "a", "b"]],
        ),
        kept(
            "blank_lines.csv",
            "text,id\n\ni love it,1\n\n",
            header,
            [["", ""], ["i love it", "1"], ["", ""]],
        ),
        kept(
            "one_column.csv",
            'text\ni love it\nawful\n"quoted, with comma"\n',
            ["text"],
            [["i love it"], ["awful"], ["quoted, with comma"]],
        ),
        kept("odd_text.csv", as_csv(header, odd_text), header, odd_text),
        kept("header_only.csv", "text,id\n", header, []),
        kept(
            "huge_field.csv",
            as_csv(header, [["x" * 1_000_000, "1"], ["\ufdfa" * 200_000, "2"]]),
            header,
            [["x" * 1_000_000, "1"], ["\ufdfa" * 200_000, "2"]],
        ),
        kept(
            "quote_inside_unquoted.csv",
            'text,id\nhe said "hi" today,1\n',
            header,
            [['he said "hi" today', "1"]],
        ),
    ]


def _refused_cases() -> list[Case]:
    return [
        refused("shifted_first_row.csv", POSTS_WITH_EXTRA_FIELD, "line 2", "3 field"),
        refused(
            "every_row_extra.csv",
            "text,id\na,b,1\nc,d,2\n",
            "line 2",
            "3 field",
        ),
        refused(
            "one_column_with_commas.csv",
            "text\ni love it\nhello, world\n",
            "line 3",
            "double quotes",
        ),
        refused("short_row.csv", "text,id,note\nhi,1,x\nbye,2\n", "line 3", "2 field"),
        refused(
            "unclosed_quote.csv",
            'text,id\nok,1\n"never closed,2\nmore,3\n',
            "line 3",
            "never closed",
        ),
        refused(
            "quote_mid_field.csv",
            'text,id\n"abc"def,1\n',
            "line 2",
            "well-formed",
        ),
        # Python's writer with LF endings leaves a lone CR unquoted: a line break.
        refused("unquoted_cr.csv", "text,id\ngood\rday,1\n", "line 2", "1 field"),
        refused("nul_byte.csv", b"text,id\nok,1\nbad\x00post,2\n", "line 3", "NUL"),
        refused("zip_saved_as.csv", b"PK\x03\x04\x14\x00\x06\x00rest", "zip"),
        refused("empty.csv", b"", "empty"),
        refused("blank_header.csv", "\ntext,id\nhi,1\n", "no header row"),
        refused("missing_header.csv", "i love it,1\nawful,2\n", "no column 'text'"),
        refused(
            "field_over_limit.csv",
            "text,id\n" + "y" * (config.MAX_FIELD_CHARS + 1) + ",1\n",
            "line 2",
            "characters",
        ),
        refused(
            "already_scored.csv",
            "text,sentiment\nhi,positive\n",
            "already has column",
        ),
        refused(
            "duplicate_text_column.csv",
            "text,text,id\na,b,1\n",
            "2 columns named 'text'",
        ),
        refused(
            "bad_row_late.csv",
            "text,id\n"
            + "".join(f"post {i},{i}\n" for i in range(2, 2502))
            + "x,y,z\n",
            "line 2,502",
        ),
    ]


POSTS_WITH_EXTRA_FIELD = "text,id\nhello, world,1\nawful day,2\nlove it,3\n"


def corpus() -> list[Case]:
    """Every case: files whose rows must be kept, then files that must be refused."""
    return _kept_cases() + _refused_cases()


def corpus_cells() -> list[str]:
    """Every cell of the kept files (header included): hostile texts to score."""
    return [
        cell
        for case in corpus()
        if case.table is not None
        for row in [case.table[0], *case.table[1]]
        for cell in row
    ]


def million_rows(path: Path, rows: int = 1_000_000) -> list[str]:
    """Write a ``rows``-row CSV of short posts with awkward cells; return its header."""
    header = ["id", "text", "note"]
    posts = ["i love it", "awful, just awful", 'he said "no"', "", "=1+1", "ok\r\nbye"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(
            (str(i), posts[i % len(posts)], "é" if i % 7 else "") for i in range(rows)
        )
    return header
