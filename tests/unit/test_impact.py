"""The impact service: which comparison a production model's KPI gets, read from the roll-ups, and
what the business owner is told (verdict, interval, money, roll-ups per goal and portfolio)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.impact import measurement
from flightdeck.impact.estimates import ControlImpact, CounterfactualImpact, NotEnoughData, Verdict
from flightdeck.models import records, registry
from tests.factories import add_user, add_version, go_live
from tests.kpi_factories import Workspace, csv_file, days, load, make_kpi, workspace

FIRST = date(2025, 1, 1)
PRE, POST = 120, 60
GO_LIVE = FIRST + timedelta(days=PRE)


def in_production(
    db: Database, ws: Workspace, kpi_ids: tuple[int, ...], scope: str = "", live: date = GO_LIVE
) -> int:
    """A model attached to the KPIs, approved by a reviewer and promoted on `live`."""
    model = registry.create_model(
        db,
        ws.scientist,
        records.ModelDraft("churn", "Churn model", ws.goal.id, "classification", "", kpi_ids),
    )
    version = add_version(db, ws.scientist, model.id)
    reviewer = add_user(db, "rita", Role.REVIEWER)
    moment = datetime.combine(live, time(7), tzinfo=UTC)
    go_live(db, ws.scientist, reviewer, version.id, moment, scope)
    return model.id


def arms_file(effect: float, gap: float, seed: int = 1) -> bytes:
    """Daily churn % per arm: shared seasonality and noise, treatment `gap` above before go-live and
    `effect` from go-live."""
    rng = np.random.default_rng(seed)
    t = np.arange(PRE + POST)
    shared = 2.4 + 0.1 * np.sin(2 * np.pi * t / 30) + rng.normal(0, 0.03, len(t))
    control = shared + rng.normal(0, 0.02, len(t))
    treatment = shared + gap + effect * (t >= PRE) + rng.normal(0, 0.02, len(t))
    when = days(FIRST, len(t))
    return csv_file([(d, "control", v) for d, v in zip(when, control, strict=True)] + [
        (d, "treatment", v) for d, v in zip(when, treatment, strict=True)
    ])  # fmt: skip


@pytest.fixture
def ws(db: Database) -> Workspace:
    return workspace(db)


def test_arms_are_compared_after_removing_their_gap_and_the_money_is_set_against_the_goal(
    db: Database, ws: Workspace
) -> None:
    churn = make_kpi(db, ws, "churn", value_per_unit=1_000_000, baseline_value=2.5, baseline_period=FIRST,
                     target_value=2.2, target_date=date(2026, 12, 31))  # fmt: skip
    members = make_kpi(
        db, ws, "members", unit="members", direction="up", aggregation="last", parent_id=churn.id
    )
    load(db, ws.owner, churn, arms_file(effect=-0.2, gap=0.3))
    load(db, ws.owner, members, csv_file([(GO_LIVE, "treatment", 5_300), (GO_LIVE, "control", 4_700)]))
    model_id = in_production(db, ws, (churn.id,))

    (found,) = measurement.model_impact(db, model_id)
    assert found.design == "control group"
    assert found.go_live == GO_LIVE
    assert found.days_since_go_live == POST
    result = found.result
    assert isinstance(result, ControlImpact)
    assert result.adjustment == "difference-in-differences"
    assert result.pre_difference == pytest.approx(0.3, abs=0.02)
    assert result.effect.covers(-0.2)
    assert result.verdict is Verdict.POSITIVE  # churn down is good
    assert (result.n_treatment, result.n_control) == (5_300, 4_700)
    assert result.sample_ratio is not None
    assert result.sample_ratio.mismatch
    assert found.money is not None
    assert found.money.annual_run_rate.estimate == pytest.approx(-result.effect.estimate * 1_000_000)
    assert found.money.expected_per_year == pytest.approx(300_000)
    assert list(found.series.columns) == ["period", "treatment", "control"]
    assert found.cumulative_unit == "EUR"
    last = found.cumulative.iloc[-1]
    assert last["estimate"] == pytest.approx(found.money.to_date.estimate, rel=0.02)
    assert last["low"] < last["estimate"] < last["high"]
    assert "fell by 0.2" in found.sentence
    assert "95% CI" in found.sentence
    assert "EUR" in found.sentence


def test_a_pilot_region_is_projected_from_its_history_with_the_other_regions_as_covariate(
    db: Database, ws: Workspace
) -> None:
    waste = make_kpi(db, ws, "waste", value_per_unit=500_000)
    rng = np.random.default_rng(2)
    t = np.arange(PRE + POST)
    market = 0.2 * np.sin(2 * np.pi * t / 45)  # a swing the pre-period trend alone cannot project
    rows = []
    for store, effect in (("N1", -0.5), ("N2", -0.5), ("S1", 0.0)):
        values = 4.8 + market + effect * (t >= PRE) + rng.normal(0, 0.05, len(t))
        rows += list(zip(days(FIRST, len(t)), [store] * len(t), values, strict=True))
    load(db, ws.owner, waste, csv_file(rows))
    model_id = in_production(db, ws, (waste.id,), scope="Pilot: region North (N)")

    (found,) = measurement.model_impact(db, model_id)
    assert found.design == "counterfactual"
    assert found.segment == "N"
    assert "South" in found.comparison
    result = found.result
    assert isinstance(result, CounterfactualImpact)
    assert any("covariates (other" in term for term in result.terms)
    assert result.effect.covers(-0.5)
    assert result.verdict is Verdict.POSITIVE
    assert {"actual", "expected", "expected_low", "expected_high"} <= set(found.series.columns)
    assert len(found.cumulative) == POST
    assert "roll-out" in found.money_note


def test_too_short_a_history_says_what_is_missing_and_a_model_never_deployed_has_no_go_live(
    db: Database, ws: Workspace
) -> None:
    waste = make_kpi(db, ws, "waste")
    load(db, ws.owner, waste, csv_file([(d, "N1", 4.8) for d in days(FIRST, 40)]))
    model_id = in_production(db, ws, (waste.id,), live=FIRST + timedelta(days=20))
    (found,) = measurement.model_impact(db, model_id)
    assert isinstance(found.result, NotEnoughData)
    assert "before go-live" in found.result.summary
    assert found.money is None

    idle = registry.create_model(
        db, ws.scientist, records.ModelDraft("idle", "Idle", ws.goal.id, "classification", "", (waste.id,))
    )
    (never,) = measurement.model_impact(db, idle.id)
    assert never.design == "not in production"
    assert never.result is None
    assert "not in production" in never.sentence


def test_money_rolls_up_per_goal_and_for_the_portfolio(db: Database, ws: Workspace) -> None:
    churn = make_kpi(db, ws, "churn", value_per_unit=1_000_000)
    load(db, ws.owner, churn, arms_file(effect=-0.2, gap=0.0))
    in_production(db, ws, (churn.id,))
    other = make_kpi(db, ws, "other")
    before = measurement.stamps(db)
    found = measurement.portfolio(db)
    (goal,) = found.goals
    assert goal.goal_title == ws.goal.title
    assert goal.money is not None
    assert found.money is not None
    assert found.money.annual_run_rate.estimate == pytest.approx(goal.kpis[0].money.annual_run_rate.estimate)  # type: ignore[union-attr]
    load(db, ws.owner, other, csv_file([(GO_LIVE, "N1", 1.0)]))
    assert measurement.stamps(db) == before  # a KPI the model does not read changes nothing
    load(db, ws.owner, churn, csv_file([(GO_LIVE + timedelta(days=POST), "control", 2.4)]))
    assert measurement.stamps(db) != before  # a cache keyed by the stamp sees the new observation
