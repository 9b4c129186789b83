"""Monitoring reads: series by grain, roll-up along the hierarchy, computed parents, the status
rule, and charts that never need more than 2,000 points per trace."""

from datetime import date, timedelta

import pytest

from flightdeck.core.db import Database
from flightdeck.kpis import definitions, kpi_status, series_reader
from flightdeck.kpis.entities import KpiDraft
from flightdeck.kpis.series_reader import MAX_POINTS, Series, choose_grain, split_partial
from tests.kpi_factories import csv_file, days, load, make_kpi, workspace

MON = date(2025, 1, 6)  # a Monday


def values(db: Database, kpi_id: int, node: str, grain: str, start: date, end: date) -> dict[date, float]:
    found = series_reader.series(db, kpi_id, [node], grain, start, end)[node]
    return dict(zip(found.periods, found.values, strict=True))


def test_a_region_rolls_up_from_its_stores_and_the_total_from_the_regions(db: Database) -> None:
    ws = workspace(db)
    sales = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum")
    rate = make_kpi(db, ws, "rate", unit="%", aggregation="mean")
    rows = [(d, s, v) for d in days(MON, 14) for s, v in (("N1", 10.0), ("N2", 20.0), ("S1", 40.0))]
    load(db, ws.owner, sales, csv_file(rows))
    load(db, ws.owner, rate, csv_file(rows))
    end = MON + timedelta(days=13)
    assert values(db, sales.id, "N", "day", MON, end)[MON] == 30.0
    assert values(db, sales.id, "", "day", MON, end)[MON] == 70.0
    assert values(db, sales.id, "", "week", MON, end) == {MON: 490.0, MON + timedelta(days=7): 490.0}
    assert values(db, rate.id, "N", "week", MON, end)[MON] == 15.0
    assert values(db, rate.id, "", "month", MON, end) == {date(2025, 1, 1): pytest.approx(70 / 3)}


def test_a_node_with_its_own_values_shows_them_and_arms_stay_out_of_the_total(db: Database) -> None:
    ws = workspace(db)
    churn = make_kpi(db, ws, "churn")
    rows = [
        (MON, "N", 2.0),
        (MON, "N1", 9.0),
        (MON, "S", 3.0),
        (MON, "treatment", 50.0),
        (MON, "control", 60.0),
    ]
    load(db, ws.owner, churn, csv_file(rows))
    assert values(db, churn.id, "N", "day", MON, MON) == {MON: 2.0}  # its own value, not N1's
    assert values(db, churn.id, "", "day", MON, MON) == {MON: 2.5}  # regions only
    assert values(db, churn.id, "treatment", "day", MON, MON) == {MON: 50.0}
    extent = series_reader.extent(db, churn.id)
    assert extent.arms == ("treatment", "control")
    assert [b.node.code for b in series_reader.breakdown(db, churn.id, "")] == ["N", "S"]
    assert [b.node.code for b in series_reader.breakdown(db, churn.id, "N")] == ["N1"]


def test_last_adds_each_segments_latest_value(db: Database) -> None:
    ws = workspace(db)
    stock = make_kpi(db, ws, "stock", unit="units", aggregation="last")
    load(
        db,
        ws.owner,
        stock,
        csv_file([(MON, "N1", 5.0), (MON + timedelta(days=2), "N1", 7.0), (MON, "N2", 1.0)]),
    )
    assert values(db, stock.id, "", "week", MON, MON + timedelta(days=6)) == {MON: 8.0}


def test_a_computed_ratio_divides_the_drivers_period_totals(db: Database) -> None:
    ws = workspace(db)
    rate = make_kpi(db, ws, "waste_rate", direction="down")
    written = make_kpi(db, ws, "written_off", unit="EUR", aggregation="sum", parent_id=rate.id)
    sales = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum", parent_id=rate.id)
    definitions.update_kpi(
        db, ws.owner, rate.id, rate.version,
        KpiDraft.of(rate, formula="ratio", numerator_id=written.id, denominator_id=sales.id, ratio_scale=100),
    )  # fmt: skip
    load(db, ws.owner, written, csv_file([(MON, "N1", 5.0), (MON, "S1", 30.0)]))
    load(db, ws.owner, sales, csv_file([(MON, "N1", 100.0), (MON, "S1", 300.0)]))
    assert values(db, rate.id, "", "day", MON, MON) == {
        MON: pytest.approx(100 * 35 / 400)
    }  # not a mean of rates
    assert values(db, rate.id, "S", "day", MON, MON) == {MON: pytest.approx(10.0)}
    assert series_reader.extent(db, rate.id).last == MON


