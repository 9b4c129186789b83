"""KPIs: what success means for a goal, in numbers, and the driver trees that explain them.

A KPI states its unit, which direction is good, how its values combine over time and across
segments (sum, mean or last), its baseline, target and money value, and the thresholds that
raise alerts. A KPI may have driver KPIs; a parent can be computed from its drivers (their sum or
mean, or the ratio of two of them) instead of being observed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from flightdeck import audit, monitoring, readiness
from flightdeck.auth import User, authorize
from flightdeck.context import KEY_PATTERN, actor_id, actor_name
from flightdeck.db import Database
from flightdeck.editing import check_version, save_edit
from flightdeck.errors import InvalidInput, NotFound, Problem
from flightdeck.goals import check_business_owner, hand_over
from flightdeck.orm import GoalRow, HierarchyRow, KpiRow, ObservationRow, UserRow
from flightdeck.orm.kpis import AGGREGATIONS, DIRECTIONS, FORMULAS, FREQUENCIES, SOURCES
from flightdeck.roles import Role
from flightdeck.users import COMMAND_LINE

__all__ = [
    "AGGREGATIONS",
    "DIRECTIONS",
    "FORMULAS",
    "FREQUENCIES",
    "SOURCES",
    "Kpi",
    "KpiDraft",
    "TreeNode",
    "create_kpi",
    "get_kpi",
    "get_kpi_by_key",
    "list_kpis",
    "tree",
    "update_kpi",
]

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
TEXT_LIMITS = {"name": 120, "definition": 4000, "unit": 32}
CURRENCY = re.compile(r"^[A-Z]{3}$")


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


def _values(row: KpiRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in EDITABLE}


def _query() -> Select[tuple[KpiRow, str | None]]:
    editor = aliased(UserRow, name="editor")
    return select(KpiRow, editor.display_name).outerjoin(editor, editor.id == KpiRow.updated_by_id)


def list_kpis(db: Database, goal_id: int | None = None) -> list[Kpi]:
    with db.read() as session:
        query = _query().order_by(KpiRow.goal_id, KpiRow.name)
        if goal_id is not None:
            query = query.where(KpiRow.goal_id == goal_id)
        return [view_of(row, editor or "") for row, editor in session.execute(query)]


def get_kpi(db: Database, kpi_id: int) -> Kpi:
    with db.read() as session:
        found = session.execute(_query().where(KpiRow.id == kpi_id)).one_or_none()
        if found is None:
            raise NotFound("KPI", kpi_id)
        return view_of(found[0], found[1] or "")


def get_kpi_by_key(db: Database, key: str) -> Kpi:
    with db.read() as session:
        found = session.execute(_query().where(KpiRow.key == key.strip())).one_or_none()
        if found is None:
            raise NotFound("KPI", key)
        return view_of(found[0], found[1] or "")


def load(session: Session, kpi_id: int) -> KpiRow:
    row = session.get(KpiRow, kpi_id)
    if row is None:
        raise NotFound("KPI", kpi_id)
    return row


# -- trees -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeNode:
    kpi: Kpi
    depth: int
    children: tuple[TreeNode, ...] = field(default_factory=tuple)

    def walk(self) -> Iterable[TreeNode]:
        yield self
        for child in self.children:
            yield from child.walk()


def tree(kpis: Iterable[Kpi]) -> list[TreeNode]:
    """The driver trees among `kpis`, roots first, each level by name."""
    items = list(kpis)
    by_parent: dict[int | None, list[Kpi]] = {}
    ids = {k.id for k in items}
    for kpi in items:
        by_parent.setdefault(kpi.parent_id if kpi.parent_id in ids else None, []).append(kpi)

    def build(kpi: Kpi, depth: int) -> TreeNode:
        children = sorted(by_parent.get(kpi.id, []), key=lambda k: k.name)
        return TreeNode(kpi, depth, tuple(build(c, depth + 1) for c in children))

    return [build(k, 0) for k in sorted(by_parent.get(None, []), key=lambda k: (k.goal_title, k.name))]


def drivers(kpis: Iterable[Kpi], kpi: Kpi) -> list[Kpi]:
    return sorted((k for k in kpis if k.parent_id == kpi.id), key=lambda k: k.name)


def ancestors(session: Session, kpi_id: int) -> list[int]:
    """The chain of parents above a KPI, nearest first."""
    chain: list[int] = []
    parent = session.scalar(select(KpiRow.parent_id).where(KpiRow.id == kpi_id))
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = session.scalar(select(KpiRow.parent_id).where(KpiRow.id == parent))
    return chain


# -- validation --------------------------------------------------------------------------------


def _choice(problems: list[Problem], name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        problems.append(
            Problem(name, f"{name.replace('_', ' ').capitalize()} must be one of: {', '.join(options)}.")
        )


def _clean(draft: KpiDraft) -> KpiDraft:
    """The draft's own rules, each problem naming its field; relations are checked in `_relations`."""
    problems: list[Problem] = []
    text = {name: str(getattr(draft, name) or "").strip() for name in TEXT_LIMITS}
    key = draft.key.strip()
    if not KEY_PATTERN.match(key):
        problems.append(
            Problem(
                "key",
                "Key must be snake_case: a lower-case letter, then letters, digits or '_' (at most 64).",
            )
        )
    for name, limit in TEXT_LIMITS.items():
        if len(text[name]) > limit:
            problems.append(Problem(name, f"{name.capitalize()} must be at most {limit} characters."))
    if not text["name"]:
        problems.append(Problem("name", "Name is required."))
    if not text["unit"]:
        problems.append(Problem("unit", "Unit is required (e.g. %, EUR, members, invoices)."))
    _choice(problems, "direction", draft.direction, DIRECTIONS)
    _choice(problems, "aggregation", draft.aggregation, AGGREGATIONS)
    _choice(problems, "frequency", draft.frequency, FREQUENCIES)
    _choice(problems, "formula", draft.formula, FORMULAS)
    _choice(problems, "source", draft.source, SOURCES)
    currency = draft.currency.strip().upper()
    if not CURRENCY.match(currency):
        problems.append(Problem("currency", "Currency must be a three-letter ISO code such as EUR."))
    if (draft.baseline_value is None) != (draft.baseline_period is None):
        problems.append(Problem("baseline_value", "State the baseline with both its value and its period."))
    if (draft.target_value is None) != (draft.target_date is None):
        problems.append(Problem("target_value", "State the target with both its value and its date."))
    if draft.baseline_period and draft.target_date and draft.target_date <= draft.baseline_period:
        problems.append(Problem("target_date", "The target date must come after the baseline period."))
    up = draft.direction == "up"
    if draft.baseline_value is not None and draft.target_value is not None:
        worse = draft.target_value < draft.baseline_value if up else draft.target_value > draft.baseline_value
        if worse:
            problems.append(
                Problem(
                    "target_value",
                    f"A target of {draft.target_value:g} is worse than the baseline {draft.baseline_value:g} "
                    f"for a KPI where {'up' if up else 'down'} is good.",
                )
            )
    if draft.warning_threshold is not None and draft.critical_threshold is not None:
        w, c = draft.warning_threshold, draft.critical_threshold
        if (up and c > w) or (not up and c < w):
            side = "below" if up else "above"
            problems.append(
                Problem(
                    "critical_threshold",
                    f"The critical threshold must lie beyond the warning one ({side} it, since "
                    f"{'up' if up else 'down'} is good).",
                )
            )
    if draft.value_per_unit is not None and draft.value_per_unit < 0:
        problems.append(Problem("value_per_unit", "The money value of an improvement cannot be negative."))
    if draft.formula == "ratio":
        if draft.ratio_scale is None or draft.ratio_scale <= 0:
            problems.append(
                Problem("ratio_scale", "The ratio's scale must be positive (100 for a percentage).")
            )
        if not draft.numerator_id or not draft.denominator_id:
            problems.append(Problem("numerator_id", "A ratio needs a numerator and a denominator driver."))
        elif draft.numerator_id == draft.denominator_id:
            problems.append(Problem("denominator_id", "Numerator and denominator must be different drivers."))
    if problems:
        raise InvalidInput(problems)
    ratio = draft.formula == "ratio"
    return KpiDraft(
        **{
            **{name: getattr(draft, name) for name in EDITABLE},
            "key": key,
            **text,
            "currency": currency,
            "numerator_id": draft.numerator_id if ratio else None,
            "denominator_id": draft.denominator_id if ratio else None,
            "ratio_scale": float(draft.ratio_scale) if ratio else 1.0,
            "source": "manual" if draft.formula != "none" else draft.source,
        }
    )


