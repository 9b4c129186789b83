"""Playwright against the real app, in Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from flightdeck.core.config import PROJECT_ROOT
from flightdeck.core.db import Database
from flightdeck.demo.story import DEMO_PASSWORD
from flightdeck.kpis import definitions
from tests.conftest import IN_CI, settings_for
from tests.support.server import streamlit_app

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        if IN_CI:
            pytest.fail("chromium is required in CI: apt-get install chromium")
        pytest.skip("chromium not installed")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One running app on a fresh demo workspace for the whole session; tests use distinct data."""
    with streamlit_app(tmp_path_factory.mktemp("e2e"), prepared=True) as app:
        yield app.url


@dataclass(frozen=True)
class App:
    """A running app on a demo workspace of its own, so that a test can read its database and load
    into it from the shell."""

    url: str
    data_dir: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'flightdeck.db'}"

    def observations(self, key: str) -> int:
        db = Database(settings_for(self.database_url, self.data_dir))
        try:
            return definitions.observation_count(db, definitions.get_kpi_by_key(db, key).id)
        finally:
            db.dispose()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": self.database_url, "FLIGHTDECK_DATA_DIR": str(self.data_dir)}
        return subprocess.run(
            [sys.executable, "-m", "flightdeck", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@contextmanager
def own_app(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[App]:
    folder = tmp_path_factory.mktemp(name)
    with streamlit_app(folder, prepared=True) as app:
        yield App(app.url, folder)


def settle(page: Page) -> None:
    """Wait until the script run the last action triggered has finished."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=30_000)


def sign_in(
    page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD, succeeds: bool = True
) -> None:
    """Sign in through the form; when it should succeed, wait until the session cookie is set, so
    that a later page.goto (a new Streamlit session) is still signed in."""
    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if succeeds:
        page.wait_for_function("() => document.cookie.includes('flightdeck_session=')", timeout=30_000)
    settle(page)


def sidebar_links(page: Page) -> list[str]:
    """The page titles in the sidebar menu, in order (icons excluded)."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible()
    labels = nav.locator("a[data-testid='stSidebarNavLink'] span[label]")
    return [labels.nth(i).get_attribute("label") or "" for i in range(labels.count())]
