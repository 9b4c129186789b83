"""KPI journeys in a real browser: a business owner defines a KPI, loads a German Excel export and
sees the chart; a bad file shows its row-level report and changes nothing; in live mode a value
loaded from the command line appears on the open page."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from flightdeck.demo.samples import SAMPLES
from tests.e2e.conftest import App, own_app, settle, sign_in


@pytest.fixture(scope="module")
def kpi_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """An app of its own, so the tests can read its database and load into it from the shell."""
    with own_app(tmp_path_factory, "e2e_kpis") as app:
        yield app


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of the Streamlit selectbox with this label."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def test_an_owner_defines_a_kpi_loads_a_german_export_and_sees_the_chart(page: Page, kpi_app: App) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, key = f"Basket size {suffix}", f"basket_size_{suffix}"
    sign_in(page, kpi_app.url, "bianca")
    page.goto(f"{kpi_app.url}/kpis")
    settle(page)
    page.get_by_role("tab", name="New KPI").click()
    form = page.get_by_test_id("stForm").filter(has_text="Create KPI")
    form.get_by_role("textbox", name="Name").fill(name)
    form.get_by_role("textbox", name="Key").fill(key)
    form.get_by_role("textbox", name="Unit").fill("EUR")
    choose(page, "Segments by", "Region → Store")
    form.get_by_role("button", name="Create KPI").click()
    settle(page)
    expect(page.get_by_text(f"KPI “{name}” created.")).to_be_visible()

    page.goto(f"{kpi_app.url}/ingest?kpi={key}")
    settle(page)
    page.locator("input[type=file]").first.set_input_files(str(SAMPLES / "basket_value_daily_de.csv"))
    settle(page)
    choose(page, "Source format", "DD.MM.YYYY, decimal comma")
    expect(page.get_by_text("UTF-8 with BOM, semicolon-separated")).to_be_visible()
    page.get_by_role("button", name="Load the file").click()
    settle(page)
    expect(
        page.get_by_text("724 rows checked: 724 new, 0 changed and 0 unchanged values were stored")
    ).to_be_visible()
    assert kpi_app.observations(key) == 724

    page.get_by_role("link", name="See it on KPI monitoring").click()
    settle(page)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible()
    expect(chart.get_by_text(f"{name}: actual against baseline and target trajectory")).to_be_visible()


def test_a_bad_file_shows_its_row_level_report_and_the_kpis_data_is_unchanged(
    page: Page, kpi_app: App
) -> None:
    loaded = kpi_app.cli(
        "ingest", "kpi", "member_basket_value", str(SAMPLES / "basket_value_daily_de.csv"), "--format", "de"
    )
    assert loaded.returncode == 0, loaded.stderr
    before = kpi_app.observations("member_basket_value")
    sign_in(page, kpi_app.url, "bianca")
    page.goto(f"{kpi_app.url}/ingest?kpi=member_basket_value")
    settle(page)
    page.locator("input[type=file]").first.set_input_files(str(SAMPLES / "bad_rows_example.csv"))
    settle(page)
    choose(page, "Source format", "DD.MM.YYYY, decimal comma")
    page.get_by_role("button", name="Load the file").click()
    settle(page)
    expect(page.get_by_text("7 problem(s) in 23 rows. Nothing was loaded")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the report (CSV)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "row,column,value,reason"
    assert report[1] == "18,Datum,31.02.2025,no such calendar date"
    assert len(report) == 8
    assert kpi_app.observations("member_basket_value") == before


def test_in_live_mode_a_value_loaded_from_the_command_line_appears_on_the_open_page(
    page: Page, kpi_app: App, tmp_path: Path
) -> None:
    first = kpi_app.cli(
        "ingest", "kpi", "stock_corrections", str(SAMPLES / "stock_corrections_sap.csv"), "--format", "sap"
    )
    assert first.returncode == 0, first.stderr
    sign_in(page, kpi_app.url, "bruno")
    page.goto(f"{kpi_app.url}/monitor?kpi=stock_corrections")
    settle(page)
    page.get_by_text("Live", exact=True).click()
    settle(page)
    expect(page.get_by_text("Latest value 31 Mar 2025")).to_be_visible()

    later = tmp_path / "april.csv"
    later.write_text("Buchungsdatum;Filiale;Betrag\n20250401;N101;1.234,50-\n", encoding="latin-1")
    loaded = kpi_app.cli("ingest", "kpi", "stock_corrections", str(later), "--format", "sap")
    assert loaded.returncode == 0, loaded.stderr
    expect(page.get_by_text("Latest value 01 Apr 2025")).to_be_visible(timeout=30_000)  # no reload