def _relations(session: Session, row: KpiRow, clean: KpiDraft) -> None:
    """Rules that depend on other KPIs: the tree stays a tree within one goal, and a computed KPI
    is computed from drivers it has, with the same frequency and hierarchy."""
    problems: list[Problem] = []
    if clean.hierarchy_id is not None and session.get(HierarchyRow, clean.hierarchy_id) is None:
        problems.append(Problem("hierarchy_id", f"Hierarchy {clean.hierarchy_id} does not exist."))
    if clean.parent_id is not None:
        parent = session.get(KpiRow, clean.parent_id)
        if parent is None or parent.goal_id != row.goal_id:
            problems.append(Problem("parent_id", "The parent must be a KPI of the same goal."))
        elif row.id is not None and (parent.id == row.id or row.id in ancestors(session, parent.id)):
            problems.append(
                Problem("parent_id", f"'{parent.name}' is a driver of this KPI; a tree has no loops.")
            )
    if row.id is not None and row.parent_id is not None and row.parent_id != clean.parent_id:
        old = session.get(KpiRow, row.parent_id)
        if old is not None and row.id in _inputs(session, old):
            problems.append(
                Problem("parent_id", f"'{old.name}' is computed from this KPI; change its formula first.")
            )
    if clean.formula != "none":
        children = session.scalars(select(KpiRow).where(KpiRow.parent_id == row.id)).all() if row.id else []
        if not children:
            problems.append(
                Problem("formula", "A KPI is computed from drivers it already has: add its drivers first.")
            )
        child_ids = {c.id for c in children}
        if clean.formula == "ratio" and not {clean.numerator_id, clean.denominator_id} <= child_ids:
            problems.append(Problem("numerator_id", "Numerator and denominator must be drivers of this KPI."))
        ratio_inputs = {clean.numerator_id, clean.denominator_id}
        for child in children if clean.formula != "ratio" else [c for c in children if c.id in ratio_inputs]:
            if child.frequency != clean.frequency or child.hierarchy_id != clean.hierarchy_id:
                problems.append(
                    Problem(
                        "formula",
                        f"Driver '{child.name}' must have the same frequency and hierarchy as the KPI "
                        "computed from it.",
                    )
                )
        if row.id is not None and session.scalar(
            select(ObservationRow.kpi_id).where(ObservationRow.kpi_id == row.id).limit(1)
        ):
            problems.append(
                Problem(
                    "formula",
                    "This KPI has observations of its own; a computed KPI has none, so keep it observed.",
                )
            )
    if problems:
        raise InvalidInput(problems)


