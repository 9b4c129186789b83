"""The readiness portfolio and a version's readiness page, on the demo workspace."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from flightdeck.core.db import Database
from flightdeck.models import lifecycle
from flightdeck.readiness import portfolio, snapshots
from tests.app.conftest import account, events, labels, page, texts, widget


def version_ids(db: Database) -> dict[str, int]:
    return {f"{r.model} v{r.number}": r.version_id for r in portfolio.portfolio(db)}


def readiness_page(at: AppTest, version_id: int) -> AppTest:
    at.query_params["version"] = str(version_id)
    return page(at, "readiness")


def test_the_portfolio_shows_every_version_with_its_level_for_the_review_meeting(
    app: Callable[..., AppTest],
) -> None:
    at = page(app("victor"), "portfolio")
    assert not at.exception
    table = at.dataframe[0].value
    levels = dict(zip(table["Model"] + " " + table["Version"], table["Level"], strict=True))
    assert levels["Member churn propensity v1"] == "Production-ready"
    assert levels["Fresh demand forecast v1"] == "Pilot-ready"
    assert levels["Invoice auto-match v1"] == "Not ready"
    blocker = table[table["Model"] == "Invoice auto-match"]["Top blocker or next step"].iloc[0]
    assert blocker == "Every feature mapped to a data-dictionary field"
    assert "Member churn propensity v2 · In review" in " ".join(labels(at, "page_link"))

    widget(at, "multiselect", "Level").set_value(["not_ready"]).run()
    assert set(at.dataframe[0].value["Level"]) == {"Not ready"}


def test_a_viewer_reads_the_checks_and_next_steps_but_cannot_attest(
    app: Callable[..., AppTest], demo_db: Database
) -> None:
    at = readiness_page(app("victor"), version_ids(demo_db)["Fresh demand forecast v1"])
    assert not at.exception
    shown = texts(at)
    assert "Readiness of Fresh demand forecast v1" in shown
    assert "Investigate the drifting inputs and retrain" in shown  # the heatwave
    assert "Attest a check" not in shown
    assert len(at.get("plotly_chart")) == 3  # gauge, dimensions, history
    checks = at.dataframe[0].value
    assert {"Status", "Check", "Evidence", "Who can fix it"} <= set(checks.columns)


def test_a_reviewer_attests_a_check_and_the_score_and_next_steps_move(
    app: Callable[..., AppTest], demo_db: Database
) -> None:
    version_id = version_ids(demo_db)["Fresh demand forecast v1"]
    before = snapshots.current(demo_db, version_id)
    assert before.statuses["code_reviewed"] == "fail"
    at = readiness_page(app("rita"), version_id)
    widget(at, "selectbox", "Check").set_value("code_reviewed")
    widget(at, "text_area", "What you checked").set_value("Read the feature code and training script.")
    at = widget(at, "button", "Attest").click().run()
    assert not at.exception
    after = snapshots.current(demo_db, version_id)
    assert after.statuses["code_reviewed"] == "pass"
    assert after.score.dimensions["maintainability"] > before.score.dimensions["maintainability"]
    assert "code_reviewed" not in [s.check.id for s in after.next_steps]
    assert "attested" in texts(at)
    assert next(e.actor_name for e in events(demo_db, "readiness.attest")) == "Rita Novak"


def test_the_model_page_shows_the_versions_readiness(app: Callable[..., AppTest], demo_db: Database) -> None:
    churn = next(
        r for r in portfolio.portfolio(demo_db) if r.model == "Member churn propensity" and r.number == 1
    )
    at = app("victor")
    at.query_params["model"] = str(churn.model_id)
    at.query_params["version"] = "1"
    at = page(at, "model")
    assert not at.exception
    assert any(label.startswith("Readiness ") for label in labels(at, "page_link"))


def test_a_reviewer_records_the_gate_override_with_a_reason(
    app: Callable[..., AppTest], demo_db: Database
) -> None:
    version_id = version_ids(demo_db)["Member churn propensity v2"]
    lifecycle.approve(demo_db, account(demo_db, "rita"), version_id, "Better ranking at the top.")
    at = readiness_page(app("dana"), version_id)  # an author: sees the gate, may not override
    assert "promotion to production needs a reviewer's override" in texts(at)
    assert "Record override" not in labels(at, "button")
    at = readiness_page(app("rita"), version_id)
    widget(at, "text_area", "Reason for the override").set_value("Early retrain while v1 is overdue.")
    at = widget(at, "button", "Record override").click().run()
    assert not at.exception
    assert "Override by Rita Novak" in texts(at)
    assert events(demo_db, "readiness.override")[0].after["reason"] == "Early retrain while v1 is overdue."
