"""KPI definitions and trees: every field of a KPI (docs/architecture.md, "The domain"), rules that
keep targets and thresholds coherent, driver trees that stay trees, computed parents, and who may
define what."""

from datetime import date

import pytest

from flightdeck.accounts import audit_trail
from flightdeck.business import goals
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied, StaleEdit
from flightdeck.kpis import definitions
from flightdeck.kpis import tree as kpis_tree
from flightdeck.kpis.entities import KpiDraft
from tests.kpi_factories import csv_file, days, load, make_kpi, workspace

FULL = KpiDraft(
    key="fresh_waste_rate",
    name="Fresh waste rate",
    unit="%",
    direction="down",
    aggregation="mean",
    frequency="day",
    definition="Written-off value over fresh sales.",
    baseline_value=4.8,
    baseline_period=date(2024, 1, 1),
    target_value=4.2,
    target_date=date(2027, 3, 31),
    value_per_unit=2_300_000,
    currency="eur",
    warning_threshold=5.0,
    critical_threshold=5.4,
    source="upload",
)


def test_an_owner_defines_a_kpi_with_every_field_on_their_goal(db: Database) -> None:
    ws = workspace(db)
    kpi = definitions.create_kpi(db, ws.owner, ws.goal.id, FULL)
    assert definitions.get_kpi_by_key(db, "fresh_waste_rate") == kpi
    assert (kpi.goal_title, kpi.owner_id, kpi.currency, kpi.target_value, kpi.critical_threshold) == (
        "Reduce churn",
        ws.owner.id,
        "EUR",
        4.2,
        5.4,
    )
    assert kpi.owner_ids == {ws.owner.id}
    [event] = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("kpi.create",)))[0]
    assert event.after["target_value"] == 4.2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "Fresh Waste"}, "key"),
        ({"name": ""}, "name"),
        ({"unit": ""}, "unit"),
        ({"direction": "sideways"}, "direction"),
        ({"aggregation": "median"}, "aggregation"),
        ({"frequency": "hourly"}, "frequency"),
        ({"currency": "euro"}, "currency"),
        ({"baseline_period": None}, "baseline_value"),
        ({"target_date": None}, "target_value"),
        ({"target_date": date(2023, 1, 1)}, "target_date"),
        ({"target_value": 5.0}, "target_value"),  # worse than the baseline when down is good
        ({"critical_threshold": 4.9}, "critical_threshold"),  # not beyond the warning one
        ({"value_per_unit": -1.0}, "value_per_unit"),
        ({"formula": "ratio"}, "numerator_id"),
    ],
)
def test_a_kpi_must_be_coherent(db: Database, changes: dict[str, object], field: str) -> None:
    ws = workspace(db)
    with pytest.raises(InvalidInput) as refused:
        definitions.create_kpi(db, ws.owner, ws.goal.id, KpiDraft.of(FULL, **changes))  # type: ignore[arg-type]
    assert field in {p.field for p in refused.value.problems}
    assert definitions.list_kpis(db) == []


def test_up_is_good_turns_the_target_and_threshold_rules_around(db: Database) -> None:
    ws = workspace(db)
    stp = KpiDraft(
        key="stp",
        name="STP",
        unit="%",
        direction="up",
        baseline_value=35,
        baseline_period=date(2024, 1, 1),
        target_value=60,
        target_date=date(2027, 12, 31),
        warning_threshold=38,
        critical_threshold=33,
    )
    assert definitions.create_kpi(db, ws.owner, ws.goal.id, stp).warning_threshold == 38
    with pytest.raises(InvalidInput):
        definitions.create_kpi(db, ws.owner, ws.goal.id, KpiDraft.of(stp, key="stp2", critical_threshold=40))


def test_business_owners_define_kpis_on_their_own_goals_only(db: Database) -> None:
    ws = workspace(db)
    for someone in (ws.other_owner, ws.viewer, ws.scientist):
        with pytest.raises(PermissionDenied):
            definitions.create_kpi(db, someone, ws.goal.id, FULL)
    assert definitions.list_kpis(db) == []
    by_admin = definitions.create_kpi(db, ws.admin, ws.goal.id, FULL)
    assert by_admin.owner_id == ws.owner.id  # an admin's KPI belongs to the goal's owner by default


