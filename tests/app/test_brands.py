"""The Brands page (app_pages/brands.py), driven by AppTest: the demo file's
brands side by side, with the same counts as ``python -m sentiment.brands``."""

from __future__ import annotations

import json

from sentiment import brands, config
from tests.app.conftest import (
    BRANDS,
    assert_no_traceback,
    click,
    metrics,
    open_page,
    values,
)

EXAMPLES = config.PROJECT_ROOT / "examples"


def test_the_demo_file_gives_the_clis_counts_and_its_spike(
    app, saved_tiny_model, capsys
):
    open_page(app, BRANDS)
    click(app, "Analyse brands")
    assert_no_traceback(app)
    view = app.session_state["brand_view"][1]

    code = brands.main(
        [
            "--watchlist",
            str(EXAMPLES / "brands.toml"),
            str(EXAMPLES / "brand_posts.csv"),
            "--model",
            str(saved_tiny_model),
            "--trust-model-path",
            "--json",
            "--no-log",
            "--no-progress",
        ]
    )
    cli = json.loads(capsys.readouterr().out)
    assert code == 0
    assert view.summary["brands"] == cli["brands"]
    shown = metrics(app.main)
    for brand in cli["brands"]:
        assert shown[brand["brand"]] == f"{brand['net_sentiment']:+.2f}"
    assert "time: posted_at (created_at)" in " ".join(values(app.main.caption))
    assert len(app.main.dataframe) == 3  # engaged posts, words, languages


def test_picking_brands_and_a_broken_watchlist(app):
    open_page(app, BRANDS)
    click(app, "Analyse brands")
    app.main.multiselect[0].set_value(["Voltra"]).run()
    assert list(metrics(app.main)) == ["Voltra"]
    engaged = app.main.dataframe[0].value
    assert engaged["brands"].str.contains("Voltra").all()
    # Ranked by likes + retweets, the sum shown beside them.
    total = engaged["likes"].astype(int) + engaged["retweets"].astype(int)
    assert (engaged["engagement"] == total).all() and len(engaged) == 10
    assert total.is_monotonic_decreasing

    app.text_area[0].input("[[brand]]\nkeywords = ['x']\n").run()
    assert any("'name'" in e for e in values(app.main.error))
