"""The business impact page: every role may read it; the churn model's verdict, interval and money;
the pilot's counterfactual; the method in an expander; the money roll-up per goal and portfolio."""

import json

import pytest

from flightdeck.core.db import Database
from tests.app.conftest import model_page, page, plain, texts

DEMO_USERS = ["ada", "bianca", "bruno", "fatima", "dana", "kenji", "rita", "victor"]


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_role_reads_the_impact_page(app, username: str) -> None:
    at = page(app(username), "impact")
    assert not at.exception
    assert "Business impact" in texts(at)


def test_the_churn_model_shows_a_positive_lift_against_control_with_its_interval_and_money(
    app, demo_db: Database
) -> None:
    at = model_page(app("bianca"), demo_db, "member_churn", "impact")
    assert not at.exception
    [verdict, *_] = at.success
    assert "Monthly member churn fell by" in verdict.value
    assert "95% CI" in verdict.value
    assert "compared with control" in verdict.value
    assert "EUR" in verdict.value
    assert "a year" in verdict.value
    shown = texts(at)
    assert "Units per arm: 20,060 in treatment, 19,940 in control" in shown
    assert [t.label for t in at.tabs] == ["Monthly member churn", "Retention offers sent"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Monthly member churn: treatment against control" in titles
    assert "Value to date" in titles
    expander = next(e for e in at.expander if e.label == "Method and assumptions")
    assert "Difference-in-differences" in plain("\n".join(m.value for m in expander.markdown))


def test_the_forecast_pilot_shows_a_counterfactual_for_its_region(app, demo_db: Database) -> None:
    at = model_page(app("bruno"), demo_db, "fresh_demand_forecast", "impact")
    assert not at.exception
    assert "than projected without the model" in at.success[0].value
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["title"]["text"].startswith("Fresh waste rate in North")
    assert {t["name"] for t in chart["data"] if t.get("name")} >= {"Actual", "Projected without the model"}
    assert any(len(t["x"]) <= 2000 for t in chart["data"])


def test_money_is_rolled_up_per_goal_and_for_the_portfolio(app) -> None:
    at = page(app("victor"), "impact")
    table = at.dataframe[-1].value
    assert list(table[""]) == ["Cut fresh-produce waste", "Reduce loyalty-member churn", "Whole portfolio"]
    assert all(value.endswith("EUR") for value in table["Value per year"])
