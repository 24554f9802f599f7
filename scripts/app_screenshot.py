"""Take the README's screenshots of the page from the real app, in headless Chromium.

    python scripts/app_screenshot.py [--model MODEL.pkl] [--out docs/screenshot.png]
    python scripts/app_screenshot.py --monitoring [--out docs/monitoring.png]
    python scripts/app_screenshot.py --brands [--out docs/brands.png]
    python scripts/app_screenshot.py --model-card [--backend cascade] [--out FILE]

Starts ``streamlit run app.py`` on a free local port, analyses three posts and
saves a full-page PNG. With ``--monitoring`` the page logs to a temporary
prediction log filled first with three days of made-up traffic (templated
posts, a negative spike six hours ago), signs in with a throwaway reviewer
account, and the shot is of the Monitoring page after a drift check. With
``--brands`` it is of the Brands page on the demo file
(examples/brand_posts.csv, made-up posts). With ``--model-card`` it is of
the Model card page of the tier ``--backend`` names (default: classic).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from sentiment import config  # noqa: E402
from sentiment.model.predictor import (  # noqa: E402
    Predictor,
    load_predictor,
    model_version,
)
from sentiment.ops.logstore import PredictionLog  # noqa: E402
from sentiment.ops.reviewers import set_reviewer  # noqa: E402
from tests.e2e.app_server import (  # noqa: E402
    CHROMIUM_ARGS,
    chromium_path,
    sign_in,
    streamlit_app,
)

# The browser window; the README's shot shows the first post's verdict, the
# Monitoring shot is made as tall as its page.
WIDTH, HEIGHT = 1_280, 1_150
POSTS = (
    "I love the new phone, the camera is great!\n"
    "The update is out, not sure what to think\n"
    "Worst customer service ever :("
)

# Made-up traffic for the Monitoring screenshot: no real post is shown.
DEMO_TEMPLATES = {
    "positive": [
        "Loving the new {} so much!",
        "The {} was amazing today :)",
        "Best {} ever, thank you!",
        "So happy with my {}",
    ],
    "negative": [
        "The {} keeps crashing, so annoying",
        "Worst {} ever :(",
        "Really disappointed with the {}",
        "Why is the {} down again?!",
    ],
    "neutral": [
        "The {} event starts at 9am",
        "New {} announced for Friday",
        "Anyone going to the {} tomorrow?",
        "Reading about the {}",
    ],
}
DEMO_THINGS = ["phone", "app", "camera", "delivery", "concert", "game", "update"]
DEMO_HOURS = 72
# The Monitoring page asks for a reviewer: a throwaway account, made per run.
DEMO_REVIEWER = "demo"
DEMO_PASSWORD = secrets.token_urlsafe(16)
DEMO_SPIKE_HOURS_AGO = 6


def fill_demo_log(path: Path, predictor: Predictor, seed: int = 0) -> int:
    """Log DEMO_HOURS of templated API/batch traffic ending now; returns the rows."""
    rng = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    rows = 0
    with PredictionLog(path) as prediction_log:
        for hours_ago in range(DEMO_HOURS, 0, -1):
            start = now - timedelta(hours=hours_ago)
            daily = 1 + 0.6 * np.sin((start.hour - 9) / 24 * 2 * np.pi)
            n = int(rng.poisson(40 * daily)) + 5
            negative = 0.6 if hours_ago == DEMO_SPIKE_HOURS_AGO else 0.2
            labels = rng.choice(
                ["negative", "neutral", "positive"],
                n,
                p=[negative, 0.4, 0.6 - negative],
            )
            texts = [
                str(rng.choice(DEMO_TEMPLATES[label])).format(rng.choice(DEMO_THINGS))
                for label in labels
            ]
            prediction_log.append(
                "api" if hours_ago % 5 else "batch",
                None,
                model_version(predictor),
                texts,
                predictor.score(texts),
                timestamp=start + timedelta(minutes=int(rng.integers(0, 60))),
            )
            rows += n
    return rows


def analyse_posts(page: Page) -> None:
    """Analyse POSTS and wait until their charts are drawn."""
    page.get_by_label("Posts, one per line").fill(POSTS)
    page.get_by_role("button", name="Analyse", exact=True).click()
    expect(page.get_by_text("confident").first).to_be_visible()
    chart = page.locator("[data-testid='stVegaLiteChart'] .marks").first
    expect(chart).to_be_visible(timeout=60_000)


def check_drift(page: Page) -> None:
    """Open the Monitoring page, sign in, run the drift check, wait for its verdict."""
    page.get_by_role("link", name="Monitoring").click()
    sign_in(page, DEMO_REVIEWER, DEMO_PASSWORD)
    expect(page.get_by_text("Predictions per hour")).to_be_visible()
    page.get_by_role("button", name="Check drift").click()
    expect(page.get_by_text("Checked ")).to_be_visible(timeout=120_000)


def compare_brands(page: Page) -> None:
    """Open the Brands page, analyse the demo file and wait for its charts."""
    page.get_by_role("link", name="Brands").click()
    page.get_by_role("button", name="Analyse brands").click()
    expect(page.get_by_text("Most engaged negative posts")).to_be_visible(
        timeout=180_000
    )
    chart = page.locator("[data-testid='stVegaLiteChart'] .marks").first
    expect(chart).to_be_visible(timeout=60_000)


def open_model_card(page: Page) -> None:
    """Open the Model card page and wait for its tier comparison chart and
    for the script to finish (the n-gram tables load the pipeline last)."""
    page.get_by_role("link", name="Model card").click()
    expect(page.get_by_text("Limitations (every tier)")).to_be_visible()
    chart = page.locator("[data-testid='stVegaLiteChart'] .marks").last
    expect(chart).to_be_visible(timeout=60_000)
    running = page.locator("[data-testid='stStatusWidget']")
    expect(running).to_have_count(0, timeout=60_000)
    expect(page.locator("[data-testid='stDataFrame']").last).to_be_visible()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--monitoring",
        action="store_true",
        help="shoot the Monitoring page over a made-up log (default out: "
        "docs/monitoring.png)",
    )
    parser.add_argument(
        "--brands",
        action="store_true",
        help="shoot the Brands page on the demo file (default out: docs/brands.png)",
    )
    parser.add_argument(
        "--model-card",
        action="store_true",
        help="shoot the Model card page (default out: docs/model_card.png)",
    )
    parser.add_argument(
        "--backend",
        choices=config.BACKENDS,
        default=None,
        help="the tier the page starts with (default: $SENTIMENT_BACKEND or classic)",
    )
    args = parser.parse_args()
    name = "monitoring.png" if args.monitoring else "screenshot.png"
    name = "brands.png" if args.brands else name
    name = "model_card.png" if args.model_card else name
    if args.backend is not None:
        # The sidebar's "Model" box starts on the tier the environment names.
        os.environ[config.BACKEND_ENV] = args.backend
    args.out = args.out or ROOT / "docs" / name
    executable = chromium_path()
    if executable is None:
        print("error: no chromium binary; apt-get install chromium", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        # The page logs to a throwaway file, never to the real logs/.
        os.environ[config.LOG_DB_ENV] = str(Path(folder) / "predictions.db")
        if args.monitoring:
            predictor = load_predictor(
                args.model, allow_outside_models_dir=args.model is not None
            )
            rows = fill_demo_log(Path(os.environ[config.LOG_DB_ENV]), predictor)
            print(f"logged {rows:,} made-up predictions")
            accounts = Path(folder) / "users.toml"
            set_reviewer(accounts, DEMO_REVIEWER, DEMO_PASSWORD)
            os.environ[config.USERS_FILE_ENV] = str(accounts)
        shoot(
            args.model,
            executable,
            args.out,
            args.monitoring,
            args.brands,
            args.model_card,
        )
    print(f"wrote {args.out}")
    return 0


def fit_viewport_to_content(page: Page) -> None:
    """Make the viewport as tall as the page's content.

    Streamlit scrolls inside its own container, so a full-page shot is only as
    tall as the viewport.
    """
    main = page.locator("[data-testid='stMain']")
    height = main.evaluate("element => element.scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": height})


def shoot(
    model: Path | None,
    executable: str,
    out: Path,
    monitoring: bool,
    brands: bool = False,
    model_card: bool = False,
) -> None:
    """Start the app, drive it, and save a full-page screenshot to ``out``."""
    expect.set_options(timeout=60_000)  # a busy 2-core machine is slow to render
    with streamlit_app(model) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(60_000)
            page.goto(url)
            if brands:
                compare_brands(page)
                fit_viewport_to_content(page)
            elif model_card:
                open_model_card(page)
                fit_viewport_to_content(page)
            else:
                analyse_posts(page)
            if monitoring:
                check_drift(page)
                fit_viewport_to_content(page)
            page.wait_for_timeout(1_500)  # let the charts finish drawing
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
