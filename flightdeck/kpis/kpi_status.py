"""A KPI's status in plain words: on track, at risk or off track against its thresholds and its
target trajectory (a straight line from baseline to target), over its latest 28 days of data (the
latest month for a monthly KPI), with the reasons and the money value of the gap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from flightdeck.core.db import Database
from flightdeck.core.formatting import format_delta, format_value
from flightdeck.kpis.series_reader import TOTAL, Reader
from flightdeck.orm import KpiRow

WINDOW_DAYS = 28
AT_RISK_SHARE = 0.10
OFF_TRACK_SHARE = 0.25


STATUS_RULE = (
    "Flightdeck averages the KPI over its latest 28 days of data (the latest month for a monthly "
    "KPI) and compares that with the thresholds and with the target trajectory, a straight line "
    "from the baseline to the target. **Off track**: past the critical threshold, or behind the "
    f"trajectory by more than {OFF_TRACK_SHARE:.0%} of the planned improvement. **At risk**: past "
    f"the warning threshold, or behind by more than {AT_RISK_SHARE:.0%}. **On track**: otherwise. "
    "A KPI with neither thresholds nor a baseline and target is not assessed."
)


STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data yet",
    "not_assessed": "Not assessed",
}


@dataclass(frozen=True)
class Status:
    kpi_id: int
    level: str
    current: float | None = None
    window: tuple[date, date] | None = None
    expected: float | None = None
    behind_share: float | None = None
    threshold: str | None = None  # None, "warning" or "critical"
    trajectory: str | None = None
    threshold_reason: str = ""
    trajectory_reason: str = ""
    note: str = ""
    gap_value_per_year: float | None = None  # (current − expected) × money value; + is ahead

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.level]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r for r in (self.threshold_reason, self.trajectory_reason, self.note) if r)


class Plan(Protocol):
    """What a trajectory needs: a KPI's row or its view."""

    baseline_value: float | None
    baseline_period: date | None
    target_value: float | None
    target_date: date | None


def expected_on(row: Plan, day: date) -> float | None:
    """The target trajectory: a straight line from baseline to target, flat beyond either end."""
    start, end = row.baseline_period, row.target_date
    if row.baseline_value is None or row.target_value is None or start is None or end is None:
        return None
    span = (end - start).days
    done = min(max((day - start).days, 0), span) / span
    return float(row.baseline_value + (row.target_value - row.baseline_value) * done)


def _past(row: KpiRow, value: float, threshold: float | None) -> bool:
    if threshold is None:
        return False
    return value <= threshold if row.direction == "up" else value >= threshold


def _threshold(row: KpiRow, current: float) -> tuple[str | None, str]:
    for level, limit in (("critical", row.critical_threshold), ("warning", row.warning_threshold)):
        if limit is not None and _past(row, current, limit):
            value, bound = format_value(current, row.unit), format_value(limit, row.unit)
            return level, f"{value} is past the {level} threshold {bound}."
    return None, ""


def _trajectory(row: KpiRow, current: float, expected: float) -> tuple[str | None, float | None, str]:
    planned = abs((row.target_value or 0) - (row.baseline_value or 0))
    ahead = (current - expected) * (1 if row.direction == "up" else -1)
    if planned == 0 or ahead >= 0:
        return None, None, ""
    share = -ahead / planned
    level = "critical" if share > OFF_TRACK_SHARE else "warning" if share > AT_RISK_SHARE else None
    reason = (
        f"{format_delta(-ahead, row.unit)} behind the target trajectory "
        f"({format_value(expected, row.unit)} expected by now), {share:.0%} of the planned improvement."
    )
    return level, share, reason if level else ""


def status_of(reader: Reader, kpi_id: int) -> Status:
    row = reader.kpi(kpi_id)
    end = reader.latest(kpi_id)
    if end is None:
        return Status(kpi_id, "no_data", note="No data has been loaded yet.")
    start = end if row.frequency == "month" else end - timedelta(days=WINDOW_DAYS - 1)
    points = reader.values(kpi_id, row.frequency, [TOTAL], start, end)[TOTAL]
    if not points:
        note = "Not assessed: observed only for segments (see them under Compare segments)."
        return Status(kpi_id, "not_assessed", note=note)
    current = float(np.mean(list(points.values())))
    window = (min(points), end)
    has_plan = expected_on(row, end) is not None
    if row.warning_threshold is None and row.critical_threshold is None and not has_plan:
        note = "Not assessed: set thresholds or a baseline and target."
        return Status(kpi_id, "not_assessed", current, window, note=note)
    threshold, threshold_reason = _threshold(row, current)
    expected = expected_on(row, window[0] + (window[1] - window[0]) / 2)
    trajectory = behind = gap_value = None
    trajectory_reason = ""
    if expected is not None:
        trajectory, behind, trajectory_reason = _trajectory(row, current, expected)
        if row.value_per_unit is not None:
            gap_value = (current - expected) * (1 if row.direction == "up" else -1) * row.value_per_unit
    rank = {None: 0, "warning": 1, "critical": 2}
    level = ("on_track", "at_risk", "off_track")[max(rank[threshold], rank[trajectory])]
    note = (
        f"{format_value(current, row.unit)} on average, within thresholds and on trajectory."
        if level == "on_track"
        else ""
    )
    return Status(
        kpi_id,
        level,
        current,
        window,
        expected,
        behind,
        threshold,
        trajectory,
        threshold_reason,
        trajectory_reason,
        note,
        gap_value,
    )


def statuses(db: Database, kpi_ids: Iterable[int]) -> dict[int, Status]:
    with db.read() as session:
        reader = Reader(session)
        return {kpi_id: status_of(reader, kpi_id) for kpi_id in kpi_ids}
