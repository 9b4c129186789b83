"""The KPI monitoring page at scale: a workspace of 100 KPIs and 5,000,000 observations.

The monitored KPI is the largest, as a chain's store-level KPIs are: daily sales of 1,000 stores
in 10 regions over 1,000 days (1,000,000 observations); 99 more KPIs of 40 stores each hold the
other four million. The page's script-run time is measured with AppTest (the whole app run:
session check, navigation and page), median of 5, both cold (Streamlit's caches cleared before
every run, as on a first visit) and warm; it is compared with loading that KPI's observations
into pandas and aggregating there (the weekly total and the regions the page shows). A KPI of
typical size is measured too, for the record.
Targets (issue 3): under 300 ms on SQLite and PostgreSQL, and at least 10× faster than pandas.

Run: python -m benchmarks.kpi_page [--sqlite-only]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from benchmarks.support import (
    RUNS,
    Target,
    account,
    analyze,
    charts_shown,
    cheap_sign_ins,
    database,
    median_ms,
    page_runs,
    report,
    sign_in,
    store_observations,
)
from flightdeck.business import goals, hierarchies
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, entities, validation
from flightdeck.orm import KpiRow

REGIONS, STORES_PER_REGION, DAYS = 10, 100, 1000
SMALL_KPIS, SMALL_STORES, SMALL_DAYS = 99, 40, 1011
OTHER_GOALS = 19  # the 95 KPIs that drive nothing of the largest spread over goals, five each


def store_codes() -> list[tuple[str, str]]:
    return [(f"R{r}S{s:03d}", f"R{r}") for r in range(REGIONS) for s in range(STORES_PER_REGION)]


def observations(stores: list[str], days: int, rng: np.random.Generator) -> validation.Validated:
    start = np.datetime64("2023-03-01")
    periods = np.repeat(np.arange(start, start + days, dtype="datetime64[D]"), len(stores))
    segments = pd.Categorical(np.tile(np.array(stores, dtype=object), days))
    values = rng.normal(10_000, 1_500, len(periods)).round(2)
    return validation.Validated(periods, segments, values, len(periods))


@contextmanager
def workspace(dialect: str, folder: Path) -> Iterator[tuple[Database, str]]:
    """The 100-KPI workspace; yields the database and a signed-in owner's session token."""
    with database(dialect, folder) as db:
        build(db)
        yield db, sign_in(db, "owner")


def build(db: Database) -> None:
    started = time.perf_counter()
    db.upgrade()
    owner = account(db, "owner", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, owner, goals.GoalDraft(title="Grow store sales"))
    hierarchy = hierarchies.create_hierarchy(
        db, owner, hierarchies.HierarchyDraft("region_store", "Region → Store", ("Region", "Store"))
    )
    rows = [f"R{r},Region {r}," for r in range(REGIONS)] + [
        f"{code},Store {code},{region}" for code, region in store_codes()
    ]
    hierarchies.import_nodes(
        db,
        owner,
        hierarchy.id,
        hierarchy.version,
        ("code,label,parent_code\n" + "\n".join(rows)).encode(),
        "n.csv",
    )
    plan = {
        "baseline_value": 9_500_000,
        "baseline_period": date(2023, 3, 1),
        "target_value": 11_000_000,
        "target_date": date(2026, 12, 31),
        "value_per_unit": 0.3,
        "warning_threshold": 9_000_000,
        "critical_threshold": 8_000_000,
    }
    draft = entities.KpiDraft(
        key="store_sales",
        name="Store sales",
        unit="EUR",
        aggregation="sum",
        hierarchy_id=hierarchy.id,
        **plan,
    )
    big = definitions.create_kpi(db, owner, goal.id, draft)
    rng = np.random.default_rng(7)
    codes = [code for code, _ in store_codes()]
    loads = [(big.id, observations(codes, DAYS, rng))]
    others = [goal.id] + [
        goals.create_goal(db, owner, goals.GoalDraft(title=f"Goal {g:02d}")).id
        for g in range(1, OTHER_GOALS + 1)
    ]
    for i in range(1, SMALL_KPIS + 1):
        kpi = definitions.create_kpi(
            db, owner, others[0] if i <= 4 else others[1 + (i - 5) % OTHER_GOALS],
            entities.KpiDraft(key=f"kpi_{i:02d}", name=f"Driver {i:02d}", unit="EUR", aggregation="sum",
                          hierarchy_id=hierarchy.id, parent_id=big.id if i <= 4 else None),
        )  # fmt: skip
        stores = [codes[(i * 7 + j) % len(codes)] for j in range(SMALL_STORES)]
        loads.append((kpi.id, observations(stores, SMALL_DAYS, rng)))
    total = 0
    for kpi_id, clean in loads:
        store_observations(db, kpi_id, clean)
        total += clean.rows
    analyze(db)
    elapsed = time.perf_counter() - started
    print(f"  built {len({k for k, _ in loads})} KPIs, {total:,} observations in {elapsed:.0f} s")


def pandas_path(db: Database, key: str) -> float:
    """What the page would cost without roll-ups: every observation of the KPI into pandas."""
    region = dict(store_codes())
    with db.read() as session:
        kpi_id = session.query(KpiRow.id).filter(KpiRow.key == key).scalar()
    started = time.perf_counter()
    frame = pd.read_sql_query(
        text("SELECT period, segment, value FROM kpi_observations WHERE kpi_id = :kpi"),
        db.engine,
        params={"kpi": kpi_id},
    )
    frame["period"] = pd.to_datetime(frame["period"])
    last = frame["period"].max()
    window = frame[frame["period"] > last - pd.Timedelta(days=365)]
    week = window["period"] - pd.to_timedelta(window["period"].dt.day_of_week, unit="D")
    window.groupby(week)["value"].sum()
    window.groupby([window["segment"].map(region), week])["value"].sum()
    frame[frame["period"] > last - pd.Timedelta(days=28)].groupby("period")["value"].sum().mean()
    return time.perf_counter() - started


def measure(dialect: str, targets: list[Target]) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"flightdeck-bench-page-{dialect}-"))
    print(f"{dialect}:")
    with workspace(dialect, folder) as (db, token):
        for key, label in (
            ("store_sales", "largest KPI, 1,000,000 observations"),
            ("kpi_01", "a typical KPI, 40,440 observations"),
        ):
            cold = median_ms(page_runs(db, token, "pages/monitor.py", charts_shown, cold=True, kpi=key))
            warm = median_ms(page_runs(db, token, "pages/monitor.py", charts_shown, cold=False, kpi=key))
            frames = median_ms([pandas_path(db, key) for _ in range(3)])
            print(
                f"  {label}: page script run {cold:.0f} ms cold, {warm:.0f} ms warm (median of {RUNS}); "
                f"pandas path {frames:.0f} ms; pandas / page (cold) {frames / cold:.1f}×"
            )
            if key == "store_sales":
                targets.append((f"kpi_page_{dialect}_ms", f"{cold:.0f} ms (goal < 300 ms)", cold < 300))
                targets.append(
                    (
                        f"kpi_page_{dialect}_vs_pandas",
                        f"{frames / cold:.1f}× (goal ≥ 10×)",
                        frames / cold >= 10,
                    )
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    cheap_sign_ins()
    targets: list[Target] = []
    for dialect in ("sqlite",) if args.sqlite_only else ("sqlite", "postgresql"):
        measure(dialect, targets)
    report(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
