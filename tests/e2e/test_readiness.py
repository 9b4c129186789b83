"""Readiness in a real browser: a reviewer attests a check of the forecast pilot and sees its score
and next steps change."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import settle, sign_in

FORECAST_V1 = "readiness?version=3"  # the demo registers churn v1, churn v2, then the forecast


def test_a_reviewer_attests_the_code_review_and_sees_score_and_next_steps_move(
    page: Page, live_app: str
) -> None:
    sign_in(page, live_app, "rita")
    page.goto(f"{live_app}/{FORECAST_V1}")
    settle(page)
    expect(page.get_by_role("heading", name="Readiness of Fresh demand forecast v1")).to_be_visible()
    steps = page.locator("ol").first
    expect(steps).to_contain_text("A reviewer records the code review")
    expect(page.get_by_text("Maintainability · 62 / 100")).to_be_visible()

    expect(page.get_by_role("heading", name="Attest a check")).to_be_visible()
    form = page.get_by_test_id("stForm").filter(has_text="What you checked")
    choice = form.get_by_role("combobox").first
    choice.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the charts above finish laying out; a click before may land elsewhere
    choice.click()
    page.get_by_role("option", name="Model code reviewed · now fail").click()
    form.get_by_role("textbox", name="What you checked").fill(
        "Read the feature code and the training script."
    )
    form.get_by_role("button", name="Attest").click()
    settle(page)

    expect(page.get_by_text("“Model code reviewed” attested for Fresh demand forecast v1.")).to_be_visible()
    expect(page.get_by_text("Maintainability · 88 / 100")).to_be_visible()
    expect(page.locator("ol").first).not_to_contain_text("A reviewer records the code review")
    page.get_by_text("Attestations of this version").click()
    expect(page.get_by_text("Read the feature code and the training script.")).to_be_visible()
