"""Business impact of models in production: is the model moving its KPIs, by how much, and what is
that worth (docs/methods.md, "Business impact")? The statistics live in `with_control`,
`counterfactual` and `valuation`; this module finds their inputs.

For each KPI a production model is attached to:
- go-live is the start of the model's first deployment; later deployments are version changes;
- a KPI observed for the experiment arms `treatment` and `control` is compared arm against arm
  (difference-in-differences when both arms have data before go-live). Arm sizes come from a
  driver KPI observed for both arms with aggregation `last` (members per arm, say), checked for
  a sample-ratio mismatch against a planned 50/50 split;
- otherwise a counterfactual is projected from before go-live. When the deployment's scope names a
  top-level node of the KPI's hierarchy (a pilot in "region North (N)"), the pilot node's series
  is the actual and the mean of its sibling nodes, which the model does not serve, is a covariate;
  else the whole business's series is the actual.
- money is the average effect × the KPI's money value per unit, next to the goal's expected value
  (the KPI's planned improvement, target − baseline, × its value per unit).

Series are read from the roll-ups through the KPI series reader (one index range per node), so
the cost does not grow with the number of observations behind each period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.business.hierarchies import EXPERIMENT_ARMS
from flightdeck.core.db import Database, get_or_raise
from flightdeck.impact import counterfactual, valuation, with_control
from flightdeck.impact.estimates import (
    ControlImpact,
    CounterfactualImpact,
    MoneyImpact,
    NotEnoughData,
    Verdict,
)
from flightdeck.kpis import series_reader
from flightdeck.orm import DeploymentRow, IngestBatchRow, KpiRow, ModelKpiRow, ModelRow, ModelVersionRow

PLANNED_TREATMENT_SHARE = 0.5
CHECKPOINTS = 26  # points of the cumulative chart for a control-group comparison
PERIODS_PER_YEAR = {"day": 365.25, "week": 365.25 / 7, "month": 12.0}
Result = ControlImpact | CounterfactualImpact | NotEnoughData


@dataclass(frozen=True)
class VersionChange:
    day: date
    version_number: int
    scope: str


@dataclass(frozen=True)
class KpiImpact:
    """One KPI of one production model. `series` holds the chart's lines per period (treatment and
    control, or actual and expected with its band); `cumulative` the effect to date per period with
    its 95% interval, in `cumulative_unit` (money when the KPI has a value per unit)."""

    model_id: int
    model_name: str
    goal_id: int
    goal_title: str
    kpi_id: int
    kpi_name: str
    unit: str
    direction: str
    frequency: str
    currency: str
    go_live: date | None
    changes: tuple[VersionChange, ...]
    design: str  # "control group", "counterfactual" or "not in production"
    segment: str  # what is measured: "treatment", a hierarchy node, or "" (the whole business)
    segment_label: str  # the same in words: "the treatment arm", "North", "the whole business"
    comparison: str  # in words: what stands for "without the model"
    result: Result | None
    money: MoneyImpact | None
    expected_per_year: float | None
    cumulative_unit: str
    series: pd.DataFrame = field(repr=False, compare=False)
    cumulative: pd.DataFrame = field(repr=False, compare=False)

    @property
    def verdict(self) -> Verdict | None:
        return self.result.verdict if isinstance(self.result, ControlImpact | CounterfactualImpact) else None

    @property
    def days_since_go_live(self) -> int | None:
        if self.go_live is None or self.series.empty:
            return None
        return int((self.series["period"].max().date() - self.go_live).days) + 1

    @property
    def money_note(self) -> str:
        """What the money figure assumes, for the method expander."""
        if self.money is None:
            return ""
        scope = (
            f" It is measured on {self.segment_label}, so for a part of the business it is the value of the "
            "effect if it held for the whole KPI (as a roll-out would)."
            if self.segment
            else ""
        )
        return (
            f"Money is the average effect × the KPI's value per unit (what a one-unit improvement "
            f"sustained for a year is worth), with the same 95% interval.{scope}"
        )

    @property
    def sentence(self) -> str:
        """The verdict in plain words, with the interval and, where known, the money."""
        if self.result is None:
            return f"{self.model_name} is not in production: there is no go-live to measure from."
        text = self.result.summary
        if self.money is not None:
            text += " " + self.money.summary
        return text


@dataclass(frozen=True)
class GoalImpact:
    goal_id: int
    goal_title: str
    kpis: tuple[KpiImpact, ...]
    money: MoneyImpact | None  # the KPIs with money added up (one currency)


@dataclass(frozen=True)
class Portfolio:
    goals: tuple[GoalImpact, ...]
    money: MoneyImpact | None


def _frame(points: dict[date, float], name: str) -> pd.Series:
    return pd.Series(list(points.values()), index=pd.DatetimeIndex(list(points)), name=name, dtype=float)


def _changes(session: Session, model_id: int) -> tuple[VersionChange, ...]:
    rows = session.execute(
        select(DeploymentRow.started_at, ModelVersionRow.number, DeploymentRow.scope)
        .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
        .where(DeploymentRow.model_id == model_id)
        .order_by(DeploymentRow.started_at, DeploymentRow.id)
    ).all()
    return tuple(VersionChange(started.date(), number, scope) for started, number, scope in rows)


def _pilot_node(reader: series_reader.Reader, kpi_id: int, scope: str) -> tuple[str, list[str]]:
    """The top-level node a scope names, by its code in parentheses or its label as a word, and its
    siblings; ('', []) when the scope names none (or several)."""
    hierarchy = reader.hierarchy(kpi_id)
    if hierarchy is None or not scope:
        return "", []
    top = hierarchy.children(None)
    named = [
        n.code
        for n in top
        if f"({n.code})" in scope or re.search(rf"\b{re.escape(n.label)}\b", scope, flags=re.IGNORECASE)
    ]
    if len(named) != 1:
        return "", []
    return named[0], [n.code for n in top if n.code != named[0]]


def _arm_sizes(
    session: Session, reader: series_reader.Reader, kpi_id: int, end: date
) -> tuple[int, int] | None:
    """Latest units per arm from a driver KPI that counts them (aggregation `last`, both arms)."""
    drivers = session.scalars(
        select(KpiRow.id).where(KpiRow.parent_id == kpi_id, KpiRow.aggregation == "last").order_by(KpiRow.id)
    )
    for driver in drivers:
        arms = list(EXPERIMENT_ARMS)
        if reader.with_data(driver, arms) != set(arms):
            continue
        latest = reader.latest(driver)
        if latest is None:
            continue
        found = reader.values(driver, "day", arms, latest.replace(day=1), min(latest, end))
        if all(found[a] for a in arms):
            n_treatment, n_control = (round(found[a][max(found[a])]) for a in arms)
            return n_treatment, n_control
    return None


def _cumulative_control(
    treatment: pd.Series, control: pd.Series, go_live: date, **options: object
) -> pd.DataFrame:
    """Effect to date (average effect × periods) at up to CHECKPOINTS moments after go-live, each
    estimated on the data up to that moment."""
    both = pd.concat([treatment, control], axis=1, join="inner").dropna()
    post = both.index[both.index >= pd.Timestamp(go_live)]
    cuts = post[np.unique(np.linspace(0, len(post) - 1, min(CHECKPOINTS, len(post))).astype(int))]
    rows = []
    for cut in cuts:
        part = both[both.index <= cut]
        found = with_control.impact_with_control(part.iloc[:, 0], part.iloc[:, 1], go_live, **options)  # type: ignore[arg-type]
        if isinstance(found, ControlImpact):
            e = found.effect.scaled(found.post_periods)
            rows.append((cut, e.estimate, e.low, e.high))
    return pd.DataFrame(rows, columns=["period", "estimate", "low", "high"])


def _in_money(cumulative: pd.DataFrame, kpi: KpiRow) -> tuple[pd.DataFrame, str]:
    """Cumulative effect (KPI units × periods) as money to date where the KPI has a value."""
    if kpi.value_per_unit is None or cumulative.empty:
        unit = f"{kpi.unit} × {kpi.frequency}s".strip()
        return cumulative, unit
    factor = kpi.value_per_unit * (1 if kpi.direction == "up" else -1) / PERIODS_PER_YEAR[kpi.frequency]
    money = cumulative.copy()
    values = money[["estimate", "low", "high"]].to_numpy() * factor
    money["estimate"] = values[:, 0]
    money["low"], money["high"] = values[:, 1:].min(axis=1), values[:, 1:].max(axis=1)
    return money, kpi.currency


def _expected_per_year(kpi: KpiRow) -> float | None:
    if kpi.value_per_unit is None or kpi.baseline_value is None or kpi.target_value is None:
        return None
    return abs(kpi.target_value - kpi.baseline_value) * kpi.value_per_unit


def _kpi_impact(
    session: Session,
    reader: series_reader.Reader,
    model: ModelRow,
    kpi: KpiRow,
    changes: tuple[VersionChange, ...],
) -> KpiImpact:
    go_live = changes[0].day if changes else None
    common = {
        "model_id": model.id,
        "model_name": model.name,
        "goal_id": model.goal_id,
        "goal_title": model.goal.title,
        "kpi_id": kpi.id,
        "kpi_name": kpi.name,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "frequency": kpi.frequency,
        "currency": kpi.currency,
        "go_live": go_live,
        "changes": changes,
        "expected_per_year": _expected_per_year(kpi),
    }
    first, last = reader.first(kpi.id), reader.latest(kpi.id)
    empty = pd.DataFrame({"period": pd.DatetimeIndex([])})
    if go_live is None or first is None or last is None:
        design = "not in production" if go_live is None else "counterfactual"
        result = None if go_live is None else NotEnoughData("Impact", ("no data for this KPI yet",), 0, 0)
        return KpiImpact(
            **common, design=design, segment="", segment_label="", comparison="", result=result, money=None,
            cumulative_unit="", series=empty, cumulative=empty,
        )  # fmt: skip
    options = {"direction": kpi.direction, "name": kpi.name, "unit": kpi.unit, "frequency": kpi.frequency}
    arms = list(EXPERIMENT_ARMS)
    if reader.with_data(kpi.id, arms) == set(arms):
        found = reader.values(kpi.id, kpi.frequency, arms, first, last)
        treatment, control = _frame(found["treatment"], "treatment"), _frame(found["control"], "control")
        sizes = _arm_sizes(session, reader, kpi.id, last)
        result: Result = with_control.impact_with_control(
            treatment,
            control,
            go_live,
            arm_sizes=sizes,
            planned_treatment_share=PLANNED_TREATMENT_SHARE if sizes else None,
            **options,  # type: ignore[arg-type]
        )
        series = pd.concat([treatment, control], axis=1).rename_axis("period").reset_index()
        cumulative = _cumulative_control(treatment, control, go_live, **options)
        design, segment, comparison = "control group", "treatment", "the control group"
        segment_label = "the treatment arm"
    else:
        pilot, others = _pilot_node(reader, kpi.id, changes[-1].scope)
        nodes = [pilot, *others] if pilot else [series_reader.TOTAL]
        found = reader.values(kpi.id, kpi.frequency, nodes, first, last)
        actual = _frame(found[nodes[0]], "actual")
        covariates = None
        comparison = "its own history before go-live"
        if others and all(found[o] for o in others):
            hierarchy = reader.hierarchy(kpi.id)
            assert hierarchy is not None  # a pilot node was found in it
            level = f"other {hierarchy.levels[0].lower()}s" if hierarchy.levels else "other nodes"
            rest = pd.concat([_frame(found[o], o) for o in others], axis=1, join="inner").mean(axis=1)
            covariates = rest.to_frame(level)
            labels = [node.label if (node := hierarchy.node(o)) else o for o in others]
            comparison += f" and the {level} ({', '.join(labels)}), which it does not serve"
        result = counterfactual.impact_without_control(actual, go_live, covariates=covariates, **options)  # type: ignore[arg-type]
        if isinstance(result, CounterfactualImpact):
            points = result.points
            series = points[["period", "actual", "expected", "expected_low", "expected_high"]]
            after = points.dropna(subset=["cumulative"])
            cumulative = after[["period", "cumulative", "cumulative_low", "cumulative_high"]].set_axis(
                ["period", "estimate", "low", "high"], axis=1
            )
        else:
            series = actual.rename_axis("period").reset_index()
            cumulative = empty
        design, segment = "counterfactual", pilot
        node = reader.hierarchy(kpi.id).node(pilot) if pilot else None  # type: ignore[union-attr]
        segment_label = node.label if node else "the whole business"
    money = None
    if isinstance(result, ControlImpact | CounterfactualImpact) and kpi.value_per_unit is not None:
        money = valuation.money_impact(
            result.effect,
            years=result.years_since_go_live or 0.0,
            value_per_unit=kpi.value_per_unit,
            direction=kpi.direction,
            currency=kpi.currency,
            expected_per_year=common["expected_per_year"],  # type: ignore[arg-type]
        )
    cumulative, unit = _in_money(cumulative.reset_index(drop=True), kpi)
    return KpiImpact(
        **common, design=design, segment=segment, segment_label=segment_label, comparison=comparison,
        result=result, money=money,
        cumulative_unit=unit, series=series.reset_index(drop=True), cumulative=cumulative,
    )  # fmt: skip


def impacts_in(session: Session, model_ids: Iterable[int]) -> list[KpiImpact]:
    """Every KPI impact of these models, inside the caller's session (for alerts at ingest)."""
    reader = series_reader.Reader(session)
    found = []
    for model_id in model_ids:
        model = get_or_raise(session, ModelRow, model_id, "Model")
        changes = _changes(session, model_id)
        for link in sorted(model.kpi_links, key=lambda k: k.kpi_id):
            found.append(_kpi_impact(session, reader, model, reader.kpi(link.kpi_id), changes))
    return found


