"""Checking the rows of a KPI load: which file columns hold the period, value, segment and unit
(guessed from their names, confirmed by the user), then every row against the declared format, the
KPI's unit and hierarchy and the calendar. All problems are reported at once (row, column, value,
reason); nothing is stored while any remains."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from flightdeck.business.hierarchies import EXPERIMENT_ARMS, hierarchy_of
from flightdeck.core.clock import utcnow
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.orm import KpiRow
from flightdeck.tabular import formats
from flightdeck.tabular.findings import Findings, cell_texts
from flightdeck.tabular.formats import SourceFormat, period_start

GUESSES = {
    "period": ("period", "date", "datum", "day", "periode", "fiscal_period", "posting_date", "month", "week"),
    "value": ("value", "wert", "amount", "betrag", "kpi_value", "measure", "rate"),
    "segment": ("segment", "store", "store_code", "filiale", "region", "region_code", "arm", "group"),
    "unit": ("unit", "currency", "waehrung", "währung", "einheit", "uom"),
}


@dataclass(frozen=True)
class ColumnMapping:
    period: str
    value: str
    segment: str = ""
    unit: str = ""

    def used(self) -> dict[str, str]:
        return {role: column for role, column in vars(self).items() if column}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9äöü]+", "_", name.strip().lower()).strip("_")


def suggest_mapping(columns: list[str]) -> ColumnMapping:
    """A first guess from the column names; the user confirms or changes it."""
    chosen: dict[str, str] = {}
    for role, names in GUESSES.items():
        for column in columns:
            if column not in chosen.values() and (
                _norm(column) in names or any(_norm(column).startswith(n) for n in names)
            ):
                chosen[role] = column
                break
    rest = [c for c in columns if c not in chosen.values()]
    period = chosen.get("period") or (columns[0] if columns else "")
    value = chosen.get("value") or (rest[-1] if rest else "")
    return ColumnMapping(period, value, chosen.get("segment", ""), chosen.get("unit", ""))


# -- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validated:
    """Clean rows: periods already at the start of the KPI's period."""

    periods: np.ndarray  # datetime64[D]
    segments: pd.Categorical
    values: np.ndarray  # float64
    rows: int


def _named(name: str, path: str) -> str:
    return f"'{name}'" if name == path else f"'{name}' ({path})"


def _segment_rule(session: Session, row: KpiRow) -> tuple[set[str], str]:
    hierarchy = hierarchy_of(session, row.hierarchy_id) if row.hierarchy_id else None
    if hierarchy is None:
        return {"", *EXPERIMENT_ARMS}, (
            "this KPI has no hierarchy, so a segment may only be blank (the whole business) or an "
            "experiment arm (treatment, control)"
        )
    return {"", *EXPERIMENT_ARMS, *(n.code for n in hierarchy.nodes)}, (
        f"not a code of the hierarchy {_named(hierarchy.name, hierarchy.path)} nor an experiment arm "
        "(treatment, control)"
    )


def validate(
    session: Session,
    row: KpiRow,
    frame: pd.DataFrame,
    rows: np.ndarray,
    mapping: ColumnMapping,
    fmt: SourceFormat,
) -> Validated:
    """Check every row; raise `Rejected` with every problem (row, column, value, reason) if any."""
    used = mapping.used()
    missing = [c for c in used.values() if c not in frame.columns]
    if missing or not mapping.period or not mapping.value:
        absent = ", ".join(missing) or "a choice"
        raise InvalidInput(
            Problem("mapping", f"Map the period and value columns to columns of the file ({absent}).")
        )
    if len(set(used.values())) < len(used):
        raise InvalidInput(Problem("mapping", "Map each column to one role only."))
    if frame.empty:
        raise InvalidInput(Problem("file", "The file has a header but no rows of data."))
    n = len(frame)
    findings = Findings(frame, rows, [])

    periods = formats.parse_periods(frame[mapping.period], fmt)
    findings.add(~periods.ok, mapping.period, periods.reasons)
    values = formats.parse_numbers(frame[mapping.value], fmt)
    findings.add(~values.ok, mapping.value, values.reasons)
    today = np.datetime64(utcnow().date(), "D")
    findings.add(periods.ok & (periods.values > today), mapping.period, "the period lies in the future")

    segments = pd.Series("", index=frame.index, dtype="str")
    if mapping.segment:
        cells = cell_texts(frame[mapping.segment])
        lowered = cells.str.lower()
        segments = cells.where(~lowered.isin(EXPERIMENT_ARMS), lowered)
        allowed, hint = _segment_rule(session, row)
        findings.add(~segments.isin(allowed).to_numpy(dtype=bool), mapping.segment, hint)
    if mapping.unit:
        units = cell_texts(frame[mapping.unit]).str.casefold()
        reason = f"the unit differs from the KPI's unit '{row.unit}'"
        findings.add((units != row.unit.casefold()).to_numpy(dtype=bool), mapping.unit, reason)

    starts = period_start(periods.values, row.frequency)
    clean = ~findings.bad()
    categories = pd.Categorical(segments)
    keys = pd.DataFrame({"p": starts, "s": categories.codes, "r": rows})[clean]
    repeated = keys.duplicated(["p", "s"], keep="first")
    if repeated.any():
        first = keys.groupby(["p", "s"])["r"].transform("first")[repeated]
        duplicate = np.zeros(n, dtype=bool)
        duplicate[keys.index[repeated]] = True
        reasons = np.full(n, "", dtype=object)
        reasons[keys.index[repeated]] = [
            f"row {int(r)} already has a value for the same {row.frequency} and segment" for r in first
        ]
        findings.add(duplicate, mapping.period, reasons)
    findings.reject_if_any()
    return Validated(starts, categories, values.values, n)
