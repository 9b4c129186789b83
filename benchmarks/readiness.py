"""Readiness at scale: a workspace of 1,000 model versions with mixed evidence (200 models on 50
goals, 5 versions each; some features unmapped, some KPIs without a plan, some versions approved,
attested, in production with prediction logs and drift counts, some not).

One real version is registered and evaluated through the registry; the other 999 are copies of
its row with varied evidence, inserted in bulk, so building stays quick. Measured: scoring all
1,000 versions from the database (`readiness.assess_many`: evidence gathered in a fixed number of
queries, every check, the score and next steps), median of 3; storing their snapshots
(`refresh_all`); and the portfolio page's script-run time with AppTest (the whole app run: session
check, navigation and page), median of 5, cold (Streamlit's caches cleared before every run).
Targets (issue 5): scoring under 1 s in total, portfolio page under 300 ms, on SQLite and PostgreSQL.
Run: python -m benchmarks.readiness [--sqlite-only] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from streamlit.testing.v1 import AppTest

from benchmarks.support import (
    PG_URL,
    RUNS,
    Target,
    account,
    analyze,
    cheap_sign_ins,
    database,
    median_ms,
    page_runs,
    report,
    sign_in,
)
from flightdeck.business import dictionary, goals
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, entities
from flightdeck.models import records, registry, versioning
from flightdeck.orm import (
    AttestationRow,
    DeploymentRow,
    FeatureMapRow,
    LogBatchRow,
    ModelRow,
    ModelVersionRow,
    PredictionBinRow,
    StageEventRow,
)
from flightdeck.readiness import scoring, snapshots
from flightdeck.readiness.rubric import CHECKS
from tests.factories import FEATURES, churn_frame, csv_bytes, fitted_classifier, skops_bytes

GOALS, MODELS, VERSIONS_PER_MODEL = 50, 200, 5
ATTESTED = [c.id for c in CHECKS if c.attested]


@contextmanager
def workspace(dialect: str, folder: Path, pg_url: str) -> Iterator[tuple[Database, str]]:
    """The 1,000-version workspace; yields the database and a signed-in viewer's session token."""
    with database(dialect, folder, pg_url) as db:
        build(db)
        yield db, sign_in(db, "viewer")