def _inputs(session: Session, row: KpiRow) -> set[int]:
    """The drivers a computed KPI is computed from (none for an observed KPI)."""
    if row.formula == "ratio":
        return {i for i in (row.numerator_id, row.denominator_id) if i is not None}
    if row.formula in ("sum", "mean"):
        return set(session.scalars(select(KpiRow.id).where(KpiRow.parent_id == row.id)))
    return set()


def _owner(session: Session, actor: User | None, goal: GoalRow, requested: int | None) -> int:
    """A business owner owns the KPIs they define; an admin names the owner (the goal's by default)."""
    if actor is not None and not actor.has(Role.ADMIN):
        return actor.id
    return check_business_owner(session, requested or goal.owner_id)


def _key_taken(session: Session, key: str, kpi_id: int | None) -> bool:
    found = session.scalar(select(KpiRow.id).where(KpiRow.key == key))
    return found is not None and found != kpi_id


def _apply(row: KpiRow, clean: KpiDraft) -> None:
    for name in EDITABLE:
        if name != "owner_id":
            setattr(row, name, getattr(clean, name))


@dataclass(frozen=True)
class _OwnedBy:
    owner_ids: frozenset[int]


def create_kpi(db: Database, actor: User | None, goal_id: int, draft: KpiDraft) -> Kpi:
    """Owners define KPIs on their own goals, admins on any."""
    with db.transaction() as session:
        goal = session.get(GoalRow, goal_id)
        if goal is None:
            raise NotFound("Goal", goal_id)
        if actor is not None:
            authorize(actor, "kpi.create", _OwnedBy(frozenset({goal.owner_id})), entity=f"goal {goal_id}")
        clean = _clean(draft)
        if _key_taken(session, clean.key, None):
            raise InvalidInput(Problem("key", f"A KPI with key '{clean.key}' exists already."))
        row = KpiRow(goal_id=goal_id, goal=goal, owner_id=_owner(session, actor, goal, clean.owner_id))
        _relations(session, row, clean)
        _apply(row, clean)
        row.updated_by_id = actor_id(actor)
        session.add(row)
        session.flush()
        audit.record(
            session,
            by=actor,
            actor_name=COMMAND_LINE,
            action="kpi.create",
            entity_type="kpi",
            entity_id=row.id,
            after={**_values(row), "goal_id": goal_id},
        )
        session.refresh(row)
        return view_of(row, actor_name(actor))


def update_kpi(db: Database, actor: User, kpi_id: int, expected_version: int, draft: KpiDraft) -> Kpi:
    """Owners (of the KPI or its goal) edit it, admins any; only an admin reassigns the owner.
    Alerts are re-checked in the same transaction, since thresholds and targets may have moved."""
    with db.transaction() as session:
        row = load(session, kpi_id)
        authorize(actor, "kpi.edit", view_of(row), entity=f"kpi {row.key}")
        check_version(session, row, expected_version, "KPI")
        clean = _clean(draft)
        if _key_taken(session, clean.key, kpi_id):
            raise InvalidInput(Problem("key", f"A KPI with key '{clean.key}' exists already."))
        _relations(session, row, clean)
        before = _values(row)
        _apply(row, clean)
        hand_over(session, actor, row, clean.owner_id)
        save_edit(session, actor, row, "KPI", "kpi.update", "kpi", before, lambda: _values(row))
        monitoring.evaluate_alerts(session, [row.id])
        readiness.refresh(session, readiness.versions_of(session, goal_id=row.goal_id), "KPI edited")
        session.refresh(row)
        return view_of(row, actor.display_name)


def observation_count(db: Database, kpi_id: int) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).where(ObservationRow.kpi_id == kpi_id)) or 0
