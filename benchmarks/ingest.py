"""Validated ingestion against a raw insert: a 1,000,000-row CSV for one KPI with 500 segments.

The raw baseline reads the same file with the csv module and inserts the same rows into the same
table (a fresh database each time): with `executemany` in one transaction on SQLite, with `COPY`
on PostgreSQL. The validated path is `ingest.load_file`: decode, parse every date and number,
check every segment against the hierarchy, refuse duplicates, compare with what is stored, write,
rebuild the week and month roll-ups and check the alerts, in one transaction.
Target (issue 3): validated ingestion including roll-ups within 2.5× of the raw baseline.

Run: python -m benchmarks.ingest [--rows 1000000] [--rounds 3] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from benchmarks.support import Target, account, cheap_sign_ins, database, report
from flightdeck.business import goals, hierarchies
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, entities, ingest, validation
from flightdeck.orm import ObservationRow
from flightdeck.tabular import bulk, uploads
from flightdeck.tabular.formats import SourceFormat

SEGMENTS = 500
GOAL = 2.5


def write_file(path: Path, rows: int) -> None:
    """ISO dates, decimal point, commas: `rows // SEGMENTS` days × SEGMENTS stores."""
    rng = random.Random(42)
    start = date(2019, 1, 1)
    with path.open("w", newline="") as handle:
        handle.write("period,segment,value\n")
        for i in range(rows):
            handle.write(
                f"{start + timedelta(days=i // SEGMENTS)},S{i % SEGMENTS:03d},{rng.uniform(0, 5000):.2f}\n"
            )


@contextmanager
def fresh(dialect: str, folder: Path) -> Iterator[Database]:
    """An empty, migrated workspace with one owner, a goal, a store hierarchy and a KPI."""
    with database(dialect, folder) as db:
        db.upgrade()
        user = account(db, "owner", Role.BUSINESS_OWNER)
        goal = goals.create_goal(db, user, goals.GoalDraft(title="Sell more"))
        stores = hierarchies.create_hierarchy(
            db, user, hierarchies.HierarchyDraft("stores", "Stores", ("Store",))
        )
        nodes = "code,label\n" + "".join(f"S{i:03d},Store {i}\n" for i in range(SEGMENTS))
        hierarchies.import_nodes(db, user, stores.id, stores.version, nodes.encode(), "stores.csv")
        definitions.create_kpi(
            db,
            user,
            goal.id,
            entities.KpiDraft(
                key="sales", name="Sales", unit="EUR", aggregation="sum", hierarchy_id=stores.id
            ),
        )
        yield db


def raw_insert(db: Database, path: Path) -> tuple[float, float]:
    """(read + insert, insert alone) in seconds: no validation, no roll-ups, no comparison."""
    kpi_id = definitions.get_kpi_by_key(db, "sales").id
    started = time.perf_counter()
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [(kpi_id, period, segment, float(value), None) for period, segment, value in reader]
    read = time.perf_counter()
    with db.transaction() as session:
        bulk.insert(
            session, ObservationRow.__tablename__, ("kpi_id", "period", "segment", "value", "batch_id"), rows
        )
    done = time.perf_counter()
    return done - started, done - read


def validated(db: Database, path: Path) -> tuple[float, ingest.LoadResult]:
    kpi_id = definitions.get_kpi_by_key(db, "sales").id
    started = time.perf_counter()
    data = path.read_bytes()
    result = ingest.load_file(
        db,
        None,
        kpi_id,
        data,
        path.name,
        SourceFormat(delimiter=","),
        validation.ColumnMapping("period", "value", "segment"),
    )
    return time.perf_counter() - started, result


def median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    cheap_sign_ins()
    os.environ[uploads.MAX_UPLOAD_ENV] = "500"
    folder = Path(tempfile.mkdtemp(prefix="flightdeck-bench-ingest-"))
    path = folder / "sales.csv"
    write_file(path, args.rows)
    print(
        f"{args.rows:,} rows, {SEGMENTS} segments, {path.stat().st_size / 1e6:.1f} MB; "
        f"median of {args.rounds} rounds"
    )
    targets: list[Target] = []
    for dialect in ("sqlite",) if args.sqlite_only else ("sqlite", "postgresql"):
        raw, insert_only, ours, again = [], [], [], []
        for _ in range(args.rounds):
            with fresh(dialect, folder) as db:
                total, alone = raw_insert(db, path)
                raw.append(total)
                insert_only.append(alone)
            with fresh(dialect, folder) as db:
                seconds, result = validated(db, path)
                assert result.new == args.rows
                ours.append(seconds)
                path.touch()
                reloaded = time.perf_counter()
                repeat = ingest.load_file(
                    db, None, result.kpi_id, path.read_bytes(), "again.csv", SourceFormat(delimiter=","),
                    validation.ColumnMapping("period", "value", "segment"), force=True,
                )  # fmt: skip
                assert repeat.unchanged == args.rows
                again.append(time.perf_counter() - reloaded)
        baseline = "executemany" if dialect == "sqlite" else "COPY"
        raw_s, insert_s, ours_s, again_s = (statistics.median(x) for x in (raw, insert_only, ours, again))
        ratio = ours_s / raw_s
        print(
            f"{dialect}: raw {baseline} {raw_s:.2f} s ({args.rows / raw_s:,.0f} rows/s; the insert alone "
            f"{insert_s:.2f} s), validated with roll-ups {ours_s:.2f} s ({args.rows / ours_s:,.0f} rows/s), "
            f"ratio {ratio:.2f}× (against the insert alone {ours_s / insert_s:.2f}×); "
            f"loading the same file again (all unchanged) {again_s:.2f} s"
        )
        targets.append((f"ingest_{dialect}_ratio", f"{ratio:.2f}× (goal ≤ {GOAL}×)", ratio <= GOAL))
    report(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
