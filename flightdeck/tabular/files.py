"""Reading CSV and Excel files as business systems write them: the encoding (UTF-8, with or
without a byte-order mark, or Latin-1) and delimiter detected or declared, every cell kept as text
for the parsers, and a malformed line reported with its number instead of a parser's traceback."""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.tabular.formats import ENCODINGS, SourceFormat, is_blank

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Table:
    """A file's cells with the spreadsheet row number of each (the header is row 1)."""

    frame: pd.DataFrame
    rows: np.ndarray
    encoding: str
    delimiter: str
    kind: str  # "csv" or "excel"

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def is_excel(file_name: str, data: bytes) -> bool:
    return file_name.lower().endswith(EXCEL_SUFFIXES) or data[:4] == b"PK\x03\x04"


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """The text and the encoding used. `auto`: a BOM means UTF-8-BOM; valid UTF-8 is UTF-8;
    anything else is read as Latin-1 (which never fails, so the preview shows what it means)."""
    if encoding == "auto":
        if data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        else:
            try:
                return data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                return data.decode("latin-1"), "latin-1"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput(
            Problem(
                "encoding",
                f"The file is not valid {ENCODINGS[encoding]}: byte 0x{data[error.start]:02x} on line "
                f"{line}. "
                "Declare the encoding the source uses (often Latin-1 for older exports).",
                row=line,
            )
        ) from None


def sniff_delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=";,\t").delimiter
    except csv.Error:
        first = head.splitlines()[0] if head else ""
        return max((";", ",", "\t"), key=first.count)


def _bad_line(message: str) -> Problem:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        expected, line, saw = (int(g) for g in found.groups())
        return Problem(
            "file",
            f"Line {line} has {saw} fields where the header has {expected}: check the delimiter and quoting.",
            row=line,
        )
    return Problem("file", f"The file cannot be read as CSV: {message.strip()[:200]}")


def read_table(data: bytes, file_name: str, fmt: SourceFormat, nrows: int | None = None) -> Table:
    """Every cell of a CSV file as text, or of the first Excel sheet as typed; blank rows kept
    in the numbering (a spreadsheet counts them) and dropped from the cells."""
    if not data.strip():
        raise InvalidInput(Problem("file", f"The file '{file_name}' is empty."))
    if is_excel(file_name, data):
        return _read_excel(data, nrows)
    text, encoding = decode(data, fmt.encoding)
    delimiter = sniff_delimiter(text) if fmt.delimiter == "auto" else fmt.delimiter
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=delimiter), [])
    try:
        with warnings.catch_warnings():
            # With index_col=False pandas would drop a first row's extra fields with a warning.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype="str",
                keep_default_na=False,
                na_values=[],
                skip_blank_lines=False,
                index_col=False,
                nrows=nrows,
                engine="c",
            )
    except pd.errors.EmptyDataError:
        raise InvalidInput(Problem("file", f"The file '{file_name}' has no header row.")) from None
    except pd.errors.ParserError as error:
        raise InvalidInput(_bad_line(str(error))) from None
    except pd.errors.ParserWarning:
        raise InvalidInput(_too_many_fields(2, len(header))) from None
    return _table(frame, header, encoding, delimiter, "csv")


def _too_many_fields(line: int, expected: int) -> Problem:
    return Problem(
        "file",
        f"Line {line} has more fields than the header's {expected}: check the delimiter and quoting.",
        row=line,
    )


def _read_excel(data: bytes, nrows: int | None) -> Table:
    try:
        workbook = io.BytesIO(data)
        header = pd.read_excel(workbook, sheet_name=0, header=None, nrows=1, dtype=object).iloc[0].tolist()
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, nrows=nrows, engine="openpyxl")
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise InvalidInput(
            Problem("file", f"The file cannot be read as an Excel workbook: {error}")
        ) from None
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    return _table(frame, ["" if is_blank(h) else str(h) for h in header], "", "", "excel")


def _table(frame: pd.DataFrame, header: list[str], encoding: str, delimiter: str, kind: str) -> Table:
    """Check the header as written (pandas renames a repeated 'a' to 'a.1'), drop empty unnamed
    columns (a trailing delimiter), and number the rows as a spreadsheet does."""
    names = [str(h).strip() for h in header]
    if len(names) != len(frame.columns):
        names = [str(c).strip() for c in frame.columns]
    keep = [
        bool(name) or not _blank_cells(frame[column]).all()
        for name, column in zip(names, frame.columns, strict=True)
    ]
    problems = []
    if not all(bool(name) for name, kept in zip(names, keep, strict=True) if kept):
        problems.append(Problem("file", "A column with values has no name in the header row."))
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        problems.append(Problem("file", f"The column '{name}' appears twice in the header row."))
    if problems:
        raise InvalidInput(problems)
    frame = frame.loc[:, keep]
    frame.columns = [n for n, kept in zip(names, keep, strict=True) if kept]
    rows = np.arange(2, len(frame) + 2)
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        blank &= _blank_cells(frame[name])
    if blank.any():
        frame, rows = frame[~blank].reset_index(drop=True), rows[~blank]
    return Table(frame, rows, encoding, delimiter, kind)


def _blank_cells(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return (column.fillna("").str.strip() == "").to_numpy(dtype=bool)
    return column.map(lambda v: is_blank(v) or (isinstance(v, str) and not v.strip())).to_numpy(dtype=bool)
