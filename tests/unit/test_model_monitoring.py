"""Monitoring a production model: drift per window (KS on small windows, the prediction's own
drift, drift over time) and its alerts, raised once per condition and cleared on recovery."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest

from flightdeck import __main__ as cli
from flightdeck import orm
from flightdeck.alerts import inbox
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.impact import impact_alerts
from flightdeck.models import (
    drift,
    drift_stats,
    log_files,
    model_alerts,
    outcome_logs,
    prediction_logs,
    records,
    registry,
)
from flightdeck.models.drift_stats import Band
from tests.factories import (
    FEATURES,
    add_model,
    add_user,
    add_version,
    churn_frame,
    csv_bytes,
    fitted_classifier,
    go_live,
)
from tests.kpi_factories import csv_file, days, load, make_kpi, workspace

LIVE = date(2026, 3, 1)


def production(db: Database) -> dict:
    """A churn model whose v1 (trained 2026-02-01, refreshed every 60 days) serves from LIVE."""
    dana = add_user(db, "dana", Role.DATA_SCIENTIST)
    model = add_model(db, dana, add_user(db, "bianca", Role.BUSINESS_OWNER))
    version = add_version(db, dana, model.id, training_date=date(2026, 2, 1), refresh_days=60)
    rita = add_user(db, "rita", Role.REVIEWER)
    moment = datetime.combine(LIVE, time(7), tzinfo=UTC)
    go_live(db, dana, rita, version.id, moment)
    return {"dana": dana, "model": model, "version": version}


@pytest.fixture
def churn(db: Database) -> dict:
    return production(db)


def log_for(day: date, frame: pd.DataFrame, prediction: np.ndarray | float = 0.5) -> bytes:
    out = frame[FEATURES].copy()
    out.insert(0, "timestamp", f"{day}T09:00:00Z")
    out.insert(1, "subject_key", [f"GC-{day}-{i}" for i in range(len(frame))])
    out.insert(2, "prediction", prediction)
    return csv_bytes(out)


def ingest(
    db: Database, churn: dict, day: date, frame: pd.DataFrame, **options: object
) -> log_files.LogResult:
    data = log_for(day, frame, **options)  # type: ignore[arg-type]
    return prediction_logs.ingest_predictions(db, churn["dana"], churn["model"].id, 1, data, f"{day}.csv")


def open_alerts(db: Database, kind: str) -> list[inbox.Alert]:
    return [a for a in inbox.list_alerts(db, states=("open", "acknowledged")) if a.kind == kind]


def older(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(tenure_months=frame["tenure_months"] + 60)  # far beyond the training range


def test_the_prediction_profile_is_the_holdout_scores_binned_like_a_feature(
    db: Database, churn: dict
) -> None:
    with db.read() as session:
        evaluation = session.get_one(orm.ModelVersionRow, churn["version"].id).evaluation
    profile = drift.prediction_profile(evaluation)
    assert profile is not None
    frame = churn_frame()
    scores = fitted_classifier(frame).predict_proba(frame[FEATURES])[:, 1]
    direct = drift_stats.bin_counts(scores, profile["edges"]) / len(scores)
    assert profile["proportions"] == pytest.approx(direct.tolist())
    assert max(profile["proportions"]) < 0.2  # about deciles: no bin holds most of the scores


def test_a_small_window_is_judged_with_ks_and_the_prediction_drift_is_reported(
    db: Database, churn: dict
) -> None:
    day = LIVE + timedelta(days=2)
    ingest(db, churn, day, older(churn_frame(rows=200, seed=3)), prediction=0.95)
    with db.read() as session:
        found = drift.window_drift(session, churn["version"].id, day - timedelta(days=6), day)
    by_feature = {f.feature: f for f in found.features}
    tenure = by_feature["tenure_months"]
    assert tenure.n == 200
    assert tenure.ks is not None
    assert tenure.ks.drifted
    assert tenure.status is Band.MAJOR
    visits = by_feature["visits_last_30d"]
    assert visits.ks is not None
    assert visits.status is Band.STABLE  # same distribution: KS overrules the noisy small-sample PSI
    assert found.worst is Band.MAJOR
    assert found.prediction is not None
    assert found.prediction.n == 200
    assert found.prediction.status is Band.MAJOR  # every score at 0.95


def test_drift_over_time_shows_the_week_it_started(db: Database, churn: dict) -> None:
    ingest(db, churn, LIVE + timedelta(days=1), churn_frame(rows=600, seed=4))
    ingest(db, churn, LIVE + timedelta(days=15), older(churn_frame(rows=600, seed=5)))
    end = LIVE + timedelta(days=20)
    with db.read() as session:
        over_time = drift.drift_over_time(session, churn["version"].id, end, windows=4, window_days=7)
    tenure = over_time[over_time["feature"] == "tenure_months"].set_index("window_end")
    assert tenure.loc[end - timedelta(days=14), "psi"] < 0.1
    assert tenure.loc[end - timedelta(days=14), "n"] == 600
    assert tenure.loc[end, "psi"] > 0.25
    assert np.isnan(tenure.loc[end - timedelta(days=21), "psi"])  # nothing logged that week
    assert "prediction" in set(over_time["feature"])


def test_major_drift_raises_one_alert_that_clears_when_the_inputs_recover(db: Database, churn: dict) -> None:
    first = ingest(db, churn, LIVE + timedelta(days=1), older(churn_frame(rows=600, seed=6)))
    assert any("major input drift in tenure_months" in a for a in first.alerts)
    again = ingest(db, churn, LIVE + timedelta(days=2), older(churn_frame(rows=600, seed=7)))
    assert not any("drift" in a for a in again.alerts)
    (alert,) = open_alerts(db, "model_drift")
    assert alert.entity_type == "model"
    assert alert.goal_id == churn["model"].goal_id  # the goal owner's inbox
    ingest(db, churn, LIVE + timedelta(days=40), churn_frame(rows=600, seed=8))  # window has moved on
    assert open_alerts(db, "model_drift") == []
    assert [a.state for a in inbox.list_alerts(db) if a.kind == "model_drift"] == ["cleared"]


def test_a_performance_drop_beyond_the_tolerance_raises_a_critical_alert(db: Database, churn: dict) -> None:
    frame = churn_frame(rows=300, seed=9)
    scores = fitted_classifier(churn_frame()).predict_proba(frame[FEATURES])[:, 1]
    day = LIVE + timedelta(days=1)
    ingest(db, churn, day, frame, prediction=np.round(scores, 4))
    wrong = pd.DataFrame(
        {
            "observed_at": f"{day}T18:00:00Z",
            "subject_key": [f"GC-{day}-{i}" for i in range(len(frame))],
            "outcome": 1 - frame["churned"],  # the opposite of what happened: ROC AUC far below holdout
        }
    )
    result = outcome_logs.ingest_outcomes(db, churn["dana"], churn["model"].id, csv_bytes(wrong), "o.csv")
    assert any("live performance dropped" in a for a in result.alerts)
    (alert,) = open_alerts(db, "model_performance")
    assert alert.severity == "critical"
    assert "ROC AUC" in alert.message


def test_refresh_overdue_is_raised_by_the_daily_check_and_cleared_by_a_new_schedule(
    db: Database, churn: dict
) -> None:
    with db.transaction() as session:
        assert model_alerts.evaluate_logs(session, churn["model"].id, today=date(2026, 3, 30)) == []
    raised = impact_alerts.evaluate_all(db, today=date(2026, 4, 15))
    assert any("refresh overdue" in m and "due on 2026-04-02" in m for m in raised)
    assert impact_alerts.evaluate_all(db, today=date(2026, 4, 16)) == []  # once, not every day
    with db.transaction() as session:
        model_alerts.evaluate_logs(session, churn["model"].id, today=date(2026, 3, 30))
    assert open_alerts(db, "model_refresh") == []


def test_an_impact_that_turns_negative_with_confidence_raises_an_alert_at_the_kpi_load(db: Database) -> None:
    ws = workspace(db)
    churn = make_kpi(db, ws, "churn")
    model = registry.create_model(
        db,
        ws.scientist,
        records.ModelDraft("m", "Churn model", ws.goal.id, "classification", "", (churn.id,)),
    )
    version = add_version(db, ws.scientist, model.id)
    rita = add_user(db, "rita", Role.REVIEWER)
    live = date(2025, 3, 1)
    go_live(db, ws.scientist, rita, version.id, datetime.combine(live, time(7), tzinfo=UTC))
    rng = np.random.default_rng(1)
    when = days(live - timedelta(days=60), 90)
    control = 2.4 + rng.normal(0, 0.03, len(when))
    worse = control + 0.3 * np.array([d >= live for d in when]) + rng.normal(0, 0.02, len(when))
    rows = [(d, "control", c) for d, c in zip(when, control, strict=True)]
    result = load(
        db, ws.owner, churn, csv_file(rows + [(d, "treatment", t) for d, t in zip(when, worse, strict=True)])
    )
    assert any("Churn model is making Churn worse" in a for a in result.alerts)
    (alert,) = open_alerts(db, "model_impact")
    assert alert.severity == "critical"
    fixed = [(d, "treatment", c) for d, c in zip(when, control + 0.001, strict=True)]
    load(db, ws.owner, churn, csv_file(fixed), name="corrected.csv")
    assert open_alerts(db, "model_impact") == []


def test_the_daily_command_raises_what_only_time_changes(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    production(cli_db)  # trained 2026-02-01, refreshed every 60 days: overdue long before today
    assert cli.main(["alerts", "evaluate"]) == 0
    out = capsys.readouterr().out
    assert "1 newly raised or escalated" in out
    assert "refresh overdue" in out
    assert cli.main(["alerts", "evaluate"]) == 0
    assert "0 newly raised" in capsys.readouterr().out
