"""The demo's KPI story: the effects a later impact analysis must find are really in the data,
with the documented sizes; the invoice KPI is off track with open alerts; the sample files load."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flightdeck.alerts import inbox
from flightdeck.business import dictionary, hierarchies
from flightdeck.core.db import Database
from flightdeck.demo import kpi_story, samples, seed, story
from flightdeck.demo.kpi_story import CHURN_EFFECT, CHURN_PRE_GAP, FORECAST_EFFECT, INVOICE_KPI, WASTE_KPI
from flightdeck.kpis import definitions, ingest, kpi_status, series_reader, sources, tree
from flightdeck.tabular import findings, formats
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """One seeded demo (SQLite) for the read-only checks of this module."""
    path = tmp_path_factory.mktemp("demo_kpis")
    db = Database(settings_for(f"sqlite:///{path / 'demo.db'}", path))
    db.upgrade()
    seed.seed(db)
    return db


def series(db: Database, key: str, node: str) -> pd.Series:
    s = story.story()
    kpi = definitions.get_kpi_by_key(db, key)
    found = series_reader.series(db, kpi.id, [node], "day", s.history_start, s.today)[node]
    return pd.Series(found.values, index=pd.to_datetime(list(found.periods)))


def test_two_years_of_daily_history_end_yesterday(seeded: Database) -> None:
    s = story.story()
    for key in ("member_churn_rate", WASTE_KPI, "fresh_sales", "invoices_received"):
        extent = series_reader.extent(seeded, definitions.get_kpi_by_key(seeded, key).id)
        assert (extent.first, extent.last) == (s.history_start, s.today - timedelta(days=1))
    waste = series_reader.extent(seeded, definitions.get_kpi_by_key(seeded, WASTE_KPI).id)
    assert len(waste.segments) == sum(len(stores) for _, stores in story.REGIONS.values())


def test_the_churn_experiment_shows_its_known_effect(seeded: Database) -> None:
    s = story.story()
    gap = series(seeded, "member_churn_rate", "treatment") - series(seeded, "member_churn_rate", "control")
    live = pd.Timestamp(s.churn_v1_live)
    before, after = gap[gap.index < live], gap[gap.index >= live]
    assert before.mean() == pytest.approx(CHURN_PRE_GAP, abs=0.02)
    assert after.mean() - before.mean() == pytest.approx(CHURN_EFFECT, abs=0.03)
    members = definitions.get_kpi_by_key(seeded, "churn_arm_members")
    sizes = series_reader.series(
        seeded, members.id, ["treatment", "control"], "day", s.today - timedelta(days=3), s.today
    )
    assert {arm: found.values[-1] for arm, found in sizes.items()} == kpi_story.ARM_MEMBERS


def test_the_pilot_region_improves_by_the_known_amount_after_the_forecast(seeded: Database) -> None:
    s = story.story()
    live = pd.Timestamp(s.forecast_live)

    def shift(node: str) -> float:
        values = series(seeded, WASTE_KPI, node)
        year_before = values[
            (values.index >= live - pd.Timedelta(days=365)) & (values.index < live - pd.Timedelta(days=245))
        ]
        return values[values.index >= live].mean() - year_before.mean()  # same season a year earlier

    others = np.mean([shift(region) for region in story.REGIONS if region != story.PILOT_REGION])
    assert shift(story.PILOT_REGION) - others == pytest.approx(FORECAST_EFFECT, abs=0.1)


def test_waste_has_weekly_and_annual_seasonality(seeded: Database) -> None:
    values = series(seeded, WASTE_KPI, "E")  # a region without the pilot
    by_weekday = values.groupby(values.index.day_of_week).mean()
    assert by_weekday[0] - by_weekday[5] > 0.1  # Mondays waste more than Saturdays
    by_month = values.groupby(values.index.month).mean()
    assert by_month[7] > by_month[1]  # summer heat


def test_the_invoice_kpi_is_off_track_with_open_alerts(seeded: Database) -> None:
    stp = definitions.get_kpi_by_key(seeded, INVOICE_KPI)
    assert stp.is_computed
    status = kpi_status.statuses(seeded, [stp.id])[stp.id]
    assert (status.level, status.threshold, status.trajectory) == ("off_track", "critical", "critical")
    open_alerts = [a for a in inbox.list_alerts(seeded, states=("open",)) if a.entity_id == stp.id]
    assert {a.kind for a in open_alerts} == {"kpi_threshold", "kpi_trajectory"}
    assert all(a.goal_title == "Automate supplier invoice processing" for a in open_alerts)
    in_trouble = [
        k.key
        for k in definitions.list_kpis(seeded)
        if kpi_status.statuses(seeded, [k.id])[k.id].level in ("at_risk", "off_track")
    ]
    assert in_trouble == [INVOICE_KPI]  # one KPI is in trouble, as the story says


def test_every_goal_has_a_tree_and_the_dictionary_holds_what_the_models_need(seeded: Database) -> None:
    trees = tree.tree(definitions.list_kpis(seeded))
    assert {root.kpi.goal_title for root in trees} == {g.draft.title for g in story.DEMO_GOALS}
    assert all(len(list(root.walk())) > 1 for root in trees if root.kpi.key != "ap_handling_cost")
    fields = {f.key: f for f in dictionary.list_fields(seeded)}
    needed = {
        "member_id",
        "tenure_months",
        "visits_last_30d",
        "basket_value_eur",
        "store_code",
        "region_code",
    }
    needed |= {"sku_category", "units_sold", "invoice_amount", "supplier_id", "po_match"}
    assert needed <= set(fields)
    assert fields["member_id"].personal_data
    assert fields["member_id"].lawful_basis == "contract"
    assert {c.code for c in fields["store_code"].allowed_codes} == {
        c for _, (_, s) in story.REGIONS.items() for c in s
    }
    names = {h.key: h for h in hierarchies.list_hierarchies(seeded)}
    assert names["region_store"].levels == ("Region", "Store")
    assert names["category_product"].descendants_by_depth("FV") == [
        ["FV-APL", "FV-BER", "FV-CIT", "FV-ROO", "FV-SAL"]
    ]


def test_the_demo_erp_answers_the_sql_source_with_todays_invoices(seeded: Database) -> None:
    received = definitions.get_kpi_by_key(seeded, "invoices_received")
    assert sources.get_query(seeded, received.id) is not None
    outcome = sources.sync(seeded, None, received.id)
    assert outcome.result is not None
    assert (outcome.result.new, outcome.result.period_min) == (len(story.REGIONS), story.story().today)


def test_the_committed_samples_are_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    for written in samples.write_samples(tmp_path):
        committed = samples.SAMPLES / written.name
        assert committed.stat().st_size < 1_000_000
        if written.suffix == ".xlsx":  # a workbook's zip stamps the time; compare the cells
            pd.testing.assert_frame_equal(pd.read_excel(written), pd.read_excel(committed))
        else:
            assert written.read_bytes() == committed.read_bytes(), written.name
    assert {s.file_name for s in samples.SAMPLES_INDEX} == {p.name for p in samples.SAMPLES.iterdir()}


@pytest.mark.parametrize("sample", samples.SAMPLES_INDEX, ids=lambda s: s.file_name)
def test_each_sample_loads_into_its_kpi_in_its_declared_format(
    seeded: Database, sample: samples.Sample
) -> None:
    kpi = definitions.get_kpi_by_key(seeded, sample.kpi_key)
    data = (samples.SAMPLES / sample.file_name).read_bytes()
    fmt = formats.PRESETS[sample.preset][1]
    preview = ingest.preview(seeded, kpi.id, data, sample.file_name, fmt)
    if sample.file_name == "bad_rows_example.csv":
        with pytest.raises(findings.Rejected) as rejected:
            ingest.load_file(seeded, None, kpi.id, data, sample.file_name, fmt, preview.mapping, dry_run=True)
        assert rejected.value.total_problems == 7
        return
    result = ingest.load_file(
        seeded, None, kpi.id, data, sample.file_name, fmt, preview.mapping, dry_run=True
    )
    assert result.rows == result.new > 0
