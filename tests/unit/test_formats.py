"""Production formats: values written in a declared format parse back to the same number or date;
anything that does not fit the declaration is refused with a reason, never guessed."""

import io
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightdeck.core.errors import InvalidInput
from flightdeck.tabular import files, formats
from flightdeck.tabular.formats import (
    PRESETS,
    SourceFormat,
    format_number,
    format_period,
    parse_numbers,
    parse_periods,
)

NUMBER_FORMATS = [
    SourceFormat(decimal=".", thousands=""),
    SourceFormat(decimal=".", thousands=","),
    SourceFormat(decimal=",", thousands="."),
    SourceFormat(decimal=",", thousands=" "),
    SourceFormat(decimal=".", thousands="'"),
    SourceFormat(decimal=",", thousands=""),
]
DATE_FORMATS = ["iso", "yyyymmdd", "dd.mm.yyyy"]


def text(*cells: str) -> pd.Series:
    return pd.Series(list(cells), dtype="str")


def parsed_numbers(fmt: SourceFormat, *cells: str) -> list[float | None]:
    result = parse_numbers(text(*cells), fmt)
    return [float(v) if ok else None for v, ok in zip(result.values, result.ok, strict=True)]


# -- round trips (property-based) ------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2)


@pytest.mark.parametrize(
    "fmt", NUMBER_FORMATS, ids=lambda f: f"decimal{f.decimal!r}-thousands{f.thousands!r}"
)
@settings(max_examples=150, deadline=None)
@given(values=st.lists(amounts, min_size=1, max_size=30), trailing=st.booleans())
def test_numbers_written_in_a_declared_format_parse_back(
    fmt: SourceFormat, values: list[Decimal], trailing: bool
) -> None:
    written = [format_number(float(v), fmt, trailing_minus=trailing) for v in values]
    result = parse_numbers(text(*written), fmt)
    assert result.ok.all(), [(w, r) for w, r in zip(written, result.reasons, strict=True) if r]
    assert np.allclose(result.values, [float(v) for v in values], rtol=0, atol=1e-9)


@pytest.mark.parametrize("date_format", DATE_FORMATS)
@settings(max_examples=150, deadline=None)
@given(
    days=st.lists(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), min_size=1, max_size=30)
)
def test_dates_written_in_a_declared_format_parse_back(date_format: str, days: list[date]) -> None:
    fmt = SourceFormat(date_format=date_format)
    result = parse_periods(text(*(format_period(d, fmt) for d in days)), fmt)
    assert result.ok.all()
    assert [formats.day(v) for v in result.values] == days


@settings(max_examples=150, deadline=None)
@given(
    start_month=st.integers(1, 12),
    periods=st.lists(st.tuples(st.integers(1950, 2090), st.integers(1, 12)), min_size=1, max_size=30),
)
def test_fiscal_periods_parse_to_the_first_day_of_their_month_and_back(
    start_month: int, periods: list[tuple[int, int]]
) -> None:
    fmt = SourceFormat(date_format="fiscal", fiscal_year_start=start_month)
    written = [f"{year}/{period:03d}" for year, period in periods]
    result = parse_periods(text(*written), fmt)
    assert result.ok.all()
    days = [formats.day(v) for v in result.values]
    assert all(d.day == 1 for d in days)
    assert [format_period(d, fmt) for d in days] == written


def test_fiscal_years_that_start_in_april_span_two_calendar_years() -> None:
    fmt = SourceFormat(date_format="fiscal", fiscal_year_start=4)
    result = parse_periods(text("2024/001", "2024/009", "2024/010", "2024/012"), fmt)
    assert [formats.day(v) for v in result.values] == [
        date(2024, 4, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 3, 1),
    ]


# -- strictness --------------------------------------------------------------------------------


def test_sap_trailing_minus_and_thousands_separators() -> None:
    sap = PRESETS["sap"][1]
    assert parsed_numbers(sap, "1.234,50-", "-12,5", "7", "1.234.567,891", " 3,00 ") == [
        -1234.5,
        -12.5,
        7.0,
        1234567.891,
        3.0,
    ]


@pytest.mark.parametrize(
    ("fmt", "cell"),
    [
        (PRESETS["de"][1], "1.5"),  # decimal comma declared: a lone '.' must be a thousands group
        (PRESETS["de"][1], "12.34,5"),  # a thousands group needs three digits
        (SourceFormat(), "1,234.5"),  # no thousands separator declared
        (PRESETS["sap"][1], "-3,00-"),  # a sign in front and behind
        (SourceFormat(), "12 EUR"),  # units belong in their own column
        (SourceFormat(), "abc"),
        (SourceFormat(), "1e400"),
    ],
)
def test_a_number_that_does_not_fit_the_declared_format_is_refused(fmt: SourceFormat, cell: str) -> None:
    result = parse_numbers(text(cell), fmt)
    assert not result.ok[0]
    assert result.reasons[0]


def test_the_reason_names_the_declared_format_with_an_example() -> None:
    result = parse_numbers(text("24.5"), PRESETS["de"][1])
    assert (
        result.reasons[0]
        == "not a number written with decimal comma, '.' thousands separator (e.g. 1.234,50-)"
    )


