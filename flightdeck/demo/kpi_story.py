"""The KPI story of the Greenway Grocers demo: KPI trees per goal, the data dictionary, the
Region → Store and Category → Product group hierarchies, two years of daily observations, the
demo ERP behind a SQL source, and an invoice KPI that is off track with an open alert.

The effects a later impact analysis must find are really in the data, with known sizes:
- Member churn (monthly churn %, down is good) is observed per region and for the experiment
  arms `treatment` and `control`. Before `story.churn_v1_live` treatment runs CHURN_PRE_GAP above
  control; from that day retention offers go to treatment and it improves by CHURN_EFFECT
  against control. Arm sizes are in the KPI `churn_arm_members` (ARM_MEMBERS), planned 50/50.
- Fresh waste (% of fresh sales, down is good) is observed per store, with weekly and annual
  seasonality; from `story.forecast_live` the stores of PILOT_REGION improve by FORECAST_EFFECT.
- Straight-through processing of invoices (up is good) is computed from two driver KPIs; a
  supplier's format change INVOICE_BREAK_DAYS ago broke purchase-order matching, so it is now
  past its critical threshold and far behind its trajectory: off track, with open alerts.

Observations are generated deterministically (seeded) and written in bulk through the ingest's
own storage path, so roll-ups and batches are exactly what a real load would produce.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from flightdeck.business import dictionary, hierarchies
from flightdeck.business.goals import list_goals
from flightdeck.core import audit
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.demo.samples import write_samples
from flightdeck.demo.story import PILOT_REGION, REGIONS, Story, stores, story
from flightdeck.kpis import definitions, entities, kpi_alerts, sources, storage, validation
from flightdeck.orm import IngestBatchRow, KpiRow
from flightdeck.tabular import formats

CHURN_KPI, WASTE_KPI, INVOICE_KPI = "member_churn_rate", "fresh_waste_rate", "stp_rate"


CHURN_PRE_GAP = 0.05  # treatment − control before go-live, percentage points (arms not randomised)


CHURN_EFFECT = -0.60  # change of treatment − control from churn_v1_live on, percentage points


ARM_MEMBERS = {"treatment": 20_060, "control": 19_940}  # planned 50/50: no sample-ratio mismatch


REGION_CHURN = {"N": 2.32, "S": 2.58, "E": 2.38, "W": 2.47}  # % before any improvement


FORECAST_EFFECT = -0.80  # waste-rate points in PILOT_REGION stores from forecast_live on


INVOICE_BREAK_DAYS = 40  # days ago a supplier's new e-invoice format broke PO matching


SEED = 20240601


CATEGORIES = {
    "FV": ("Fruit & vegetables", {"FV-APL": "Apples & pears", "FV-CIT": "Citrus", "FV-BER": "Berries",
                                   "FV-SAL": "Salads & leaves", "FV-ROO": "Root vegetables"}),
    "DA": ("Dairy", {"DA-MLK": "Milk", "DA-YOG": "Yoghurt", "DA-CHE": "Cheese"}),
    "BA": ("Bakery", {"BA-BRD": "Bread", "BA-PAS": "Pastries"}),
    "MF": ("Meat & fish", {"MF-POU": "Poultry", "MF-BEE": "Beef", "MF-FIS": "Fresh fish"}),
    "AM": ("Ambient", {"AM-PAS": "Pasta & rice", "AM-CAN": "Canned goods"}),
    "FR": ("Frozen", {"FR-VEG": "Frozen vegetables", "FR-ICE": "Ice cream"}),
}  # fmt: skip


C = dictionary.AllowedCode


DICTIONARY: dict[str, tuple[dictionary.FieldDraft, ...]] = {
    "bianca": (
        dictionary.FieldDraft("member_id", "Greenway Card member", "identifier",
                           "Number printed on the member's loyalty card; identifies one person.",
                           format="GC-########", personal_data=True, lawful_basis="contract"),
        dictionary.FieldDraft("tenure_months", "Membership tenure", "integer",
                           "Whole months since the member signed up.", unit="months"),
        dictionary.FieldDraft("visits_last_30d", "Visits in the last 30 days", "integer",
                           "Distinct days with a card purchase in the 30 days before scoring.",
                           unit="visits"),
        dictionary.FieldDraft("basket_value_eur", "Average basket value", "decimal",
                           "Mean receipt total over the member's last 10 visits, after discounts.",
                           unit="EUR", format="decimal comma, 1.234,50"),
        dictionary.FieldDraft("churned_8w", "Churned (8 weeks)", "boolean",
                           "True when the member made no purchase for eight weeks: the churn "
                           "model's target."),
        dictionary.FieldDraft("offer_arm", "Retention experiment arm", "code",
                           "Which arm of the retention experiment the member is in.",
                           allowed_codes=(C("treatment", "Gets model-targeted offers"),
                                          C("control", "Business as usual"))),
    ),
    "bruno": (
        dictionary.FieldDraft("store_code", "Store", "code",
                           "ERP store number: region letter and three digits.",
                           allowed_codes=tuple(C(code, label) for code, _, label in stores())),
        dictionary.FieldDraft("region_code", "Region", "code", "Sales region of a store.",
                           allowed_codes=tuple(C(code, name) for code, (name, _) in REGIONS.items())),
        dictionary.FieldDraft("sku_category", "Category", "code", "Top level of the assortment.",
                           allowed_codes=tuple(C(code, name) for code, (name, _) in CATEGORIES.items())),
        dictionary.FieldDraft("sales_date", "Sales date", "date", "Business day of the sale, store time.",
                           format="YYYYMMDD (SAP)"),
        dictionary.FieldDraft("units_sold", "Units sold", "decimal",
                           "Units (or kg for loose produce) sold per store, product and day.", unit="units"),
        dictionary.FieldDraft("forecast_units", "Forecast units", "decimal",
                           "The demand forecast for the same store, product and day.", unit="units"),
        dictionary.FieldDraft("written_off_eur", "Written-off value", "decimal",
                           "Cost value of fresh stock written off as unsaleable.", unit="EUR",
                           format="decimal comma, trailing minus (SAP)"),
    ),
    "fatima": (
        dictionary.FieldDraft("invoice_amount", "Invoice amount", "decimal",
                           "Gross amount of a supplier invoice; credit notes are negative.", unit="EUR",
                           format="1.234,50- (SAP, trailing minus for credit notes)"),
        dictionary.FieldDraft("supplier_id", "Supplier", "identifier",
                           "Vendor number in the ERP; a company, not a person."),
        dictionary.FieldDraft("po_match", "Purchase-order match", "code",
                           "Result of matching the invoice to its order and goods receipt.",
                           allowed_codes=(C("Y", "Matched"), C("P", "Partly matched"),
                                          C("N", "Not matched"))),
        dictionary.FieldDraft("posting_period", "Posting period", "text",
                           "Fiscal period the invoice is posted in; the fiscal year starts in January.",
                           format="YYYY/PPP"),
        dictionary.FieldDraft("invoice_date", "Invoice date", "date", "Date printed on the invoice.",
                           format="DD.MM.YYYY"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class DemoKpi:
    goal_title: str
    owner: str
    draft: entities.KpiDraft
    parent: str | None = None


def _kpis(s: Story, hierarchy_id: int) -> list[DemoKpi]:
    churn, fresh, invoices = (
        "Reduce loyalty-member churn",
        "Cut fresh-produce waste",
        "Automate supplier invoice processing",
    )
    start = s.history_start.replace(day=1)
    d = entities.KpiDraft
    return [
        DemoKpi(churn, "bianca", d(
            key=CHURN_KPI, name="Monthly member churn", unit="%", direction="down", aggregation="mean",
            definition="Share of active Greenway Card members who made no purchase for eight weeks, as a "
                       "monthly rate, estimated daily per region and per retention-experiment arm.",
            baseline_value=2.45, baseline_period=start, target_value=2.10, target_date=date(2027, 6, 30),
            value_per_unit=1_300_000, warning_threshold=2.60, critical_threshold=2.80,
            hierarchy_id=hierarchy_id)),
        DemoKpi(churn, "bianca", d(
            key="churn_arm_members", name="Members per experiment arm", unit="members", direction="up",
            aggregation="last", definition="Members assigned to each arm of the retention experiment "
                                           "(planned 50/50), for the sample-ratio check."), CHURN_KPI),
        DemoKpi(churn, "bianca", d(
            key="retention_offers_sent", name="Retention offers sent", unit="offers", direction="up",
            aggregation="sum", definition="Personalised retention offers sent per day.",
            warning_threshold=400, critical_threshold=250, hierarchy_id=hierarchy_id), CHURN_KPI),
        DemoKpi(churn, "bianca", d(
            key="offer_redemption_rate", name="Offer redemption rate", unit="%", direction="up",
            aggregation="mean", definition="Share of retention offers redeemed within 14 days.",
            baseline_value=12.0, baseline_period=start, target_value=20.0, target_date=date(2027, 6, 30),
            hierarchy_id=hierarchy_id), CHURN_KPI),
        DemoKpi(churn, "bianca", d(
            key="member_basket_value", name="Average member basket", unit="EUR", direction="up",
            aggregation="mean", definition="Mean receipt total of card members per day. Waiting for its "
                                           "first upload: try data/samples/basket_value_daily_de.csv.",
            hierarchy_id=hierarchy_id), CHURN_KPI),
        DemoKpi(fresh, "bruno", d(
            key=WASTE_KPI, name="Fresh waste rate", unit="%", direction="down", aggregation="mean",
            definition="Written-off value of fresh produce as a share of fresh sales, per store and day.",
            baseline_value=4.80, baseline_period=start, target_value=4.20, target_date=date(2027, 3, 31),
            value_per_unit=2_300_000, warning_threshold=5.00, critical_threshold=5.40,
            hierarchy_id=hierarchy_id)),
        DemoKpi(fresh, "bruno", d(
            key="fresh_written_off", name="Fresh written-off value", unit="EUR", direction="down",
            aggregation="sum", definition="Cost value of fresh stock written off per store and day.",
            hierarchy_id=hierarchy_id), WASTE_KPI),
        DemoKpi(fresh, "bruno", d(
            key="fresh_sales", name="Fresh sales", unit="EUR", direction="up", aggregation="sum",
            definition="Net sales of fresh produce per store and day.",
            hierarchy_id=hierarchy_id), WASTE_KPI),
        DemoKpi(invoices, "fatima", d(
            key=INVOICE_KPI, name="Straight-through processing", unit="%", direction="up",
            aggregation="mean", definition="Share of supplier invoices posted without manual touch: "
                                           "auto-posted invoices over invoices received.",
            baseline_value=35.0, baseline_period=start, target_value=60.0, target_date=date(2027, 12, 31),
            value_per_unit=25_200, warning_threshold=38.0, critical_threshold=33.0,
            hierarchy_id=hierarchy_id)),
        DemoKpi(fresh, "bruno", d(
            key="stock_corrections", name="Stock corrections", unit="EUR", direction="up",
            aggregation="sum", definition="Book value of stock corrections per store and day; write-downs "
                                           "are negative. Waiting for its first upload: try "
                                           "data/samples/stock_corrections_sap.csv.",
            hierarchy_id=hierarchy_id), WASTE_KPI),
        DemoKpi(invoices, "fatima", d(
            key="ap_handling_cost", name="Accounts-payable handling cost", unit="EUR", direction="down",
            aggregation="sum", frequency="month",
            definition="Cost of the accounts-payable team per region and fiscal period. Waiting for its "
                       "first upload: try data/samples/ap_cost_fiscal_periods.csv.",
            hierarchy_id=hierarchy_id)),
        DemoKpi(invoices, "fatima", d(
            key="invoices_disputed", name="Disputed invoices", unit="invoices", direction="down",
            aggregation="sum",
            definition="Invoices a supplier or the AP team disputed, per region and day. Waiting for its "
                       "first upload: try data/samples/invoices_disputed.xlsx.",
            hierarchy_id=hierarchy_id), INVOICE_KPI),
        DemoKpi(invoices, "fatima", d(
            key="invoices_received", name="Invoices received", unit="invoices", direction="up",
            aggregation="sum", definition="Supplier invoices received per region and day.",
            hierarchy_id=hierarchy_id, source="sql"), INVOICE_KPI),
        DemoKpi(invoices, "fatima", d(
            key="invoices_auto_posted", name="Invoices posted automatically", unit="invoices",
            direction="up", aggregation="sum", definition="Invoices matched and posted with no manual step.",
            hierarchy_id=hierarchy_id, source="sql"), INVOICE_KPI),
    ]  # fmt: skip


# -- observations ------------------------------------------------------------------------------


def _days(s: Story, through: date | None = None) -> np.ndarray:
    last = through or s.today - timedelta(days=1)
    return np.arange(np.datetime64(s.history_start), np.datetime64(last) + 1, dtype="datetime64[D]")


def _annual(days: np.ndarray, peak_day_of_year: int) -> np.ndarray:
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    return np.cos(2 * np.pi * (doy - peak_day_of_year) / 365.25)


def _after(days: np.ndarray, moment: date) -> np.ndarray:
    return (days >= np.datetime64(moment)).astype(float)


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("int64") + 3) % 7  # Monday = 0


def _frame(days: np.ndarray, segment: str, values: np.ndarray, decimals: int) -> pd.DataFrame:
    return pd.DataFrame({"period": days, "segment": segment, "value": np.round(values, decimals)})


def churn_series(s: Story, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    days = _days(s)
    years = (days - np.datetime64(s.history_start)).astype(int) / 365.25
    season = 0.10 * _annual(days, 20)  # churn peaks after the holidays
    trend = -0.17 * years
    frames = {
        "member_churn_rate": [
            _frame(days, code, level + trend + season + rng.normal(0, 0.05, len(days)), 3)
            for code, level in REGION_CHURN.items()
        ]
    }
    control = float(np.mean(list(REGION_CHURN.values()))) + trend + season + rng.normal(0, 0.04, len(days))
    live = _after(days, s.churn_v1_live)
    treatment = control + CHURN_PRE_GAP + CHURN_EFFECT * live + rng.normal(0, 0.04, len(days))
    frames["member_churn_rate"] += [
        _frame(days, "control", control, 3),
        _frame(days, "treatment", treatment, 3),
    ]
    frames["churn_arm_members"] = [
        _frame(days, arm, np.full(len(days), float(size)), 0) for arm, size in ARM_MEMBERS.items()
    ]
    weekday = _weekday(days)
    offers, redemption = [], []
    for code in REGIONS:
        volume = (140 + 30 * live) * np.where(weekday < 5, 1.0, 0.55) + rng.normal(0, 8, len(days))
        offers.append(_frame(days, code, np.maximum(volume, 0), 0))
        rate = 12.0 + 8.0 * years / 2.6 + 2.0 * live + rng.normal(0, 0.8, len(days))
        redemption.append(_frame(days, code, rate, 2))
    frames["retention_offers_sent"], frames["offer_redemption_rate"] = offers, redemption
    return {key: pd.concat(parts, ignore_index=True) for key, parts in frames.items()}


def waste_series(s: Story, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    days = _days(s)
    years = (days - np.datetime64(s.history_start)).astype(int) / 365.25
    weekday = _weekday(days)
    pilot = _after(days, s.forecast_live)
    rate_season = (
        0.12 * _annual(days, 196) + np.where(weekday == 0, 0.10, 0.0) - np.where(weekday == 5, 0.06, 0.0)
    )
    sales_season = (
        1
        + 0.12 * _annual(days, 355)
        + np.select([weekday == 4, weekday == 5, weekday == 6], [0.2, 0.3, -0.45], 0)
    )
    rates, written, sales = [], [], []
    for i, (code, region, _) in enumerate(stores()):
        base = 4.30 + 1.0 * ((i * 7) % 11) / 10  # 4.3 … 5.3, about 4.8 on average
        effect = FORECAST_EFFECT * pilot if region == PILOT_REGION else 0.0
        rate = base - 0.20 * years + rate_season + effect + rng.normal(0, 0.22, len(days))
        revenue = (
            (9_000 + 700 * ((i * 5) % 9)) * sales_season * (1 + 0.02 * years) * rng.normal(1, 0.04, len(days))
        )
        rate, revenue = np.round(rate, 3), np.round(revenue, 2)
        rates.append(_frame(days, code, rate, 3))
        sales.append(_frame(days, code, revenue, 2))
        written.append(_frame(days, code, revenue * rate / 100, 2))
    return {
        WASTE_KPI: pd.concat(rates, ignore_index=True),
        "fresh_written_off": pd.concat(written, ignore_index=True),
        "fresh_sales": pd.concat(sales, ignore_index=True),
    }


def invoice_table(s: Story, rng: np.random.Generator) -> pd.DataFrame:
    """The demo ERP's daily invoice counts per region, through today (so far): the SQL source."""
    days = _days(s, through=s.today)
    elapsed = (days - np.datetime64(s.history_start)).astype(int)
    weekday = _weekday(days)
    broken = days >= np.datetime64(s.today - timedelta(days=INVOICE_BREAK_DAYS))
    progress = np.minimum(35.0 + 0.018 * elapsed, 48.0)  # the automation project's steady gains
    rows = []
    for i, code in enumerate(REGIONS):
        received = np.where(weekday < 5, 560 + 40 * i, 35) * rng.normal(1, 0.05, len(days))
        received[-1] *= 0.6  # today is not over yet
        received = np.round(received)
        stp = np.where(broken, 29.5, progress) + rng.normal(0, 1.2, len(days))
        posted = np.round(received * stp / 100)
        rows.append(pd.DataFrame({"posting_date": days.astype(str), "region": code,
                                  "invoices_received": received.astype(int),
                                  "invoices_auto_posted": posted.astype(int)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def write_erp(path: Path, table: pd.DataFrame) -> None:
    """The demo's ERP database, the target of the SQL source `greenway_erp`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE ap_invoices_daily (posting_date TEXT NOT NULL, region TEXT NOT NULL, "
            "invoices_received INTEGER NOT NULL, invoices_auto_posted INTEGER NOT NULL, "
            "PRIMARY KEY (posting_date, region))"
        )
        conn.executemany("INSERT INTO ap_invoices_daily VALUES (?, ?, ?, ?)", table.itertuples(index=False))
    path.with_suffix(".sqlite-journal").unlink(missing_ok=True)


ERP_QUERY = (
    "SELECT posting_date AS period, region AS segment, {column} AS value\n"
    "FROM ap_invoices_daily\n"
    "WHERE posting_date > :since\n"
    "ORDER BY posting_date, region"
)


def _store_observations(
    db: Database, kpi_ids: dict[str, int], series: dict[str, pd.DataFrame], people: dict[str, User]
) -> None:
    """One demo batch per KPI, written through the ingest's storage (bulk rows and roll-ups)."""
    with db.transaction() as session:
        for key, frame in series.items():
            row = session.get_one(KpiRow, kpi_ids[key])
            periods = frame["period"].to_numpy(dtype="datetime64[D]")
            owner = next(p for p in people.values() if p.id == row.owner_id)
            batch = IngestBatchRow(
                kpi_id=row.id,
                source="demo",
                file_name="demo history",
                rows_total=len(frame),
                period_min=formats.day(periods.min()),
                period_max=formats.day(periods.max()),
                declared_format={},
                loaded_by_id=owner.id,
                loaded_by_name=owner.display_name,
            )
            session.add(batch)
            session.flush()
            clean = validation.Validated(
                periods, pd.Categorical(frame["segment"]), frame["value"].to_numpy(float), len(frame)
            )
            counts = storage.store(session, row, clean, batch)
            batch.rows_new, batch.rows_changed, batch.rows_unchanged = counts
            audit.record(
                session,
                by=owner,
                action="kpi.ingest",
                entity_type="kpi",
                entity_id=row.id,
                after={"batch": batch.id, "source": "demo", "rows": len(frame), "new": counts[0]},
            )
        kpi_alerts.evaluate_alerts(session, list(kpi_ids.values()))


def seed(db: Database, people: dict[str, User]) -> None:
    """Add the KPI story to a demo workspace that has its users and goals."""
    s = story()
    rng = np.random.default_rng(SEED)
    for owner, drafts in DICTIONARY.items():
        for draft in drafts:
            dictionary.create_field(db, people[owner], draft)
    region_store = hierarchies.create_hierarchy(
        db,
        people["bruno"],
        hierarchies.HierarchyDraft(
            "region_store",
            "Region → Store",
            ("Region", "Store"),
            "Sales regions and their stores, as in the ERP.",
        ),
    )
    nodes = [(code, name, "") for code, (name, _) in REGIONS.items()] + [
        (c, label, r) for c, r, label in stores()
    ]
    hierarchies.import_nodes(
        db, people["bruno"], region_store.id, region_store.version, _csv(nodes), "stores.csv"
    )
    category = hierarchies.create_hierarchy(
        db,
        people["bruno"],
        hierarchies.HierarchyDraft(
            "category_product",
            "Category → Product group",
            ("Category", "Product group"),
            "The assortment: categories and their product groups.",
        ),
    )
    groups = [(code, name, "") for code, (name, _) in CATEGORIES.items()]
    groups += [(g, label, code) for code, (_, members) in CATEGORIES.items() for g, label in members.items()]
    hierarchies.import_nodes(
        db, people["bruno"], category.id, category.version, _csv(groups), "categories.csv"
    )

    goal_ids = {g.title: g.id for g in list_goals(db)}
    ids: dict[str, int] = {}
    for item in _kpis(s, region_store.id):
        parent = ids.get(item.parent) if item.parent else None
        created = definitions.create_kpi(
            db, people[item.owner], goal_ids[item.goal_title], replace(item.draft, parent_id=parent)
        )
        ids[created.key] = created.id
    stp = definitions.get_kpi(db, ids[INVOICE_KPI])
    definitions.update_kpi(
        db,
        people["fatima"],
        stp.id,
        stp.version,
        entities.KpiDraft.of(stp, formula="ratio", numerator_id=ids["invoices_auto_posted"],
                         denominator_id=ids["invoices_received"], ratio_scale=100.0),
    )  # fmt: skip

    erp = invoice_table(s, rng)
    write_erp(sources.demo_source_path(db.settings), erp)
    history = erp[erp["posting_date"] < s.today.isoformat()]
    invoice_frames = {
        key: pd.DataFrame({"period": history["posting_date"].to_numpy(dtype="datetime64[D]"),
                           "segment": history["region"], "value": history[key].astype(float)})
        for key in ("invoices_received", "invoices_auto_posted")
    }  # fmt: skip
    series = {**churn_series(s, rng), **waste_series(s, rng), **invoice_frames}
    _store_observations(db, ids, series, people)

    connection = sources.save_connection(
        db,
        people["ada"],
        sources.ConnectionDraft(
            sources.DEMO_SOURCE,
            "Greenway's ERP (accounts payable). In the demo a SQLite file in the data folder.",
            10,
        ),
    )
    for key in ("invoices_received", "invoices_auto_posted"):
        sources.attach_query(
            db,
            people["fatima"],
            ids[key],
            connection.id,
            ERP_QUERY.format(column=key),
            formats.SourceFormat(),
        )


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["code,label,parent_code"] + [",".join(f'"{v}"' for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


if __name__ == "__main__":
    for written_path in write_samples():
        print(f"{written_path} ({written_path.stat().st_size:,} bytes)")