def model_impact(db: Database, model_id: int) -> list[KpiImpact]:
    with db.read() as session:
        return impacts_in(session, [model_id])


def production_models(session: Session) -> list[int]:
    """Models with a version serving now."""
    query = select(DeploymentRow.model_id).where(DeploymentRow.ended_at.is_(None)).distinct()
    return sorted(session.scalars(query))


def models_for_kpis(session: Session, kpi_ids: Iterable[int]) -> list[int]:
    """Production models attached to these KPIs (for the impact alerts of a KPI load)."""
    ids = list(kpi_ids)
    if not ids:
        return []
    query = select(ModelKpiRow.model_id).where(ModelKpiRow.kpi_id.in_(ids)).distinct()
    serving = set(production_models(session))
    return sorted(m for m in session.scalars(query) if m in serving)


def _total(items: list[MoneyImpact]) -> MoneyImpact | None:
    if not items or len({m.currency for m in items}) > 1:
        return None
    return valuation.total_money(items)


def roll_up(found: Iterable[KpiImpact]) -> Portfolio:
    """Money per goal and for the portfolio (estimates add; intervals add in quadrature)."""
    by_goal: dict[int, list[KpiImpact]] = {}
    for item in found:
        by_goal.setdefault(item.goal_id, []).append(item)
    goals = tuple(
        GoalImpact(
            goal_id,
            items[0].goal_title,
            tuple(items),
            _total([i.money for i in items if i.money is not None]),
        )
        for goal_id, items in sorted(by_goal.items(), key=lambda g: g[1][0].goal_title)
    )
    return Portfolio(goals, _total([g.money for g in goals if g.money is not None]))