def test_missing_values_and_impossible_dates_have_their_own_reasons() -> None:
    assert parse_numbers(text(""), SourceFormat()).reasons[0] == "the value is missing"
    dates = parse_periods(text("31.02.2025", "2025-01-31", "", "2024/013"), PRESETS["de"][1])
    assert list(dates.reasons) == [
        "no such calendar date",
        "not a date written as DD.MM.YYYY, e.g. 31.03.2025",
        "the period is missing",
        "not a date written as DD.MM.YYYY, e.g. 31.03.2025",
    ]
    fiscal = parse_periods(text("2024/013", "2024/1"), PRESETS["fiscal"][1])
    assert fiscal.reasons[0] == "special periods 013–016 are closing adjustments, not calendar months"
    assert fiscal.reasons[1].startswith("not a fiscal period written as YYYY/PPP")


def test_typed_cells_from_excel_or_sql_are_taken_as_they_are() -> None:
    fmt = PRESETS["de"][1]
    periods = parse_periods(
        pd.Series([date(2025, 1, 2), datetime(2025, 1, 3, 0, 0), "04.01.2025", 5], dtype=object), fmt
    )
    assert [formats.day(v) for v in periods.values[:3]] == [
        date(2025, 1, 2),
        date(2025, 1, 3),
        date(2025, 1, 4),
    ]
    assert not periods.ok[3]
    numbers = parse_numbers(pd.Series([1.5, Decimal("2.25"), 3, "4,5", True], dtype=object), fmt)
    assert list(numbers.values[:4]) == [1.5, 2.25, 3.0, 4.5]
    assert not numbers.ok[4]  # a boolean is not a number


def test_period_start_moves_days_to_monday_and_the_first_of_the_month() -> None:
    days = np.array(["2025-03-05", "2025-03-09", "2025-03-10", "2024-12-31"], dtype="datetime64[D]")
    assert [formats.day(d) for d in formats.period_start(days, "week")] == [
        date(2025, 3, 3),
        date(2025, 3, 3),
        date(2025, 3, 10),
        date(2024, 12, 30),
    ]
    assert [formats.day(d) for d in formats.period_start(days, "month")] == [
        date(2025, 3, 1),
        date(2025, 3, 1),
        date(2025, 3, 1),
        date(2024, 12, 1),
    ]


def test_a_declared_format_is_checked() -> None:
    with pytest.raises(InvalidInput) as refused:
        SourceFormat(decimal=",", thousands=",", fiscal_year_start=13).checked()
    assert {p.field for p in refused.value.problems} == {"thousands", "fiscal_year_start"}


# -- reading files -----------------------------------------------------------------------------


def test_encodings_are_detected_and_named() -> None:
    body = "Datum;Filiale;Bemerkung\n01.01.2025;N101;Kühlung\n"
    for raw, expected in (
        (body.encode("utf-8"), "utf-8"),
        (body.encode("utf-8-sig"), "utf-8-sig"),
        (body.encode("latin-1"), "latin-1"),
    ):
        table = files.read_table(raw, "x.csv", SourceFormat(encoding="auto", delimiter="auto"))
        assert table.encoding == expected
        assert table.delimiter == ";"
        assert table.columns == ["Datum", "Filiale", "Bemerkung"]  # no BOM glued to the first name
        assert table.frame["Bemerkung"].tolist() == ["Kühlung"]


def test_a_file_that_is_not_in_the_declared_encoding_is_refused_with_the_line() -> None:
    raw = "a,b\n1,ok\n2,Kühlung\n".encode("latin-1")
    with pytest.raises(InvalidInput) as refused:
        files.read_table(raw, "x.csv", SourceFormat(encoding="utf-8"))
    [problem] = refused.value.problems
    assert problem.row == 3
    assert "not valid UTF-8" in problem.message
    assert "Latin-1" in problem.message


def test_row_numbers_follow_the_spreadsheet_and_skip_blank_lines() -> None:
    raw = b"period,value\n2025-01-01,1\n\n2025-01-02,2\n"
    table = files.read_table(raw, "x.csv", SourceFormat(delimiter=","))
    assert table.rows.tolist() == [2, 4]
    assert table.frame["value"].tolist() == ["1", "2"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "is empty"),
        (b"a,b\n1,2,3\n", "Line 2 has more fields than the header's 2"),
        (b"a,b\n1,2\n3,4,5\n", "Line 3 has 3 fields where the header has 2"),
        (b"a,a\n1,2\n", "The column 'a' appears twice"),
        (b",b\n1,2\n", "A column with values has no name"),
    ],
)
def test_malformed_files_are_refused_before_any_row_is_read(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        files.read_table(raw, "x.csv", SourceFormat(delimiter=","))
    assert message in refused.value.problems[0].message


def test_a_trailing_delimiter_adds_no_column() -> None:
    table = files.read_table(b"a;b;\n1;2;\n", "x.csv", SourceFormat(delimiter=";"))
    assert table.columns == ["a", "b"]


def test_excel_cells_keep_their_types() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"Date": [pd.Timestamp(2025, 1, 2)], "Store": [101], "Value": [3.5]}).to_excel(
        buffer, index=False
    )
    table = files.read_table(buffer.getvalue(), "x.xlsx", SourceFormat())
    assert table.kind == "excel"
    assert table.rows.tolist() == [2]
    cells = table.frame.iloc[0].tolist()
    assert isinstance(cells[0], datetime)
    assert cells[1:] == [101, 3.5]
