"""Production data formats: the declared formats of dates, fiscal periods and numbers, and their
column-wise parsers.

Business systems export `DD.MM.YYYY` or `YYYYMMDD` dates, fiscal periods `YYYY/PPP`, decimal
commas with thousands separators and SAP's trailing minus (`1.234,50-`). The parsers are strict on
purpose: a value that does not fit the declared format is reported, never guessed (a mis-declared
`1.234` would otherwise load as 1.234 instead of 1234). They work on whole columns, so a million
rows parse in about a second; typed cells (Excel numbers and dates, SQL results) are taken as they
are.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flightdeck.core.errors import InvalidInput, Problem

DATE_FORMATS = {
    "iso": "YYYY-MM-DD",
    "yyyymmdd": "YYYYMMDD",
    "dd.mm.yyyy": "DD.MM.YYYY",
    "fiscal": "fiscal period YYYY/PPP",
}


DECIMALS = {".": "decimal point", ",": "decimal comma"}
THOUSANDS = {"": "no", ".": "'.'", ",": "','", " ": "space", "'": "apostrophe"}
ENCODINGS = {"auto": "detect", "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "latin-1": "Latin-1"}
DELIMITERS = {"auto": "detect", ",": "comma", ";": "semicolon", "\t": "tab"}
FREQUENCIES = ("day", "week", "month")
MAX_PROBLEMS = 10_000  # a report beyond this helps nobody; the count is still given


_DATE_PATTERNS = {
    "iso": (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    "yyyymmdd": (r"\d{8}", "%Y%m%d"),
    "dd.mm.yyyy": (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y"),
}


@dataclass(frozen=True)
class SourceFormat:
    """How a source writes its values, as declared by whoever loads it."""

    date_format: str = "iso"
    decimal: str = "."
    thousands: str = ""
    encoding: str = "auto"
    delimiter: str = "auto"
    fiscal_year_start: int = 1  # fiscal year YYYY starts in this month of calendar year YYYY

    def problems(self) -> list[Problem]:
        found = []
        if self.date_format not in DATE_FORMATS:
            found.append(Problem("date_format", f"Unknown date format '{self.date_format}'."))
        if self.decimal not in DECIMALS:
            found.append(
                Problem("decimal", f"The decimal separator must be '.' or ',', not '{self.decimal}'.")
            )
        if self.thousands not in THOUSANDS:
            found.append(Problem("thousands", f"Unknown thousands separator '{self.thousands}'."))
        elif self.thousands == self.decimal:
            found.append(Problem("thousands", "The thousands separator must differ from the decimal one."))
        if self.encoding not in ENCODINGS:
            found.append(Problem("encoding", f"Unknown encoding '{self.encoding}'."))
        if self.delimiter not in DELIMITERS:
            found.append(Problem("delimiter", f"Unknown delimiter '{self.delimiter}'."))
        if not 1 <= self.fiscal_year_start <= 12:
            found.append(Problem("fiscal_year_start", "The fiscal year must start in month 1 to 12."))
        return found

    def checked(self) -> SourceFormat:
        if found := self.problems():
            raise InvalidInput(found)
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> SourceFormat:
        known = {k: v for k, v in (values or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def with_(self, **changes: Any) -> SourceFormat:
        return replace(self, **changes)

    @property
    def number_example(self) -> str:
        return format_number(-1234.5, self)

    def describe_numbers(self) -> str:
        thousands = f"{THOUSANDS[self.thousands]} thousands separator"
        return f"{DECIMALS[self.decimal]}, {thousands} (e.g. {self.number_example})"

    def describe_dates(self) -> str:
        if self.date_format == "fiscal":
            return f"fiscal period YYYY/PPP, the year starting in month {self.fiscal_year_start}"
        return DATE_FORMATS[self.date_format]

    def describe(self) -> str:
        return f"{self.describe_dates()} dates; {self.describe_numbers()}"


# Named layouts of common sources; the upload page and `--format` offer them.
PRESETS: dict[str, tuple[str, SourceFormat]] = {
    "iso": ("ISO dates, decimal point, comma-separated", SourceFormat(delimiter=",")),
    "de": (
        "DD.MM.YYYY, decimal comma, '.' thousands, semicolon-separated (German Excel)",
        SourceFormat(date_format="dd.mm.yyyy", decimal=",", thousands=".", delimiter=";"),
    ),
    "sap": (
        "YYYYMMDD, decimal comma, '.' thousands, trailing minus, semicolon-separated (SAP export)",
        SourceFormat(date_format="yyyymmdd", decimal=",", thousands=".", delimiter=";"),
    ),
    "fiscal": (
        "fiscal periods YYYY/PPP, decimal point, ',' thousands, comma-separated (finance)",
        SourceFormat(date_format="fiscal", decimal=".", thousands=",", delimiter=","),
    ),
}


# -- writing (sample files, exports, and the round-trip tests) -----------------------------------


def format_number(value: float, fmt: SourceFormat, decimals: int = 2, trailing_minus: bool = True) -> str:
    """`value` as the source would write it; negatives get SAP's trailing minus by default."""
    body = f"{abs(value):,.{decimals}f}".replace(",", "\0").replace(".", fmt.decimal)
    body = body.replace("\0", fmt.thousands)
    if value < 0 and body.strip("0,. '") != "":
        return body + "-" if trailing_minus else "-" + body
    return body


