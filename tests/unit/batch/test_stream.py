"""The pandas-free batch path: every row and cell kept, formulas guarded,
refusals that name the line and leave the output alone, --jobs invariant,
and a scoring process that never imports pandas, SciPy or scikit-learn."""

import csv
import subprocess
import sys

import pytest

from sentiment.batch.stream import score_csv_fast
from sentiment.files.formats import DataError
from sentiment.files.output import OUTPUT_COLUMNS


def _read(path, delimiter=","):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter=delimiter))


def test_rows_and_cells_are_kept_in_order(tiny_predictor, tmp_path):
    source = tmp_path / "in.csv"
    rows = [
        ["id", "text", "note"],
        ["1", "i love pizza", "a, b"],
        ["2", 'awful "day"', ""],
        ["3", "", "no text"],
        ["4", "multi\nline post", "x"],
        ["5", "good\rday", "lone CR"],
    ]
    with source.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "out.csv"
    summary = score_csv_fast(source, out, tiny_predictor, progress=False)
    got = _read(out)
    assert got[0] == rows[0] + OUTPUT_COLUMNS
    assert [r[:3] for r in got[1:]] == rows[1:]  # the lone CR survives a re-read
    assert summary.rows == 5 and summary.no_text == 1
    assert got[3][3:] == ["", "", "", "", "", "False", "no_text"]
    assert got[1][3] == tiny_predictor.predict("i love pizza").label


def test_formulas_are_neutralised_in_header_and_cells(tiny_predictor, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text,=HYPERLINK(1),@cmd\n=1+2,-3.5,+x\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    score_csv_fast(source, out, tiny_predictor, progress=False)
    header, row = _read(out)
    assert header[:3] == ["text", "'=HYPERLINK(1)", "'@cmd"]
    assert row[:3] == ["'=1+2", "-3.5", "'+x"]  # a plain number is data


@pytest.mark.parametrize(
    "content, message",
    [
        ("text,id\nhello, world,1\nawful day,2\n", "line 2: 3 fields"),
        ("text,text,id\na,b,1\n", "duplicate column"),
        ("id,body\n1,hello\n", "no column 'text'"),
        ('text,id\n"never closed,1\n', "cannot be read|fields"),
    ],
)
def test_bad_tables_are_refused_and_the_output_left_alone(
    tiny_predictor, tmp_path, content, message
):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    with pytest.raises(DataError, match=message):
        score_csv_fast(source, out, tiny_predictor, progress=False)
    assert out.read_text() == "previous results\n"
    # No temporary file left behind either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_jobs_and_chunk_size_do_not_change_the_output(tiny_predictor, tmp_path):
    source = tmp_path / "in.tsv"
    lines = ["text\tid"] + [f"post {i} i love pizza {i % 7}\t{i}" for i in range(230)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = []
    for jobs, chunk_rows in ((1, 1000), (1, 7), (2, 13)):
        out = tmp_path / f"out{jobs}-{chunk_rows}.tsv"
        score_csv_fast(
            source,
            out,
            tiny_predictor,
            chunk_rows=chunk_rows,
            jobs=jobs,
            progress=False,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(_read(tmp_path / "out1-7.tsv", "\t")) == 231


def test_scoring_process_imports_no_pandas_scipy_or_sklearn(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text\ni love it\nawful\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from sentiment import predict\n"
        f"predict.main([{str(source)!r}, '-o', {str(tmp_path / 'o.csv')!r}, "
        "'--jobs', '1', '--no-log', '--no-progress'])\n"
        "predict.main(['--text', 'great day', '--no-log'])\n"
        "heavy = {'pandas', 'scipy', 'sklearn', 'nltk'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert len(_read(tmp_path / "o.csv")) == 3
