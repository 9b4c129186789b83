"""Prediction logs and outcomes: validated like every upload, subject keys pseudonymised before
storage, outcomes joined to the latest earlier prediction of the same subject."""

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from flightdeck import __main__ as cli
from flightdeck.core.db import Database
from flightdeck.core.errors import PermissionDenied
from flightdeck.core.roles import Role
from flightdeck.models import log_files, log_reports, outcome_logs, prediction_logs, pseudonyms
from flightdeck.orm import OutcomeRow, PredictionRow
from flightdeck.tabular.findings import Rejected
from tests.conftest import settings_for
from tests.factories import FEATURES, add_model, add_user, add_version, csv_bytes


@pytest.fixture
def churn(db: Database) -> dict:
    dana = add_user(db, "dana", Role.DATA_SCIENTIST)
    model = add_model(db, dana, add_user(db, "bianca", Role.BUSINESS_OWNER))
    add_version(db, dana, model.id)
    return {"dana": dana, "model": model}


def log(rows: list[tuple[str, str, float]]) -> bytes:
    frame = pd.DataFrame(rows, columns=["timestamp", "subject_key", "prediction"])
    for i, feature in enumerate(FEATURES):
        frame[feature] = [10.0 * (i + 1)] * len(rows)
    frame["segment"] = "N"
    return csv_bytes(frame)


def test_a_log_is_stored_with_pseudonymised_keys_never_the_raw_ones(db: Database, churn: dict) -> None:
    data = log([("2026-03-01T08:00:00Z", "GC-10000001", 0.8), ("2026-03-01 09:30", "GC-10000002", 0.2)])
    result = prediction_logs.ingest_predictions(db, churn["dana"], churn["model"].id, 1, data, "log.csv")
    assert result.rows == 2
    with db.read() as session:
        stored = session.scalars(select(PredictionRow).order_by(PredictionRow.id)).all()
    keys = [p.subject_key for p in stored]
    assert not {"GC-10000001", "GC-10000002"} & set(keys)
    assert all(len(k) == 64 for k in keys)
    secret = pseudonyms.pseudonymisation_key(db.settings)
    assert keys == pseudonyms.pseudonymise(secret, ["GC-10000001", "GC-10000002"])
    assert stored[0].features == {"tenure_months": 10.0, "visits_last_30d": 20.0, "basket_value_eur": 30.0}
    assert (stored[0].segment, stored[0].prediction) == ("N", 0.8)
    assert stored[1].predicted_at.isoformat() == "2026-03-01T09:30:00+00:00"
    daily = log_reports.feature_daily(db, churn["model"].id, "visits_last_30d")
    assert daily[["mean", "n"]].values.tolist() == [[20.0, 2]]


def test_the_key_file_is_created_once_owner_only_unless_a_secret_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("sqlite://", tmp_path)
    monkeypatch.delenv(pseudonyms.KEY_ENV, raising=False)
    first = pseudonyms.pseudonymisation_key(settings)
    path = tmp_path / pseudonyms.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert pseudonyms.pseudonymisation_key(settings) == first
    monkeypatch.setenv(pseudonyms.KEY_ENV, "production-secret")
    assert pseudonyms.pseudonymisation_key(settings) == b"production-secret"
    assert pseudonyms.pseudonymise(b"a", ["x"]) != pseudonyms.pseudonymise(b"b", ["x"])


def test_outcomes_join_the_latest_prediction_at_or_before_them_within_the_horizon(
    db: Database, churn: dict
) -> None:
    model_id = churn["model"].id
    data = log(
        [
            ("2026-03-01", "GC-1", 0.30),
            ("2026-03-10", "GC-1", 0.70),  # the latest before the outcome: this one
            ("2026-03-20", "GC-1", 0.90),  # after the outcome: never
            ("2026-01-01", "GC-2", 0.60),  # beyond a 30-day horizon
        ]
    )
    prediction_logs.ingest_predictions(db, churn["dana"], model_id, 1, data, "log.csv")
    outcomes = pd.DataFrame(
        {"observed_at": ["2026-03-15", "2026-03-15", "2026-03-15"], "subject_key": ["GC-1", "GC-2", "GC-9"],
         "outcome": ["yes", "0", "1"]}
    )  # fmt: skip
    result = outcome_logs.ingest_outcomes(
        db, churn["dana"], model_id, csv_bytes(outcomes), "outcomes.csv", horizon_days=30
    )
    assert (result.rows, result.matched) == (3, 1)
    with db.read() as session:
        joined = session.execute(
            select(OutcomeRow.outcome, PredictionRow.prediction).join(
                PredictionRow, PredictionRow.id == OutcomeRow.prediction_id
            )
        ).all()
    assert joined == [(1.0, 0.70)]
    live = log_reports.live_performance(db, model_id)
    assert (live.predictions, live.outcomes, live.joined) == (4, 3, 1)


def test_a_bad_log_reports_every_row_and_stores_nothing(db: Database, churn: dict) -> None:
    frame = pd.read_csv(pd.io.common.BytesIO(log([("2026-03-01", "a", 0.5)] * 3)), dtype=str)
    frame.loc[0, "timestamp"] = "yesterday"
    frame.loc[1, "subject_key"] = ""
    frame.loc[2, "visits_last_30d"] = "many"
    with pytest.raises(Rejected) as rejected:
        prediction_logs.ingest_predictions(
            db, churn["dana"], churn["model"].id, 1, csv_bytes(frame), "bad.csv"
        )
    assert [(p.row, p.field) for p in rejected.value.problems] == [
        (2, "timestamp"),
        (3, "subject_key"),
        (4, "visits_last_30d"),
    ]
    with db.read() as session:
        assert session.scalars(select(PredictionRow)).all() == []


def test_the_same_log_twice_is_refused_and_others_may_not_load(db: Database, churn: dict) -> None:
    data = log([("2026-03-01", "a", 0.5)])
    prediction_logs.ingest_predictions(db, churn["dana"], churn["model"].id, 1, data, "log.csv")
    with pytest.raises(log_files.DuplicateLog, match="already loaded"):
        prediction_logs.ingest_predictions(db, churn["dana"], churn["model"].id, 1, data, "log.csv")
    other = add_user(db, "omar", Role.DATA_SCIENTIST)
    with pytest.raises(PermissionDenied):
        prediction_logs.ingest_predictions(
            db, other, churn["model"].id, 1, log([("2026-03-02", "b", 1)]), "x.csv"
        )


def test_the_command_line_loads_predictions_and_outcomes(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dana = add_user(cli_db, "dana", Role.DATA_SCIENTIST)
    model = add_model(cli_db, dana, add_user(cli_db, "bianca", Role.BUSINESS_OWNER))
    add_version(cli_db, dana, model.id)
    logged = tmp_path / "log.csv"
    logged.write_bytes(log([("2026-03-01", "GC-1", 0.9)]))
    assert cli.main(["ingest", "predictions", "churn", "1", str(logged)]) == 0
    assert "1 predictions stored" in capsys.readouterr().out
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("observed_at,subject_key,outcome\n2026-03-05,GC-1,1\n")
    assert cli.main(["ingest", "outcomes", "churn", str(outcomes), "--horizon-days", "30"]) == 0
    assert "1 joined to a prediction" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,subject_key,prediction\nnever,x,1\n")
    assert cli.main(["ingest", "predictions", "churn", "1", str(bad)]) == 1
    assert "lacks columns" in capsys.readouterr().err
