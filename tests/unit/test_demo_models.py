"""The demo's model story holds what the issue promises, on the dates of the demo calendar."""

from datetime import timedelta

import numpy as np

from flightdeck.core.db import Database
from flightdeck.demo import seed
from flightdeck.demo import story as demo_story
from flightdeck.demo.model_story import CHURN, DRIFT_DAYS, FORECAST, INVOICE
from flightdeck.models import lifecycle, log_reports, registry
from flightdeck.readiness import gate, portfolio, snapshots


def test_the_demo_models_tell_the_story(db: Database) -> None:
    seed.seed(db)
    story = demo_story.story()
    churn = registry.get_model_by_key(db, CHURN)
    v2, v1 = registry.list_versions(db, churn.id)
    assert (v1.stage, v2.stage) == ("production", "in_review")
    assert lifecycle.in_production_on(db, churn.id, story.churn_v1_live).version_number == 1
    assert lifecycle.in_production_on(db, churn.id, story.churn_v1_live - timedelta(days=1)) is None
    assert v1.evaluation["metrics"]["roc_auc"] > v1.evaluation["baseline"]["roc_auc"]
    assert v2.evaluation["metrics"]["roc_auc"] > v1.evaluation["metrics"]["roc_auc"]
    assert (v1.profile_source, v2.profile_source) == ("reference", "holdout")
    assert churn.error_values is not None
    assert set(churn.author_names) == {"Dana Okafor"}

    forecast = registry.get_model_by_key(db, FORECAST)
    served = lifecycle.in_production_on(db, forecast.id, story.forecast_live)
    assert served is not None
    assert "North" in served.scope
    assert lifecycle.in_production_on(db, forecast.id, story.forecast_live - timedelta(days=1)) is None
    assert not registry.list_versions(db, forecast.id)[0].unmapped

    [invoice] = registry.list_versions(db, registry.get_model_by_key(db, INVOICE).id)
    assert invoice.stage == "draft"
    assert {"line_count", "days_to_due", "vendor_history_score"} <= set(invoice.unmapped)

    for model in (churn, forecast):
        live = log_reports.live_performance(db, model.id)
        assert live.predictions > 0
        assert 0 < live.joined < live.predictions  # outcomes for part of the period
    daily = log_reports.feature_daily(db, forecast.id, "temperature_c")
    recent, before = daily["mean"].iloc[-DRIFT_DAYS:], daily["mean"].iloc[-3 * DRIFT_DAYS : -DRIFT_DAYS]
    p95 = registry.get_profile(db, registry.list_versions(db, forecast.id)[0].id)["temperature_c"][
        "quantiles"
    ]["p95"]
    assert np.mean(recent) > p95 > np.mean(before)  # a heatwave beyond the training range

    # Readiness lands at three levels by evidence, not by fixed numbers (issue 5).
    ready = {r.version_id: snapshots.current(db, r.version_id) for r in portfolio.portfolio(db)}
    levels = {(r.evidence.model_name, r.evidence.number): r.score.level for r in ready.values()}
    assert levels[(churn.name, 1)] == "production_ready"
    assert levels[(forecast.name, 1)] == "pilot_ready"
    assert levels[(registry.get_model_by_key(db, INVOICE).name, 1)] == "not_ready"
    pilot = ready[served.version_id]
    assert pilot.statuses["drift_ok"] == "fail"  # the heatwave is a next step
    assert "drift_ok" in [s.check.id for s in pilot.next_steps]
    assert [o.used_at is not None for o in gate.overrides(db, served.version_id)] == [True]
    assert gate.overrides(db, v1.id) == []  # churn v1 passed the gate on its evidence
    assert len(ready[invoice.id].score.blocking_failed) >= 3
