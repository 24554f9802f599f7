"""End to end: the Brands page of the real `streamlit run app.py` in headless
Chromium, on the demo file with the committed model."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from sentiment import config
from tests.e2e.app_server import CHROMIUM_ARGS, chromium_path, streamlit_app

CHROMIUM = chromium_path()
NO_CHROMIUM = "no chromium binary (apt-get install chromium, or set SENTIMENT_CHROMIUM)"
if CHROMIUM is None and os.environ.get("CI") == "true":
    pytest.fail(f"{NO_CHROMIUM}; .ci/run must install it", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)

STEP_TIMEOUT_MS = 120_000  # scoring 4,090 posts on a loaded 2-core machine


def test_brands_compared_side_by_side_with_the_spike_marked(
    committed_predictor, tmp_path, monkeypatch
):
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    monkeypatch.setenv(config.LOG_DB_ENV, str(tmp_path / "predictions.db"))
    with streamlit_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2400})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(url)
            page.get_by_role("link", name="Brands").click()
            expect(page.get_by_text("Use the demo file")).to_be_visible()
            page.get_by_role("button", name="Analyse brands").click()

            expect(page.get_by_text("Most engaged negative posts")).to_be_visible()
            metrics = page.locator("[data-testid='stMetricLabel']")
            expect(metrics).to_have_count(3)
            for brand in ("Nimbus Air", "Brightbean", "Voltra"):
                expect(metrics.filter(has_text=brand)).to_have_count(1)
            expect(
                page.get_by_text("4,090 posts, 4,158 brand mentions")
            ).to_be_visible()
            # The injected spike, by posting time, for the right brand and day.
            spike = page.get_by_text("Nimbus Air: negative share")
            expect(spike).to_contain_text("2026-10-20")
            charts = page.locator("[data-testid='stVegaLiteChart']")
            expect(charts).to_have_count(3)  # net sentiment, voice, label mix
            for chart in charts.all():
                expect(chart.locator(".marks").first).to_be_visible()

            # Comparing two brands redraws everything for those two.
            page.get_by_role("button", name="Remove Brightbean").click()
            expect(metrics).to_have_count(2)
            expect(page.get_by_text("Nimbus Air: negative share")).to_be_visible()
            assert not [m for m in console if "Infinite extent" in m], console
        finally:
            browser.close()
