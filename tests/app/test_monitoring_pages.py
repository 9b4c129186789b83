"""The model monitoring page: drift table with bands per window, the heatwave's major drift in the
forecast, drift over time, and live performance against the holdout once outcomes exist."""

import json

import pytest

from flightdeck.core.db import Database
from flightdeck.models import registry
from tests.app.conftest import model_page, page, plain, select_row, texts

DEMO_USERS = ["ada", "bianca", "dana", "rita", "victor"]


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_role_reads_the_monitoring_page(app, username: str) -> None:
    at = page(app(username), "model_monitoring")
    assert not at.exception
    assert "Feature drift" in texts(at)


def test_the_forecast_shows_the_heatwave_as_major_drift_and_its_live_performance(
    app, demo_db: Database
) -> None:
    at = model_page(app("kenji"), demo_db, "fresh_demand_forecast", "model_monitoring")
    assert not at.exception
    assert "Major drift in temperature_c" in plain(at.error[0].value)
    drift = at.dataframe[0].value.set_index("Feature")
    assert drift.loc["temperature_c", "Drift"] == "major"
    assert drift.loc["temperature_c", "PSI"] > 0.25
    assert drift.loc["store_code", "Drift"] == "stable"
    assert drift.loc["prediction", "Kind"] == "model output"
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Drift over time: PSI per week" in titles
    assert "temperature_c: share of values per training bin" in titles
    assert "within the" in at.success[-1].value  # MAE on the outcomes against the holdout


def test_a_shorter_window_is_read_from_the_same_counts(app, demo_db: Database) -> None:
    at = model_page(app("dana"), demo_db, "member_churn", "model_monitoring")
    at.segmented_control(key="drift_window").set_value(7).run()
    assert not at.exception
    drift = at.dataframe[0].value.set_index("Feature")
    assert drift.loc["tenure_months", "Values"] == 7 * 240
    assert "last 7 days of logs" in texts(at)
    live = at.dataframe[1].value.set_index("Metric")
    assert 0.7 < live.loc["ROC AUC", "Live"] < 0.9


def test_the_inbox_names_the_drift_alert_and_opens_the_models_monitoring(app, demo_db: Database) -> None:
    at = page(app("bruno"), "alerts")  # he owns the waste goal the forecast serves
    table = at.dataframe[0].value
    [row] = [i for i, m in enumerate(table["Alert"]) if "major input drift" in m]
    assert "temperature_c" in table["Alert"][row]
    at = select_row(at, "alerts_table", row)
    assert "Model input drift" in texts(at)
    forecast = registry.get_model_by_key(demo_db, "fresh_demand_forecast")
    [link] = [p for p in at.get("page_link") if p.proto.label == "Open the model's monitoring"]
    assert "model_monitoring" in link.proto.page
    assert f"model={forecast.id}" in link.proto.query_string
