"""End to end: the real `streamlit run app.py` in headless Chromium.

Skipped only where no chromium binary exists (install Debian's `chromium`);
`.ci/run` installs it, so this runs in CI.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from playwright.sync_api import expect, sync_playwright

from sentiment import config
from sentiment.files.output import OUTPUT_COLUMNS
from sentiment.ops.reviewers import set_reviewer
from tests.conftest import tiny_dataset
from tests.e2e.app_server import (
    CHROMIUM_ARGS,
    chromium_path,
    sign_in,
    streamlit_app,
)

CHROMIUM = chromium_path()
NO_CHROMIUM = "no chromium binary (apt-get install chromium, or set SENTIMENT_CHROMIUM)"
if CHROMIUM is None and os.environ.get("CI") == "true":
    # CI installs chromium, so a missing one is a broken CI setup, not a skip.
    pytest.fail(f"{NO_CHROMIUM}; .ci/run must install it", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)

# Generous for a loaded 2-core machine, but every wait is bounded.
STEP_TIMEOUT_MS = 60_000
N_ROWS = 120


REVIEWER, PASSWORD = "ana", "a long test password"


def write_posts(path) -> pd.DataFrame:
    texts, _ = tiny_dataset()
    frame = pd.DataFrame(
        {"id": [str(i) for i in range(N_ROWS)], "text": texts[:N_ROWS]}
    )
    frame.loc[7, "text"] = ""
    frame.loc[8, "text"] = "@bob i love pizza"
    frame.to_csv(path, index=False)
    return frame


def test_analyse_score_and_download_in_a_real_browser(
    saved_tiny_model, tmp_path, monkeypatch
):
    source = write_posts(tmp_path / "posts.csv")
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    # The server inherits the environment: it logs to this test's own file.
    monkeypatch.setenv(config.LOG_DB_ENV, str(tmp_path / "predictions.db"))
    set_reviewer(tmp_path / "users.toml", REVIEWER, PASSWORD)
    monkeypatch.setenv(config.USERS_FILE_ENV, str(tmp_path / "users.toml"))

    with streamlit_app(saved_tiny_model) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1280, "height": 1600}, accept_downloads=True
            )
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(url)

            page.get_by_label("Posts, one per line").fill("i love pizza")
            page.get_by_role("button", name="Analyse", exact=True).click()
            expect(page.get_by_text("Positive ·")).to_be_visible()
            expect(
                page.get_by_text("Words that pushed towards Positive")
            ).to_be_visible()

            page.get_by_role("link", name="Score a file").click()
            page.locator("input[type=file]").set_input_files(tmp_path / "posts.csv")
            expect(page.get_by_text(f"{N_ROWS} rows · 2 columns")).to_be_visible()
            page.get_by_role("button", name="Score", exact=True).click()
            expect(page.get_by_text("Rows scored")).to_be_visible()
            summary = page.locator("[data-testid='stMetric']").first
            expect(summary).to_contain_text(str(N_ROWS))

            with page.expect_download() as download:
                page.get_by_role("button", name="Download the scored file").click()
            download.value.save_as(tmp_path / "scored.csv")
            download_name = download.value.suggested_filename
            page.screenshot(path=tmp_path / "screenshot.png", full_page=True)

            # Logged posts are for signed-in reviewers only.
            page.get_by_role("link", name="Review").click()
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            expect(page.get_by_text("Review queue")).to_have_count(0)
            sign_in(page, REVIEWER, "not the password")
            expect(page.get_by_text("Wrong name or password.")).to_be_visible()
            expect(page.get_by_text("Review queue")).to_have_count(0)
            sign_in(page, REVIEWER, PASSWORD)
            expect(page.get_by_text("Review queue")).to_be_visible()
            expect(page.get_by_text(f"Signed in as {REVIEWER}")).to_be_visible()

            # Every answered post is in the log: 1 analysed + N_ROWS scored.
            page.get_by_role("link", name="Monitoring").click()
            logged = page.locator("[data-testid='stMetric']").filter(
                has_text="Logged predictions"
            )
            expect(logged).to_contain_text(str(N_ROWS + 1))
            expect(page.get_by_text("Predictions per hour")).to_be_visible()
        finally:
            browser.close()

    scored = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)
    assert download_name == "posts_scored.csv"
    assert list(scored.columns) == ["id", "text", *OUTPUT_COLUMNS]
    assert scored["id"].tolist() == source["id"].tolist()
    assert scored.loc[7, "status"] == "no_text"
    assert scored.loc[8, "text"] == "'@bob i love pizza"
    assert set(scored["sentiment"]) <= {"negative", "neutral", "positive", ""}
    assert (tmp_path / "screenshot.png").stat().st_size > 10_000
