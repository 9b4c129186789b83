"""Drift bookkeeping at prediction ingest: counts per version, day, feature and reference bin, and
the drift over a window read back from them in SQL."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.models import drift, drift_stats, prediction_logs, registry
from flightdeck.models.drift_stats import Band
from flightdeck.orm import PredictionBinRow
from flightdeck.tabular.findings import Rejected
from tests.factories import FEATURES, add_model, add_user, add_version, churn_frame, csv_bytes


@pytest.fixture
def churn(db: Database) -> dict:
    dana = add_user(db, "dana", Role.DATA_SCIENTIST)
    model = add_model(db, dana, add_user(db, "bianca", Role.BUSINESS_OWNER))
    version = add_version(db, dana, model.id)
    return {"dana": dana, "model": model, "version": version}


def log_for(days: list[str], frame: pd.DataFrame) -> bytes:
    """One logged prediction per row of `frame`, spread over `days`."""
    out = frame[FEATURES].copy()
    out.insert(0, "timestamp", [days[i % len(days)] for i in range(len(frame))])
    out.insert(1, "subject_key", [f"GC-{i}" for i in range(len(frame))])
    out.insert(2, "prediction", 0.5)
    return csv_bytes(out)


def counts(db: Database, version_id: int, feature: str) -> dict[tuple[date, int], int]:
    with db.read() as session:
        rows = session.execute(
            select(PredictionBinRow.day, PredictionBinRow.bin, PredictionBinRow.count).where(
                PredictionBinRow.version_id == version_id, PredictionBinRow.feature == feature
            )
        ).all()
    return {(d, b): c for d, b, c in rows}


def test_every_logged_value_is_counted_once_in_its_day_and_reference_bin(db: Database, churn: dict) -> None:
    frame = churn_frame(rows=300, seed=3)
    prediction_logs.ingest_predictions(
        db, churn["dana"], churn["model"].id, 1, log_for(["2026-03-01", "2026-03-02"], frame), "a.csv"
    )
    profile = registry.get_profile(db, churn["version"].id)["tenure_months"]
    stored = counts(db, churn["version"].id, "tenure_months")
    assert sum(stored.values()) == 300
    day_one = frame["tenure_months"].to_numpy()[::2]
    expected = drift_stats.bin_counts(day_one, profile["edges"])
    assert [stored.get((date(2026, 3, 1), b), 0) for b in range(10)] == expected.tolist()


def test_a_second_load_for_the_same_day_adds_to_its_counts(db: Database, churn: dict) -> None:
    first, second = churn_frame(rows=100, seed=4), churn_frame(rows=50, seed=5)
    for name, frame in (("a.csv", first), ("b.csv", second)):
        prediction_logs.ingest_predictions(
            db, churn["dana"], churn["model"].id, 1, log_for(["2026-03-01"], frame), name
        )
    assert sum(counts(db, churn["version"].id, "visits_last_30d").values()) == 150


def test_a_rejected_log_leaves_no_counts(db: Database, churn: dict) -> None:
    bad = log_for(["2026-03-01"], churn_frame(rows=20, seed=6)).replace(b"2026-03-01", b"yesterday", 1)
    with pytest.raises(Rejected):
        prediction_logs.ingest_predictions(db, churn["dana"], churn["model"].id, 1, bad, "bad.csv")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PredictionBinRow)) == 0


def test_drift_over_a_window_matches_psi_on_the_raw_values(db: Database, churn: dict) -> None:
    live = churn_frame(rows=800, seed=9)
    live["tenure_months"] = live["tenure_months"] + 40  # the members got older
    prediction_logs.ingest_predictions(
        db, churn["dana"], churn["model"].id, 1, log_for(["2026-03-10"], live), "l.csv"
    )
    with db.read() as session:
        summary = drift.drift_summary_many(session, [churn["version"].id], today=date(2026, 3, 20))[
            churn["version"].id
        ]
    assert summary is not None
    assert summary.worst is Band.MAJOR
    by_feature = {f.feature: f for f in summary.features}
    assert by_feature["tenure_months"].status is Band.MAJOR
    profile = registry.get_profile(db, churn["version"].id)["tenure_months"]
    direct = drift_stats.psi(
        profile["proportions"], drift_stats.bin_counts(live["tenure_months"], profile["edges"])
    )
    assert by_feature["tenure_months"].psi.value == pytest.approx(direct.value)
    assert by_feature["visits_last_30d"].status is Band.STABLE


def test_no_logs_in_the_window_is_no_evidence_not_a_pass(db: Database, churn: dict) -> None:
    prediction_logs.ingest_predictions(
        db, churn["dana"], churn["model"].id, 1, log_for(["2026-01-05"], churn_frame(rows=50)), "old.csv"
    )
    with db.read() as session:
        found = drift.drift_summary_many(session, [churn["version"].id, 999], today=date(2026, 3, 20))
    assert found == {churn["version"].id: None, 999: None}


def test_identical_inputs_show_no_drift(db: Database, churn: dict) -> None:
    same = churn_frame(rows=600)
    prediction_logs.ingest_predictions(
        db, churn["dana"], churn["model"].id, 1, log_for(["2026-03-19"], same), "s.csv"
    )
    with db.read() as session:
        summary = drift.drift_summary_many(session, [churn["version"].id], today=date(2026, 3, 20))[
            churn["version"].id
        ]
    assert summary is not None
    assert summary.worst is Band.STABLE
    assert all(np.isclose(f.psi.value, 0.0, atol=1e-9) for f in summary.features)
