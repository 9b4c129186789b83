"""Regenerate the README images from the demo workspace: python -m docs.make_screenshots"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from flightdeck.demo.story import DEMO_PASSWORD
from tests.support.server import streamlit_app

DOCS = Path(__file__).resolve().parent
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
SHOTS = [  # (who, page with its query, file): the demo's first model is the churn model
    ("bianca", "home", "home.png"),
    ("bianca", "impact?model=1", "impact.png"),
    ("rita", "readiness?version=3", "readiness.png"),
]


def main() -> None:
    with (
        streamlit_app(Path(tempfile.mkdtemp(prefix="flightdeck-docs-"))) as app,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for username, page_key, filename in SHOTS:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(app.url)
            page.get_by_role("textbox", name="Username").fill(username)
            page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_function("() => document.cookie.includes('flightdeck_session=')")
            page.goto(f"{app.url}/{page_key}".removesuffix("/home"))
            page.wait_for_selector(IDLE)
            page.wait_for_timeout(1500)
            page.screenshot(path=DOCS / filename)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
