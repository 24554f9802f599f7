"""``python -m sentiment.brands`` on a file: summary, output file and the log."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sentiment import brands, config
from sentiment.ops.logstore import PredictionLog

EXAMPLES = config.PROJECT_ROOT / "examples"
WATCHLIST = EXAMPLES / "brands.toml"

POSTS = pd.DataFrame(
    {
        "id": ["1", "2", "3", "4", "5", "6"],
        "created_at": [
            "2026-10-01T09:00:00Z",
            "2026-10-01T23:30:00+00:00",
            "1790899200",  # 2026-10-02 00:00:00 UTC, as epoch seconds
            "2026-10-02T08:00:00Z",
            "2026-10-02T09:00:00Z",
            "2026-10-02T10:00:00Z",
        ],
        "text": [
            "@NimbusAir the crew was amazing, thank you!",
            "Worst flight ever, Nimbus Air please fix this. Awful",
            "Le vol avec Nimbus Air était vraiment horrible",
            "Charging my Voltra while I wait for a Brightbean flat white",
            "Grey nimbus clouds all morning",
            "",
        ],
    }
)


@pytest.fixture()
def posts_csv(tmp_path):
    path = tmp_path / "posts.csv"
    POSTS.to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = brands.main([*map(str, argv), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_summary_counts_each_brand_by_posting_day(posts_csv, tmp_path, capsys):
    output = tmp_path / "scored.csv"
    code, out, _ = run(
        capsys, "--watchlist", WATCHLIST, posts_csv, "--json", "--output", output
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["time_basis"] == "posted_at (created_at)"
    assert summary["posts"] == 6 and summary["mentions"] == 5
    by_brand = {b["brand"]: b for b in summary["brands"]}
    nimbus = by_brand["Nimbus Air"]
    assert nimbus["posts"] == 3 and nimbus["scored"] == 2
    assert nimbus["unscored"] == {"unsupported_language": 1}
    assert nimbus["languages"] == {"en": 2, "fr": 1}
    assert nimbus["labels"]["positive"] == nimbus["labels"]["negative"] == 1
    assert nimbus["net_sentiment"] == 0
    assert nimbus["share_of_voice"] == pytest.approx(3 / 5)
    # The epoch-seconds post belongs to 2 October, the others to 1 October.
    assert [(p["period"], p["posts"]) for p in nimbus["series"]] == [
        ("2026-10-01", 2),
        ("2026-10-02", 1),
    ]
    assert by_brand["Voltra"]["posts"] == by_brand["Brightbean"]["posts"] == 1

    scored = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert scored["id"].tolist() == POSTS["id"].tolist()  # every row, in order
    assert scored["brands"].tolist() == [
        "Nimbus Air",
        "Nimbus Air",
        "Nimbus Air",
        "Brightbean|Voltra",
        "",
        "",
    ]
    french = scored.iloc[2]
    assert (french["language"], french["status"], french["sentiment"]) == (
        "fr",
        "unsupported_language",
        "",
    )
    assert scored.iloc[5]["status"] == "no_text"


def test_score_all_languages_scores_the_french_post(posts_csv, capsys):
    code, out, _ = run(
        capsys, "--watchlist", WATCHLIST, posts_csv, "--json", "--score-all-languages"
    )
    nimbus = json.loads(out)["brands"][0]
    assert code == 0 and nimbus["scored"] == 3 and nimbus["unscored"] == {}


def test_running_the_same_file_twice_logs_its_posts_once(posts_csv, tmp_path, capsys):
    db = tmp_path / "log.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.LOG_DB_ENV, str(db))
        run(capsys, "--watchlist", WATCHLIST, posts_csv)
        _, _, err = run(capsys, "--watchlist", WATCHLIST, posts_csv)
    assert "Logged 0 new rows" in err
    with PredictionLog(db) as log:
        rows = log.query("SELECT posted_at, brand, language FROM predictions")
    assert len(rows) == 6
    assert rows["posted_at"][2] == "2026-10-02T00:00:00.000000+00:00"
    assert rows["language"][2] == "fr"


def test_the_brand_column_alone_is_enough(posts_csv, tmp_path, capsys):
    frame = POSTS.assign(brand=["X", "X|Y", "", "Y", "", ""])
    frame.to_csv(posts_csv, index=False)
    code, out, _ = run(capsys, "--brand-col", "brand", posts_csv, "--no-log")
    assert code == 0
    assert "X" in out and "Y" in out


def test_a_failed_run_leaves_an_existing_output_alone(posts_csv, tmp_path, capsys):
    output = tmp_path / "scored.csv"
    output.write_text("precious", encoding="utf-8")
    code, _, err = run(
        capsys, "--watchlist", WATCHLIST, posts_csv, "--date-col", "nope", "-o", output
    )
    assert code == 2 and "nope" in err
    assert output.read_text(encoding="utf-8") == "precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