def format_period(day: date, fmt: SourceFormat) -> str:
    if fmt.date_format == "yyyymmdd":
        return f"{day:%Y%m%d}"
    if fmt.date_format == "dd.mm.yyyy":
        return f"{day:%d.%m.%Y}"
    if fmt.date_format == "fiscal":
        months = (day.month - fmt.fiscal_year_start) % 12
        year = day.year if day.month >= fmt.fiscal_year_start else day.year - 1
        return f"{year:04d}/{months + 1:03d}"
    return day.isoformat()


# -- parsing columns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A parsed column: values where `ok`, and for the rest the reason, row by row."""

    values: np.ndarray
    ok: np.ndarray
    reasons: np.ndarray  # object array of str ('' where ok)


def _number_pattern(fmt: SourceFormat) -> str:
    d = re.escape(fmt.decimal)
    digits = r"\d+"
    if fmt.thousands:
        t = re.escape(fmt.thousands)
        digits = rf"(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)"
    number = rf"(?:{digits}(?:{d}\d+)?|{d}\d+)(?:[eE][+-]?\d{{1,3}})?"  # 1.5e-05 as pandas and numpy write it
    return rf"[+-]?{number}|{number}-"  # a sign in front or SAP's minus behind, not both


def _split_typed(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Text cells as stripped strings, plus a mask of cells that already hold a typed value."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.fillna("").str.strip(), np.zeros(len(column), dtype=bool)
    typed = column.map(lambda v: not isinstance(v, str) and not is_blank(v)).to_numpy(dtype=bool)
    text = column.map(lambda v: v.strip() if isinstance(v, str) else "").astype("str")
    return text, typed


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def parse_numbers(column: pd.Series, fmt: SourceFormat) -> Parsed:
    text, typed = _split_typed(column)
    if fmt.thousands == " ":  # spreadsheets group thousands with non-breaking spaces
        text = text.str.replace("\u00a0", " ", regex=False).str.replace("\u202f", " ", regex=False)
    values = np.full(len(text), np.nan)
    reasons = np.full(len(text), "", dtype=object)
    blank = (text == "").to_numpy() & ~typed
    reasons[blank] = "the value is missing"

    if typed.any():
        raw = column[typed]
        numeric = raw.map(
            lambda v: isinstance(v, int | float | Decimal | np.number) and not isinstance(v, bool)
        )
        converted = pd.to_numeric(raw.where(numeric), errors="coerce").to_numpy(dtype=float)
        values[typed] = converted
        bad_typed = np.flatnonzero(typed)[~numeric.to_numpy(dtype=bool)]
        reasons[bad_typed] = "a number is expected here"

    textual = ~blank & ~typed
    if textual.any() and fmt.decimal == "." and not fmt.thousands:
        # Plain numbers (the common machine format) in one Arrow cast; anything odd in the column
        # sends it all down the strict path below.
        quick = _to_floats(text[textual])
        if quick is not None:
            values[np.flatnonzero(textual)] = quick
            textual[:] = False
    if textual.any():
        cells = text[textual]
        ok = cells.str.fullmatch(_number_pattern(fmt)).fillna(False).to_numpy(dtype=bool)
        trailing = cells.str.endswith("-").fillna(False).to_numpy(dtype=bool)
        digits = cells.where(~trailing, cells.str.slice(0, -1)) if trailing.any() else cells
        if fmt.thousands:
            digits = digits.str.replace(fmt.thousands, "", regex=False)
        if fmt.decimal != ".":
            digits = digits.str.replace(fmt.decimal, ".", regex=False)
        parsed = np.full(len(digits), np.nan)
        if ok.any():  # the pattern let only well-formed numbers through: the cast cannot fail
            parsed[ok] = _to_floats(digits[ok])
        idx = np.flatnonzero(textual)
        values[idx] = np.where(trailing, -parsed, parsed)
        reasons[idx[~ok]] = f"not a number written with {fmt.describe_numbers()}"

    finite = np.isfinite(values)
    too_big = finite & (np.abs(np.where(finite, values, 0)) > 1e15)
    reasons[~finite & (reasons == "")] = "not a finite number"
    reasons[too_big] = "the number is implausibly large (over 10^15)"
    ok_all = reasons == ""
    return Parsed(values, ok_all, reasons)


def _arrow(cells: pd.Series) -> pa.Array:
    return pa.array(cells.to_numpy(dtype=object) if cells.dtype == object else cells.array)


def _to_floats(cells: pd.Series) -> np.ndarray | None:
    """Decimal-point numbers through Arrow's cast (20× pandas' to_numeric); None if any fails."""
    try:
        return pc.cast(_arrow(cells), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _fiscal_to_dates(cells: pd.Series, fmt: SourceFormat) -> tuple[np.ndarray, np.ndarray]:
    parts = cells.str.extract(r"^(\d{4})/(\d{3})$")
    year = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    period = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(year) & ~np.isnan(period) & (period >= 1) & (period <= 12)
    month0 = np.where(ok, (fmt.fiscal_year_start - 1) + period - 1, 0)
    months = (np.where(ok, year, 1970) - 1970) * 12 + month0
    dates = months.astype("int64").astype("datetime64[M]").astype("datetime64[D]")
    return dates, ok


def parse_periods(column: pd.Series, fmt: SourceFormat) -> Parsed:
    """Dates as datetime64[D]; a fiscal period becomes the first day of its month."""
    text, typed = _split_typed(column)
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    reasons = np.full(len(text), "", dtype=object)
    blank = (text == "").to_numpy() & ~typed
    reasons[blank] = "the period is missing"

    if typed.any():
        raw = column[typed]
        is_date = raw.map(lambda v: isinstance(v, date | datetime | np.datetime64 | pd.Timestamp))
        converted = pd.to_datetime(raw.where(is_date), errors="coerce")
        values[typed] = converted.to_numpy().astype("datetime64[D]")
        bad_typed = np.flatnonzero(typed)[~is_date.to_numpy(dtype=bool)]
        reasons[bad_typed] = f"a date or a period written as {fmt.describe_dates()} is expected here"

    textual = ~blank & ~typed
    if textual.any():
        cells = text[textual]
        idx = np.flatnonzero(textual)
        if fmt.date_format == "fiscal":
            dates, ok = _fiscal_to_dates(cells, fmt)
            special = cells.str.fullmatch(r"\d{4}/01[3-6]").fillna(False).to_numpy(dtype=bool)
            reasons[idx[special]] = "special periods 013–016 are closing adjustments, not calendar months"
            reasons[idx[~ok & ~special]] = (
                f"not a fiscal period written as YYYY/PPP (001–012), e.g. {_eg(fmt)}"
            )
        else:
            pattern, strftime = _DATE_PATTERNS[fmt.date_format]
            shaped = cells.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
            converted = pd.to_datetime(cells.where(shaped, None), format=strftime, errors="coerce")
            dates = converted.to_numpy().astype("datetime64[D]")  # strict: 31.02. is NaT
            ok = shaped & ~np.isnat(dates)
            reasons[idx[~shaped]] = f"not a date written as {DATE_FORMATS[fmt.date_format]}, e.g. {_eg(fmt)}"
            reasons[idx[shaped & ~ok]] = "no such calendar date"
        values[idx] = np.where(ok, dates, np.datetime64("NaT"))
    return Parsed(values, reasons == "", reasons)


_TIME_SUFFIX = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})?"


