"""Sample files in the formats real business systems write (`data/samples/`), generated from the
demo's own story: what a new user tries the KPI upload with, and what the format tests read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from flightdeck.core.config import PROJECT_ROOT
from flightdeck.demo.story import PILOT_REGION, REGIONS, stores
from flightdeck.tabular import formats

SAMPLES = PROJECT_ROOT / "data" / "samples"


@dataclass(frozen=True)
class Sample:
    file_name: str
    kpi_key: str  # the demo KPI it is meant for, or the key of the KPI to create for it
    preset: str
    describes: str


SAMPLES_INDEX = (
    Sample(
        "basket_value_daily_de.csv",
        "member_basket_value",
        "de",
        "Average member basket per region and day, Jan–Jun 2025: DD.MM.YYYY, decimal comma, "
        "semicolons, UTF-8 with BOM (Excel's 'CSV UTF-8'), with a currency column.",
    ),
    Sample(
        "stock_corrections_sap.csv",
        "stock_corrections",
        "sap",
        "Stock corrections of the pilot stores, Q1 2025, as SAP exports them: YYYYMMDD, decimal comma, "
        "'.' thousands, trailing minus for write-downs, semicolons, Latin-1 remarks.",
    ),
    Sample(
        "ap_cost_fiscal_periods.csv",
        "ap_handling_cost",
        "fiscal",
        "Accounts-payable handling cost per region and fiscal period 2024/001–2025/012: YYYY/PPP, "
        "decimal point, ',' thousands (quoted), commas.",
    ),
    Sample(
        "invoices_disputed.xlsx",
        "invoices_disputed",
        "iso",
        "Disputed invoices per region and day, Q1 2025, in an Excel workbook with typed dates and numbers.",
    ),
    Sample(
        "bad_rows_example.csv",
        "member_basket_value",
        "de",
        "The basket file with typical mistakes (an impossible date, a decimal point, an unknown region, "
        "a missing value, a repeated day, a foreign currency, a future date): it is rejected, row by row.",
    ),
)


def _sample_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _lines(header: str, rows: list[str]) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"  # spreadsheet exports end lines with CRLF


def basket_rows() -> list[tuple[date, str, float]]:
    rng = np.random.default_rng(7)
    rows = []
    for day in _sample_days(date(2025, 1, 1), date(2025, 6, 30)):
        for i, region in enumerate(REGIONS):
            weekend = 3.5 if day.weekday() >= 4 else 0.0
            rows.append((day, region, round(24.0 + 1.2 * i + weekend + float(rng.normal(0, 0.6)), 2)))
    return rows


def write_samples(folder: Path = SAMPLES) -> list[Path]:
    """Write every sample file; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    de, sap, fiscal = formats.PRESETS["de"][1], formats.PRESETS["sap"][1], formats.PRESETS["fiscal"][1]
    written = []

    basket = basket_rows()
    text = _lines(
        "Datum;Region;Durchschnittsbon;Währung",
        [f"{formats.format_period(d, de)};{r};{formats.format_number(v, de)};EUR" for d, r, v in basket],
    )
    path = folder / "basket_value_daily_de.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    written.append(path)

    rng = np.random.default_rng(11)
    remarks = ("Bruch/Verderb Kühlung", "Inventurdifferenz", "Rücklieferung Lieferant", "Preisänderung")
    pilot = [code for code, region, _ in stores() if region == PILOT_REGION]
    rows = []
    for day in _sample_days(date(2025, 1, 1), date(2025, 3, 31)):
        for code in pilot:
            amount = float(rng.normal(-180, 420))
            remark = remarks[int(rng.integers(len(remarks)))]
            rows.append(
                f"{formats.format_period(day, sap)};{code};{formats.format_number(amount, sap)};{remark}"
            )
    path = folder / "stock_corrections_sap.csv"
    path.write_bytes(_lines("Buchungsdatum;Filiale;Betrag;Bemerkung", rows).encode("latin-1"))
    written.append(path)

    rng = np.random.default_rng(13)
    rows = []
    for year in (2024, 2025):
        for period in range(1, 13):
            for i, region in enumerate(REGIONS):
                cost = 38_000 + 4_000 * i + float(rng.normal(0, 1_500))
                rows.append(f'{year}/{period:03d},{region},"{formats.format_number(cost, fiscal)}"')
    path = folder / "ap_cost_fiscal_periods.csv"
    path.write_bytes(_lines("posting_period,region,cost_eur", rows).encode("utf-8"))
    written.append(path)

    rng = np.random.default_rng(17)
    days = _sample_days(date(2025, 1, 1), date(2025, 3, 31))
    frame = pd.DataFrame(
        [
            {"Date": pd.Timestamp(day), "Region": region, "Disputed invoices": int(rng.poisson(6 + 2 * i))}
            for day in days
            for i, region in enumerate(REGIONS)
        ]
    )
    path = folder / "invoices_disputed.xlsx"
    frame.to_excel(path, index=False, sheet_name="Disputes", engine="openpyxl")
    written.append(path)

    good = [
        f"{formats.format_period(d, de)};{r};{formats.format_number(v, de)};EUR" for d, r, v in basket[:16]
    ]
    mistakes = [
        "31.02.2025;N;25,10;EUR",  # no such date
        "05.01.2025;S;24.5;EUR",  # a decimal point in a decimal-comma file
        "05.01.2025;X;26,00;EUR",  # not a region
        "06.01.2025;N;;EUR",  # missing value
        f"{formats.format_period(basket[0][0], de)};{basket[0][1]};25,00;EUR",  # that day and region again
        "07.01.2025;E;25,40;USD",  # another currency
        "01.01.2099;W;25,00;EUR",  # the future
    ]
    path = folder / "bad_rows_example.csv"
    path.write_bytes(_lines("Datum;Region;Durchschnittsbon;Währung", good + mistakes).encode("utf-8-sig"))
    written.append(path)
    return written
