"""The foundation's journeys in a real browser: sign-in per role, refusals, a goal that persists."""

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from flightdeck.demo.story import DEMO_PASSWORD
from tests.e2e.conftest import settle, sidebar_links, sign_in
from tests.support.server import streamlit_app

MODELS = ["Models", "Readiness portfolio", "Model cards", "Prediction logs"]
EVERYONE = [
    "Home",
    "Goals",
    "KPIs",
    "Business context",
    "KPI monitoring",
    "Alerts",
    "Business impact",
    "Model monitoring",
    *MODELS,
    "My account",
    "Sign out",
]
OWNER = [
    "Home",
    "Goals",
    "KPIs",
    "Business context",
    "Load data",
    "KPI monitoring",
    "Alerts",
    "Business impact",
    "Model monitoring",
    *MODELS,
    "My account",
    "Sign out",
]
ADMIN = [*OWNER[:-2], "Users", "Audit trail", "SQL sources", "Artifact allow-list", "My account", "Sign out"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("victor", EVERYONE),
        ("bianca", OWNER),
        ("dana", EVERYONE),
        ("rita", EVERYONE),
        ("kenji", EVERYONE),
        ("ada", ADMIN),
    ],
)
def test_each_role_sees_its_own_navigation(
    page: Page, live_app: str, username: str, expected: list[str]
) -> None:
    sign_in(page, live_app, username)
    expect(page.get_by_role("heading", name="Workspace overview")).to_be_visible()
    assert sidebar_links(page) == expected


def test_a_wrong_password_gets_a_generic_error(page: Page, live_app: str) -> None:
    sign_in(page, live_app, "bianca", password="not-her-password", succeeds=False)
    expect(page.get_by_text("Invalid username or password.")).to_be_visible()
    expect(page.get_by_role("heading", name="Workspace overview")).to_have_count(0)


def test_a_viewer_typing_the_admin_url_is_not_permitted(page: Page, live_app: str) -> None:
    sign_in(page, live_app, "victor")
    page.goto(f"{live_app}/admin_users")
    settle(page)
    expect(page.get_by_text("Not permitted.")).to_be_visible()
    expect(page.get_by_role("tab", name="Add user")).to_have_count(0)
    expect(page.get_by_text("ada@greenway.example")).to_have_count(0)


def test_a_goal_created_in_the_ui_is_on_the_home_page_after_a_reload(page: Page, live_app: str) -> None:
    title = f"Fewer empty shelves {uuid.uuid4().hex[:6]}"
    sign_in(page, live_app, "bruno")
    page.goto(f"{live_app}/goals")
    settle(page)
    page.get_by_role("tab", name="New goal").click()
    form = page.get_by_test_id("stForm").filter(has_text="Create goal")
    form.get_by_role("textbox", name="Title").fill(title)
    form.get_by_role("textbox", name="Value statement").fill("Lost sales from gaps cost €2 M a year.")
    form.get_by_role("button", name="Create goal").click()
    settle(page)
    expect(page.get_by_text(f"Goal “{title}” created.")).to_be_visible()
    page.goto(live_app)
    page.reload()
    settle(page)
    expect(page.get_by_text(title)).to_be_visible()
    expect(page.get_by_role("heading", name="Workspace overview")).to_be_visible()


def test_signing_out_ends_the_session_and_signing_in_again_works(page: Page, live_app: str) -> None:
    sign_in(page, live_app, "rita")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sign out").click()
    settle(page)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert not page.url.endswith("/logout")
    # The form right after signing out signs in for good (it must not run the sign-out page again).
    page.get_by_role("textbox", name="Username").fill("rita")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    settle(page)
    expect(page.get_by_role("heading", name="Workspace overview")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_have_count(0)


def test_the_app_runs_from_any_folder(page: Page, tmp_path: Path) -> None:
    """`streamlit run /path/to/app.py` from another folder (a service manager's working directory)
    serves the same app: its logo and pages are found next to app.py, not in the current folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "data").mkdir()
    with streamlit_app(tmp_path / "data", prepared=True, cwd=elsewhere) as app:
        sign_in(page, app.url, "victor")
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        expect(page.get_by_role("img", name="Logo")).to_be_visible()
        expect(page.get_by_role("heading", name="Workspace overview")).to_be_visible()