def test_a_chart_never_needs_more_than_two_thousand_points(db: Database) -> None:
    start = date(2015, 1, 1)
    assert choose_grain("day", "day", start, start + timedelta(days=1999)) == "day"
    assert choose_grain("day", "day", start, start + timedelta(days=2000)) == "week"
    assert (
        choose_grain("day", "week", start, start + timedelta(days=10)) == "week"
    )  # never finer than the KPI
    assert choose_grain("day", "day", date(1900, 1, 1), date(2100, 1, 1)) == "month"
    ws = workspace(db)
    kpi = make_kpi(db, ws, "long")
    load(db, ws.owner, kpi, csv_file([(d, "N1", 1.0) for d in days(date(2019, 1, 1), 2500)]))
    series = series_reader.series(db, kpi.id, [""], "day", date(2019, 1, 1), date(2025, 11, 4))[""]
    assert series.grain == "week"
    assert len(series.periods) <= MAX_POINTS


def test_a_period_in_progress_is_kept_apart() -> None:
    weekly = Series("", "week", (MON, MON + timedelta(days=7)), (1.0, 0.2))
    whole, partial = split_partial(weekly, MON + timedelta(days=9))
    assert whole.periods == (MON,)
    assert partial is not None
    assert partial.values == (0.2,)
    assert split_partial(weekly, MON + timedelta(days=13)) == (weekly, None)


# -- the status rule ---------------------------------------------------------------------------


def plan(**changes: object) -> dict[str, object]:
    """Down is good: baseline 5.0 a year before the data, target 4.0 a year after it."""
    return {
        "baseline_value": 5.0,
        "baseline_period": date(2024, 1, 1),
        "target_value": 4.0,
        "target_date": date(2026, 1, 1),
        **changes,
    }


@pytest.mark.parametrize(
    ("level", "value", "fields", "threshold", "trajectory"),
    [
        ("on_track", 4.45, plan(), None, None),  # expected ≈ 4.48 mid-January 2025
        ("at_risk", 4.65, plan(), None, "warning"),  # behind by 0.17 of 1.0
        ("off_track", 4.9, plan(), None, "critical"),  # behind by 0.42 of 1.0
        ("at_risk", 4.45, plan(warning_threshold=4.4, critical_threshold=4.8), "warning", None),
        ("off_track", 4.45, plan(warning_threshold=4.1, critical_threshold=4.4), "critical", None),
        ("on_track", 3.0, {"warning_threshold": 4.0}, None, None),
        ("not_assessed", 3.0, {}, None, None),
    ],
)
def test_the_status_rule(
    db: Database,
    level: str,
    value: float,
    fields: dict[str, object],
    threshold: str | None,
    trajectory: str | None,
) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws, "waste", **fields)
    load(db, ws.owner, kpi, csv_file([(d, "N1", value) for d in days(date(2025, 1, 1), 28)]))
    status = kpi_status.statuses(db, [kpi.id])[kpi.id]
    assert (status.level, status.threshold, status.trajectory) == (level, threshold, trajectory)
    assert status.current == pytest.approx(value)
    assert status.window == (date(2025, 1, 1), date(2025, 1, 28))
    assert status.reasons  # the page states why


def test_a_kpi_without_data_has_no_status_yet_and_money_needs_a_value(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws, "waste", **plan(value_per_unit=1000.0))
    assert kpi_status.statuses(db, [kpi.id])[kpi.id].level == "no_data"
    load(db, ws.owner, kpi, csv_file([(d, "N1", 4.9) for d in days(date(2025, 1, 1), 28)]))
    status = kpi_status.statuses(db, [kpi.id])[kpi.id]
    assert status.gap_value_per_year == pytest.approx((status.expected - 4.9) * 1000)  # behind: negative
    assert status.gap_value_per_year < 0