def parse_timestamps(column: pd.Series, fmt: SourceFormat) -> Parsed:
    """Moments as naive-UTC datetime64[us]: the declared date format, optionally followed by a
    time (`HH:MM[:SS]`); ISO dates may carry `Z` or an offset, anything without one is UTC.
    Fiscal periods are not moments, so they are refused here."""
    text, typed = _split_typed(column)
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    reasons = np.full(len(text), "", dtype=object)
    blank = (text == "").to_numpy() & ~typed
    reasons[blank] = "the time is missing"
    if typed.any():
        raw = column[typed]
        is_time = raw.map(lambda v: isinstance(v, date | datetime | np.datetime64 | pd.Timestamp))
        converted = pd.to_datetime(raw.where(is_time), errors="coerce", utc=True).dt.tz_localize(None)
        values[typed] = converted.to_numpy().astype("datetime64[us]")
        reasons[np.flatnonzero(typed)[~is_time.to_numpy(dtype=bool)]] = "a date and time is expected here"
    textual = ~blank & ~typed
    if textual.any():
        cells = text[textual]
        idx = np.flatnonzero(textual)
        date_format = "iso" if fmt.date_format == "fiscal" else fmt.date_format
        pattern, strftime = _DATE_PATTERNS[date_format]
        offset = _OFFSET if date_format == "iso" else ""
        shaped = cells.str.fullmatch(pattern + _TIME_SUFFIX + offset).fillna(False).to_numpy(dtype=bool)
        if date_format == "iso":
            parsed = pd.to_datetime(cells.where(shaped, None), format="ISO8601", errors="coerce", utc=True)
        else:
            day_part = cells.str.extract(f"^({pattern})")[0]
            time_part = cells.str.replace(f"^{pattern}[ T]?", "", regex=True)
            moments = day_part.fillna("") + " " + time_part.where(time_part != "", "00:00")
            moments = moments.str.replace(r" (\d{1,2}:\d{2})$", r" \1:00", regex=True)
            parsed = pd.to_datetime(
                moments.where(shaped, None), format=f"{strftime} %H:%M:%S", errors="coerce", utc=True
            )
        converted = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        ok = shaped & ~np.isnat(converted)
        values[idx] = np.where(ok, converted, np.datetime64("NaT"))
        example = format_period(date(2025, 3, 31), fmt.with_(date_format=date_format))
        reasons[idx[~shaped]] = (
            f"not a time written as {DATE_FORMATS[date_format]} with an optional HH:MM[:SS], "
            f"e.g. {example} 14:05"
        )
        reasons[idx[shaped & ~ok]] = "no such calendar date or time"
    return Parsed(values, reasons == "", reasons)


def _eg(fmt: SourceFormat) -> str:
    return format_period(date(2025, 3, 1) if fmt.date_format == "fiscal" else date(2025, 3, 31), fmt)


def day(value: object) -> date:
    """A numpy, pandas or ISO-text day as a `date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return date.fromisoformat(str(value.astype("datetime64[D]")))
    return date.fromisoformat(str(value)[:10])


def period_start(days: np.ndarray, frequency: str) -> np.ndarray:
    """The first day of the period (Monday of the ISO week, first of the month) holding each day."""
    days = days.astype("datetime64[D]")
    if frequency == "week":
        # 1970-01-01 was a Thursday: shift by three days so weeks start on Monday.
        weekday = (days.astype("int64") + 3) % 7
        return days - weekday.astype("timedelta64[D]")
    if frequency == "month":
        return days.astype("datetime64[M]").astype("datetime64[D]")
    return days
