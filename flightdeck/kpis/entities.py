"""What a KPI is, as services hand it across the boundary: the frozen `Kpi` view, the `KpiDraft` a
form or the command line fills in, and the words for its coded settings."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from flightdeck.orm import KpiRow

LABELS = {
    "up": "Up is good",
    "down": "Down is good",
    "sum": "Sum",
    "mean": "Mean",
    "last": "Last value",
    "none": "Observed (loaded from data)",
    "ratio": "Ratio of two drivers",
    "day": "Daily",
    "week": "Weekly",
    "month": "Monthly",
    "upload": "File upload",
    "sql": "SQL source",
    "manual": "Entered by hand",
}


FORMULA_LABELS = {
    "none": LABELS["none"],
    "sum": "Sum of its drivers",
    "mean": "Mean of its drivers",
    "ratio": LABELS["ratio"],
}


@dataclass(frozen=True)
class Kpi:
    id: int
    key: str
    name: str
    goal_id: int
    goal_title: str
    goal_owner_id: int
    parent_id: int | None
    definition: str
    unit: str
    direction: str
    aggregation: str
    formula: str
    numerator_id: int | None
    denominator_id: int | None
    ratio_scale: float
    frequency: str
    baseline_value: float | None
    baseline_period: date | None
    target_value: float | None
    target_date: date | None
    value_per_unit: float | None
    currency: str
    warning_threshold: float | None
    critical_threshold: float | None
    owner_id: int
    owner_name: str
    hierarchy_id: int | None
    source: str
    version: int
    updated_at: datetime
    updated_by_name: str = ""

    @property
    def owner_ids(self) -> frozenset[int]:
        """The KPI's owner and its goal's owner both keep it."""
        return frozenset({self.owner_id, self.goal_owner_id})

    @property
    def is_computed(self) -> bool:
        return self.formula != "none"

    @property
    def up_is_good(self) -> bool:
        return self.direction == "up"

    def axis_label(self) -> str:
        return f"{self.name} ({self.unit})"


@dataclass(frozen=True)
class KpiDraft:
    key: str
    name: str
    unit: str
    direction: str = "up"
    aggregation: str = "mean"
    frequency: str = "day"
    definition: str = ""
    parent_id: int | None = None
    formula: str = "none"
    numerator_id: int | None = None
    denominator_id: int | None = None
    ratio_scale: float = 1.0
    baseline_value: float | None = None
    baseline_period: date | None = None
    target_value: float | None = None
    target_date: date | None = None
    value_per_unit: float | None = None
    currency: str = "EUR"
    warning_threshold: float | None = None
    critical_threshold: float | None = None
    hierarchy_id: int | None = None
    source: str = "upload"
    owner_id: int | None = None

    @classmethod
    def of(cls, kpi: Kpi, **changes: object) -> KpiDraft:
        """A draft holding `kpi` as it is, with `changes` applied: what an edit form starts from."""
        values = {f.name: getattr(kpi, f.name) for f in fields(cls)}
        return cls(**{**values, **changes})  # type: ignore[arg-type]


EDITABLE = tuple(f.name for f in fields(KpiDraft))


def view_of(row: KpiRow, editor: str = "") -> Kpi:
    return Kpi(
        id=row.id,
        key=row.key,
        name=row.name,
        goal_id=row.goal_id,
        goal_title=row.goal.title,
        goal_owner_id=row.goal.owner_id,
        parent_id=row.parent_id,
        definition=row.definition,
        unit=row.unit,
        direction=row.direction,
        aggregation=row.aggregation,
        formula=row.formula,
        numerator_id=row.numerator_id,
        denominator_id=row.denominator_id,
        ratio_scale=row.ratio_scale,
        frequency=row.frequency,
        baseline_value=row.baseline_value,
        baseline_period=row.baseline_period,
        target_value=row.target_value,
        target_date=row.target_date,
        value_per_unit=row.value_per_unit,
        currency=row.currency,
        warning_threshold=row.warning_threshold,
        critical_threshold=row.critical_threshold,
        owner_id=row.owner_id,
        owner_name=row.owner.display_name,
        hierarchy_id=row.hierarchy_id,
        source=row.source,
        version=row.version,
        updated_at=row.updated_at,
        updated_by_name=editor,
    )
