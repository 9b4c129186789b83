"""Impact and monitoring in a real browser: a business owner opens the churn model's impact page and
reads the verdict, its interval and the money; a batch of drifted predictions loaded from the command
line raises a drift alert that shows in the owner's inbox."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App, own_app, settle, sign_in
from tests.factories import FEATURES, churn_frame, csv_bytes

CHURN = "member_churn"


@pytest.fixture(scope="module")
def impact_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with own_app(tmp_path_factory, "e2e_impact") as app:
        yield app


def test_a_business_owner_reads_the_churn_models_verdict_interval_and_money(
    page: Page, impact_app: App
) -> None:
    sign_in(page, impact_app.url, "bianca")
    page.goto(f"{impact_app.url}/impact?model=1")  # the demo registers the churn model first
    settle(page)
    verdict = page.get_by_test_id("stAlertContentSuccess").first
    expect(verdict).to_contain_text("Monthly member churn fell by")
    expect(verdict).to_contain_text("95% CI")
    expect(verdict).to_contain_text("a positive effect")
    expect(verdict).to_contain_text("EUR (95% CI")
    expect(page.get_by_test_id("stMetric").filter(has_text="Value per year").first).to_contain_text("EUR")
    expect(page.get_by_text("Money by goal and for the portfolio")).to_be_visible()


def test_drifted_predictions_loaded_from_the_command_line_raise_an_alert_in_the_inbox(
    page: Page, impact_app: App, tmp_path: Path
) -> None:
    frame = churn_frame(rows=9000, seed=21)
    frame["tenure_months"] = frame["tenure_months"] + 150  # members far older than any trained on
    log = frame[FEATURES].copy()
    moment = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    log.insert(0, "timestamp", moment)
    log.insert(1, "subject_key", [f"GC-E2E-{i}" for i in range(len(log))])
    log.insert(2, "prediction", 0.1)
    path = tmp_path / "churn_scores_drifted.csv"
    path.write_bytes(csv_bytes(log))

    loaded = impact_app.cli("ingest", "predictions", CHURN, "1", str(path), "--delimiter", ",")
    assert loaded.returncode == 0, loaded.stderr
    assert "major input drift in tenure_months" in loaded.stdout

    sign_in(page, impact_app.url, "bianca")
    page.goto(f"{impact_app.url}/alerts")
    settle(page)
    open_count = page.get_by_test_id("stMetric").filter(has_text="Open").first
    expect(open_count).to_contain_text("2")  # the churn model's overdue refresh, and now its drift
    grid = page.get_by_test_id("stDataFrameResizable").bounding_box()
    assert grid is not None
    page.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)  # the newest alert's row (the grid is a canvas)
    settle(page)
    message = "Member churn propensity v1: major input drift in tenure_months"
    expect(page.get_by_role("paragraph").filter(has_text=message)).to_be_visible()  # the selected alert
