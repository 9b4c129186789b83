"""The rules a KPI definition must satisfy: its own fields (`clean_draft`, every problem at once,
each naming its field) and its relations to other KPIs (`check_relations`: the tree stays a tree
within one goal, a computed KPI is computed from drivers it has)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.keys import KEY_PATTERN
from flightdeck.kpis.entities import EDITABLE, KpiDraft
from flightdeck.kpis.tree import ancestors
from flightdeck.orm import HierarchyRow, KpiRow, ObservationRow
from flightdeck.orm.kpis import AGGREGATIONS, DIRECTIONS, FORMULAS, FREQUENCIES, SOURCES

TEXT_LIMITS = {"name": 120, "definition": 4000, "unit": 32}
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _choice(problems: list[Problem], name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        problems.append(
            Problem(name, f"{name.replace('_', ' ').capitalize()} must be one of: {', '.join(options)}.")
        )


def clean_draft(draft: KpiDraft) -> KpiDraft:
    """The draft's own rules, each problem naming its field; relations are checked in `check_relations`."""
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


def check_relations(session: Session, row: KpiRow, clean: KpiDraft) -> None:
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