def portfolio(db: Database) -> Portfolio:
    """Every production model's impact, with money rolled up per goal and for the portfolio."""
    with db.read() as session:
        return roll_up(impacts_in(session, production_models(session)))


Stamp = tuple[int, str, int, int]


def stamps(db: Database) -> dict[int, Stamp]:
    """Per production model, a cache key that changes when its impact can: a load into one of its
    KPIs or their drivers (arm sizes), an edit of those KPIs, or a deployment. One KPI load then
    recomputes only the models it feeds. Four grouped queries, whatever the number of models."""
    with db.read() as session:
        models = production_models(session)
        links = session.execute(
            select(ModelKpiRow.model_id, ModelKpiRow.kpi_id).where(ModelKpiRow.model_id.in_(models))
        ).all()
        batches = dict(
            session.execute(
                select(IngestBatchRow.kpi_id, func.max(IngestBatchRow.id)).group_by(IngestBatchRow.kpi_id)
            ).all()
        )
        kpi_rows = session.execute(select(KpiRow.id, KpiRow.parent_id, KpiRow.updated_at)).all()
        deployments = {
            model_id: (int(started), int(ended))
            for model_id, started, ended in session.execute(
                select(
                    DeploymentRow.model_id, func.count(DeploymentRow.id), func.count(DeploymentRow.ended_at)
                )
                .where(DeploymentRow.model_id.in_(models))
                .group_by(DeploymentRow.model_id)
            )
        }
    children: dict[int, list[int]] = {}
    edited = {}
    for kpi_id, parent_id, updated_at in kpi_rows:
        edited[kpi_id] = str(updated_at)
        if parent_id is not None:
            children.setdefault(parent_id, []).append(kpi_id)
    found: dict[int, Stamp] = {}
    for model_id in models:
        kpi_ids = [k for m, k in links if m == model_id]
        fed = [*kpi_ids, *(c for k in kpi_ids for c in children.get(k, []))]
        found[model_id] = (
            max((batches.get(k, 0) for k in fed), default=0),
            max((edited[k] for k in kpi_ids), default=""),
            *deployments.get(model_id, (0, 0)),
        )
    return found