def build(db: Database) -> None:
    started = time.perf_counter()
    db.upgrade()
    owner = account(db, "owner", Role.BUSINESS_OWNER)
    scientist = account(db, "scientist", Role.DATA_SCIENTIST)
    account(db, "viewer", Role.VIEWER)
    fields = [
        dictionary.create_field(
            db, owner, dictionary.FieldDraft(f, f.replace("_", " "), "decimal", "Meaning.", unit="u")
        )
        for f in FEATURES
    ]
    goal_ids, kpi_ids = [], []
    for g in range(GOALS):
        goal = goals.create_goal(
            db, owner, goals.GoalDraft(title=f"Goal {g:02d}", value_statement="Worth it." if g % 3 else "")
        )
        plan = (
            {
                "baseline_value": 1.0,
                "baseline_period": date(2026, 1, 1),
                "target_value": 2.0,
                "target_date": date(2027, 1, 1),
                "value_per_unit": 5.0,
            }
            if g % 4
            else {}
        )
        kpi = definitions.create_kpi(
            db, owner, goal.id, entities.KpiDraft(f"kpi_{g:02d}", f"KPI {g:02d}", "u", **plan)
        )
        goal_ids.append(goal.id)
        kpi_ids.append(kpi.id)
    first = registry.create_model(
        db,
        scientist,
        records.ModelDraft("model_000", "Model 000", goal_ids[0], "classification", "", (kpi_ids[0],)),
    )
    frame = churn_frame()
    seed = versioning.create_version(
        db,
        scientist,
        first.id,
        versioning.VersionUpload(
            versioning.Upload("m.skops", skops_bytes(fitted_classifier(frame))),
            versioning.Upload("h.csv", csv_bytes(frame)),
            "churned",
            "region",
        ),
    )
    rng = np.random.default_rng(5)
    now = datetime.now(UTC)
    with db.transaction() as session:
        template = session.get_one(ModelVersionRow, seed.id)
        profile, evaluation = template.profile, template.evaluation
        model_rows = [
            {
                "key": f"model_{m:03d}",
                "name": f"Model {m:03d}",
                "goal_id": goal_ids[m % GOALS],
                "task": "classification",
                "created_by_id": scientist.id,
                "updated_by_id": scientist.id,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for m in range(1, MODELS)
        ]
        session.execute(insert(ModelRow), model_rows)
        models = dict(session.execute(select(ModelRow.key, ModelRow.id)).all())
        versions = []
        for m in range(MODELS):
            for n in range(1, VERSIONS_PER_MODEL + 1):
                if m == 0 and n == 1:
                    continue
                stage = ("draft", "in_review", "approved", "production", "retired")[(m + n) % 5]
                versions.append(
                    {
                        "model_id": models[f"model_{m:03d}"],
                        "number": n,
                        "stage": stage,
                        "artifact_sha256": template.artifact_sha256,
                        "framework": template.framework,
                        "estimator": template.estimator,
                        "features": FEATURES,
                        "feature_kinds": template.feature_kinds,
                        "target": "churned",
                        "training_date": date.today() - timedelta(days=int(rng.integers(1, 200))),
                        "training_reference": "git: x@1" if n % 2 else "",
                        "intended_use": "Use." if m % 3 else "",
                        "limitations": "Limits." if m % 5 else "",
                        "refresh_days": 90 if m % 2 else None,
                        "evaluation": evaluation,
                        "profile": profile,
                        "profile_source": ("holdout", "reference")[n % 2],
                        "evaluated_at": now,
                        "created_by_id": scientist.id,
                        "created_at": now,
                        "updated_at": now,
                        "updated_by_id": scientist.id,
                        "version": 1,
                    }
                )
        session.execute(insert(ModelVersionRow), versions)
        rows = session.execute(
            select(ModelVersionRow.id, ModelVersionRow.model_id, ModelVersionRow.stage)
        ).all()
        maps, events, attestations, batches, bins, deployments = [], [], [], [], [], []
        for vid, model_id, stage in rows:
            if vid == seed.id:
                continue
            for position, (feature, field) in enumerate(zip(FEATURES, fields, strict=True)):
                mapped = (vid + position) % 7 != 0
                maps.append(
                    {
                        "version_id": vid,
                        "feature": feature,
                        "position": position,
                        "field_id": field.id if mapped else None,
                        "confirmed_by_id": scientist.id if mapped else None,
                    }
                )
            if stage in ("approved", "production", "retired"):
                events.append(
                    {
                        "version_id": vid,
                        "action": "approve",
                        "from_stage": "in_review",
                        "to_stage": "approved",
                        "rationale": "Fine.",
                        "actor_id": None,
                        "actor_name": "Reviewer",
                        "at": now,
                    }
                )
            for check in ATTESTED[: vid % (len(ATTESTED) + 1)]:
                attestations.append(
                    {
                        "version_id": vid,
                        "check_id": check,
                        "note": "Checked.",
                        "link": "",
                        "by_id": owner.id,
                        "by_name": "Owner",
                        "at": now,
                        "withdrawn_by_name": "",
                    }
                )
            if stage == "production":
                deployments.append(
                    {
                        "model_id": model_id,
                        "version_id": vid,
                        "scope": "",
                        "started_at": now - timedelta(days=60),
                        "started_by_name": "Scientist",
                        "ended_by_name": "",
                    }
                )
                batches.append(
                    {
                        "model_id": model_id,
                        "version_id": vid,
                        "kind": "predictions",
                        "source": "cli",
                        "rows": 1000,
                        "first_at": now - timedelta(days=30),
                        "last_at": now - timedelta(days=int(vid % 12)),
                        "loaded_by_name": "Scientist",
                        "loaded_at": now,
                    }
                )
                for day in range(0, 30, 3):
                    for feature in FEATURES:
                        shares = np.asarray(profile[feature]["proportions"], dtype=float)
                        if vid % 3 == 0 and feature == FEATURES[0]:
                            shares = shares[::-1]  # a drifted input
                        counts = rng.multinomial(200, shares / shares.sum())
                        bins += [
                            {
                                "version_id": vid,
                                "day": date.today() - timedelta(days=day),
                                "feature": feature,
                                "bin": int(b),
                                "count": int(c),
                            }
                            for b, c in enumerate(counts)
                            if c
                        ]
        for table, data in (
            (FeatureMapRow, maps),
            (StageEventRow, events),
            (AttestationRow, attestations),
            (DeploymentRow, deployments),
            (LogBatchRow, batches),
            (PredictionBinRow, bins),
        ):
            for start in range(0, len(data), 5000):
                session.execute(insert(table), data[start : start + 5000])
    analyze(db)
    elapsed = time.perf_counter() - started
    print(f"  built {len(rows):,} versions ({len(bins):,} drift counts) in {elapsed:.0f} s")


def score_all(db: Database) -> tuple[float, dict[str, int]]:
    with db.read() as session:
        ids = list(session.scalars(select(ModelVersionRow.id)))
        started = time.perf_counter()
        found = scoring.assess_many(session, ids)
        elapsed = time.perf_counter() - started
    levels: dict[str, int] = {}
    for r in found.values():
        levels[r.score.level] = levels.get(r.score.level, 0) + 1
    return elapsed, levels


def portfolio_listed(at: AppTest) -> None:
    assert len(at.dataframe[0].value) > 500


def measure(dialect: str, pg_url: str, targets: list[Target]) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"flightdeck-bench-readiness-{dialect}-"))
    print(f"{dialect}:")
    with workspace(dialect, folder, pg_url) as (db, token):
        timings, levels = [], {}
        for _ in range(3):
            elapsed, levels = score_all(db)
            timings.append(elapsed)
        score_ms = median_ms(timings)
        print(
            f"  scored {sum(levels.values()):,} versions in {score_ms:.0f} ms (median of 3); levels {levels}"
        )
        started = time.perf_counter()
        stored = snapshots.refresh_all(db, "Benchmark")
        print(f"  stored {stored:,} snapshots in {(time.perf_counter() - started) * 1000:.0f} ms")
        page_ms = median_ms(page_runs(db, token, "pages/portfolio.py", portfolio_listed, cold=True))
        print(f"  portfolio page script run {page_ms:.0f} ms cold (median of {RUNS})")
        targets.append(
            (f"readiness_score_{dialect}_ms", f"{score_ms:.0f} ms (goal < 1000 ms)", score_ms < 1000)
        )
        targets.append((f"portfolio_page_{dialect}_ms", f"{page_ms:.0f} ms (goal < 300 ms)", page_ms < 300))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--pg-url", default=PG_URL, help="PostgreSQL server (a fresh schema is used and dropped)"
    )
    args = parser.parse_args()
    cheap_sign_ins()
    targets: list[Target] = []
    for dialect in ("sqlite",) if args.sqlite_only else ("sqlite", "postgresql"):
        measure(dialect, args.pg_url, targets)
    report(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
