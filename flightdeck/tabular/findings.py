"""Row-level reports for every tabular upload (KPI data, holdouts, training samples, prediction
logs, outcomes): the problems found are collected per check, reported with row, column, value and
reason, and downloadable as CSV. Nothing is stored while any remains."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.tabular import formats
from flightdeck.tabular.exports import csv_bytes

REPORT_COLUMNS = ["row", "column", "value", "reason"]


class Rejected(InvalidInput):
    """Some rows are bad: nothing was stored. `problems` holds up to MAX_PROBLEMS of them."""

    def __init__(self, problems: list[Problem], total_problems: int, rows: int) -> None:
        super().__init__(problems)
        self.total_problems = total_problems
        self.rows = rows

    def summary(self) -> str:
        shown = (
            ""
            if self.total_problems <= len(self.problems)
            else f" (the first {len(self.problems):,} are listed)"
        )
        return (
            f"{self.total_problems:,} problem(s) in {self.rows:,} rows{shown}. Nothing was loaded: "
            "fix the rows below (or the declared format) and load the file again."
        )

    def report_csv(self) -> bytes:
        return problems_csv(self.problems)


def problems_csv(problems: list[Problem]) -> bytes:
    return csv_bytes(REPORT_COLUMNS, ([p.row, p.field, p.value, p.message] for p in problems))


def _cell(value: object) -> str:
    """A cell as the report shows it; whole numbers from Excel lose their '.0' (store 101)."""
    if formats.is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_texts(column: pd.Series) -> pd.Series:
    """A column's cells as stripped text ('' for blanks), as the error report shows them."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.fillna("").str.strip()
    return column.map(_cell).astype("str")


@dataclass
class Findings:
    """Bad cells found so far, one entry per check. Every tabular upload (KPI data, model holdouts,
    prediction logs and outcomes) collects its problems here and reports them the same way."""

    frame: pd.DataFrame
    rows: np.ndarray
    checks: list[tuple[np.ndarray, str, np.ndarray | str]]

    def add(self, mask: np.ndarray, column: str, reasons: np.ndarray | str) -> None:
        if mask.any():
            self.checks.append((mask, column, reasons))

    def bad(self) -> np.ndarray:
        found = np.zeros(len(self.frame), dtype=bool)
        for mask, *_ in self.checks:
            found |= mask
        return found

    def reject_if_any(self) -> None:
        order = {column: i for i, column in enumerate(self.frame.columns)}
        listed: list[tuple[int, int, Problem]] = []
        total = 0
        for mask, column, reasons in self.checks:
            hits = np.flatnonzero(mask)
            total += len(hits)
            cells = self.frame[column].iloc[hits[: formats.MAX_PROBLEMS]]
            for i, cell in zip(hits[: formats.MAX_PROBLEMS], cells, strict=False):
                reason = reasons if isinstance(reasons, str) else str(reasons[i])
                number = int(self.rows[i])
                listed.append((number, order[column], Problem(column, reason, number, _cell(cell)[:200])))
        if total:
            listed.sort(key=lambda item: (item[0], item[1]))
            raise Rejected([p for *_, p in listed[: formats.MAX_PROBLEMS]], total, len(self.frame))
