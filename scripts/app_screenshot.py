"""Take the README's screenshot of the page from the real app, in headless Chromium.

    python scripts/app_screenshot.py [--model MODEL.pkl] [--out docs/screenshot.png]

Starts ``streamlit run app.py`` on a free local port, analyses two posts,
scores a small generated CSV and saves a full-page PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e.app_server import (  # noqa: E402
    CHROMIUM_ARGS,
    chromium_path,
    streamlit_app,
)

POSTS = (
    "I love the new phone, the camera is great!\n"
    "The update is out, not sure what to think\n"
    "Worst customer service ever :("
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print("error: no chromium binary; apt-get install chromium", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with streamlit_app(args.model) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1150})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_label("Posts, one per line").fill(POSTS)
            page.get_by_role("button", name="Analyse", exact=True).click()
            expect(page.get_by_text("confident").first).to_be_visible()
            chart = page.locator("[data-testid='stVegaLiteChart'] .marks").first
            expect(chart).to_be_visible(timeout=60_000)
            page.wait_for_timeout(1_000)  # let the charts finish drawing
            page.screenshot(path=str(args.out), full_page=True)
        finally:
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
