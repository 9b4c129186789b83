"""The registry's main journey in a real browser: a data scientist uploads a skops model and its
holdout, sees what Flightdeck measured and asks for review; a reviewer who did not build it approves;
the model card downloads."""

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import settle, sign_in
from tests.factories import churn_frame, csv_bytes, fitted_classifier, skops_bytes

CHURN = "model?model=1"  # the demo registers the churn model first


def upload(page: Page, label: str, path: Path) -> None:
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
    uploader.locator("input[type='file']").set_input_files(str(path))
    expect(uploader.get_by_text(path.name)).to_be_visible()


def test_upload_evaluate_request_review_approve_and_download_the_card(
    page: Page, browser: Browser, live_app: str, tmp_path: Path
) -> None:
    frame = churn_frame(600, seed=11)
    model_file, holdout_file = tmp_path / "churn_v3.skops", tmp_path / "holdout_v3.csv"
    model_file.write_bytes(skops_bytes(fitted_classifier(churn_frame(900, seed=12))))
    holdout_file.write_bytes(csv_bytes(frame))

    sign_in(page, live_app, "dana")
    page.goto(f"{live_app}/{CHURN}")
    settle(page)
    expect(page.get_by_role("heading", name="Member churn propensity")).to_be_visible()
    page.get_by_role("tab", name="New version").click()
    upload(page, "Model file (.skops)", model_file)
    upload(page, "Holdout (CSV or Excel)", holdout_file)
    form = page.get_by_test_id("stForm").filter(has_text="Upload and evaluate")
    form.get_by_role("textbox", name="Target column").fill("churned")
    form.get_by_role("textbox", name="Segment column (optional)").fill("region")
    form.get_by_role("button", name="Upload and evaluate").click()
    settle(page)
    expect(page.get_by_text("v3 uploaded and evaluated by Flightdeck.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Computed by Flightdeck on holdout_v3.csv (600 rows)")).to_be_visible()
    expect(page.get_by_text("Calibration on the holdout")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Single row p50")).to_be_visible()

    page.get_by_role("button", name="Request review").click()
    settle(page)
    expect(page.get_by_text("Review of v3 requested.")).to_be_visible()

    reviewer = browser.new_context().new_page()
    sign_in(reviewer, live_app, "rita")
    reviewer.goto(f"{live_app}/{CHURN}&version=3")
    settle(reviewer)
    expect(reviewer.get_by_text("In review").first).to_be_visible()
    reviewer.get_by_role("textbox", name="Rationale").fill(
        "Independent check: beats the baseline in every region."
    )
    reviewer.get_by_role("button", name="Approve").click()
    settle(reviewer)
    expect(reviewer.get_by_text("v3 approved.")).to_be_visible()

    reviewer.goto(f"{live_app}/model_card?model=1&version=3")
    settle(reviewer)
    expect(reviewer.get_by_role("heading", name="Model card: Member churn propensity v3")).to_be_visible()
    download = reviewer.get_by_role("button", name="Download Markdown")
    expect(download).to_be_enabled()
    with reviewer.expect_download(timeout=60_000) as downloaded:  # a busy CI machine serves it slowly
        download.click()
    card = Path(downloaded.value.path()).read_text()
    assert downloaded.value.suggested_filename == "model-card-member_churn-v3.md"
    assert "# Model card: Member churn propensity v3" in card
    assert "Approved" in card
    assert "Independent check: beats the baseline in every region" in card
    reviewer.context.close()


def test_a_pickle_upload_is_refused_with_how_to_convert(page: Page, live_app: str, tmp_path: Path) -> None:
    pickled = tmp_path / "model.joblib"
    pickled.write_bytes(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00pickled bytes.")
    holdout = tmp_path / "holdout.csv"
    holdout.write_bytes(csv_bytes(churn_frame(50)))
    sign_in(page, live_app, "kenji")
    page.goto(f"{live_app}/{CHURN}")
    settle(page)
    page.get_by_role("tab", name="New version").click()
    upload(page, "Model file (.skops)", pickled)
    upload(page, "Holdout (CSV or Excel)", holdout)
    page.get_by_role("button", name="Upload and evaluate").click()
    settle(page)
    expect(page.get_by_text("is a pickle or joblib file. Flightdeck never loads those")).to_be_visible()
    expect(page.get_by_text("Refused: nothing was stored.")).to_be_visible()