def test_the_kpi_owner_and_the_goal_owner_edit_it_others_do_not(db: Database) -> None:
    ws = workspace(db)
    kpi = definitions.create_kpi(db, ws.admin, ws.goal.id, KpiDraft.of(FULL, owner_id=ws.other_owner.id))
    assert kpi.owner_ids == {ws.owner.id, ws.other_owner.id}
    edited = definitions.update_kpi(db, ws.other_owner, kpi.id, kpi.version, KpiDraft.of(kpi, name="Waste"))
    edited = definitions.update_kpi(
        db, ws.owner, kpi.id, edited.version, KpiDraft.of(edited, target_value=4.0)
    )
    assert (edited.name, edited.target_value, edited.version) == ("Waste", 4.0, 3)
    with pytest.raises(PermissionDenied):
        definitions.update_kpi(db, ws.viewer, kpi.id, edited.version, KpiDraft.of(edited, name="Mine"))
    with pytest.raises(StaleEdit):
        definitions.update_kpi(db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, name="Stale"))
    assert definitions.get_kpi(db, kpi.id).name == "Waste"


def test_drivers_form_a_tree_within_a_goal(db: Database) -> None:
    ws = workspace(db)
    root = make_kpi(db, ws, "churn")
    driver = make_kpi(db, ws, "offers", unit="offers", aggregation="sum", parent_id=root.id)
    leaf = make_kpi(db, ws, "redemption", parent_id=driver.id)
    [tree] = kpis_tree.tree(definitions.list_kpis(db))
    assert [(n.kpi.key, n.depth) for n in tree.walk()] == [("churn", 0), ("offers", 1), ("redemption", 2)]
    with pytest.raises(InvalidInput) as refused:  # churn under its own grandchild: a loop
        definitions.update_kpi(db, ws.owner, root.id, root.version, KpiDraft.of(root, parent_id=leaf.id))
    assert "a tree has no loops" in refused.value.problems[0].message
    elsewhere = goals.create_goal(db, ws.owner, goals.GoalDraft(title="Another goal"))
    with pytest.raises(InvalidInput) as refused:
        definitions.create_kpi(
            db, ws.owner, elsewhere.id, KpiDraft(key="x", name="X", unit="u", parent_id=root.id)
        )
    assert "same goal" in refused.value.problems[0].message


def test_a_parent_is_computed_from_drivers_it_already_has(db: Database) -> None:
    ws = workspace(db)
    stp = make_kpi(db, ws, "stp", direction="up")
    with pytest.raises(InvalidInput) as refused:
        definitions.update_kpi(db, ws.owner, stp.id, stp.version, KpiDraft.of(stp, formula="sum"))
    assert "add its drivers first" in refused.value.problems[0].message
    posted = make_kpi(db, ws, "posted", unit="invoices", aggregation="sum", parent_id=stp.id)
    received = make_kpi(db, ws, "received", unit="invoices", aggregation="sum", parent_id=stp.id)
    weekly = make_kpi(db, ws, "weekly", unit="x", frequency="week")
    ratio = KpiDraft.of(
        stp, formula="ratio", numerator_id=posted.id, denominator_id=weekly.id, ratio_scale=100
    )
    with pytest.raises(InvalidInput):  # the denominator is not one of its drivers
        definitions.update_kpi(db, ws.owner, stp.id, stp.version, ratio)
    computed = definitions.update_kpi(
        db, ws.owner, stp.id, stp.version, KpiDraft.of(ratio, denominator_id=received.id)
    )
    assert (computed.is_computed, computed.source, computed.ratio_scale) == (True, "manual", 100.0)
    with pytest.raises(InvalidInput) as refused:  # the numerator cannot leave while it is used
        definitions.update_kpi(db, ws.owner, posted.id, posted.version, KpiDraft.of(posted, parent_id=None))
    assert "is computed from this KPI" in refused.value.problems[0].message


def test_a_kpi_with_its_own_data_cannot_become_computed(db: Database) -> None:
    ws = workspace(db)
    parent = make_kpi(db, ws, "parent", aggregation="sum", unit="x")
    make_kpi(db, ws, "child", aggregation="sum", unit="x", parent_id=parent.id)
    load(db, ws.owner, parent, csv_file([(d, "", 1.0) for d in days(date(2025, 1, 1), 3)]))
    with pytest.raises(InvalidInput) as refused:
        definitions.update_kpi(db, ws.owner, parent.id, parent.version, KpiDraft.of(parent, formula="sum"))
    assert "has observations of its own" in refused.value.problems[0].message


def test_keys_are_unique(db: Database) -> None:
    ws = workspace(db)
    make_kpi(db, ws, "churn")
    with pytest.raises(InvalidInput) as refused:
        make_kpi(db, ws, "churn")
    assert refused.value.problems[0].field == "key"
