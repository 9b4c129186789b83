"""The model registry's pages for every demo role: what is shown, what is offered, what is refused,
and the actions a data scientist, reviewer, business owner and admin take there."""

import pytest
from streamlit.testing.v1 import AppTest

from flightdeck.accounts import audit_trail
from flightdeck.business import dictionary
from flightdeck.core.db import Database
from flightdeck.models import artifacts, lifecycle, records, registry, versioning
from flightdeck.readiness import gate
from tests.app.conftest import (
    account,
    assert_shown_literally,
    click,
    events,
    labels,
    only_main_element,
    page,
    texts,
    widget,
)
from tests.factories import churn_frame, csv_bytes, fitted_classifier, skops_bytes

DEMO_USERS = ["ada", "bianca", "bruno", "fatima", "dana", "kenji", "rita", "victor"]
MODEL_PAGES = ["models", "model", "model_card", "predictions", "admin_artifacts"]


def model_id(db: Database, key: str) -> int:
    return registry.get_model_by_key(db, key).id


def open_model(
    app, db: Database, username: str, key: str = "member_churn", version: int | None = None
) -> AppTest:
    at = app(username)
    at.query_params["model"] = str(model_id(db, key))
    if version is not None:
        at.query_params["version"] = str(version)
    return page(at, "model")


def tab(at: AppTest, label: str):
    [found] = [t for t in at.tabs if t.label == label]
    return found


@pytest.mark.parametrize("key", MODEL_PAGES)
@pytest.mark.parametrize("username", DEMO_USERS)
def test_each_role_sees_the_model_pages_it_may_open(app, demo_db: Database, username: str, key: str) -> None:
    at = app(username)
    if key in ("model", "predictions"):
        at.query_params["model"] = str(model_id(demo_db, "member_churn"))
    at = page(at, key)
    assert not at.exception
    if key == "admin_artifacts" and username != "ada":
        refusal = only_main_element(at)
        assert refusal.type == "error"
        assert refusal.value.startswith("**Not permitted.**")
        [event] = events(demo_db, "permission.denied")
        assert event.actor_id == account(demo_db, username).id
        return
    assert not at.error
    shown = texts(at)
    models = registry.list_models(demo_db)
    if key == "models":
        assert sorted(at.dataframe[0].value["Model"]) == sorted(m.name for m in models)
        assert ("Register a model" in [t.label for t in at.tabs]) == (username in {"dana", "kenji"})
    elif key == "model":
        assert at.title[0].value == "Member churn propensity"
        assert at.dataframe[0].value["Metric"].tolist()[0] == "ROC AUC"
        assert ("New version" in [t.label for t in at.tabs]) == (username in {"dana", "kenji"})
    elif key == "model_card":
        assert "Model card: Fresh demand forecast v1" in shown  # the first model, its production version
        assert [b.label for b in at.download_button] == ["Download Markdown", "Download HTML"]
    elif key == "predictions":
        assert at.metric[0].label == "Predictions logged"
        assert ("Upload predictions" in [t.label for t in at.tabs]) == (username in {"dana", "ada"})
    else:
        listed = at.dataframe[0].value["Type"].tolist()
        assert listed == [t.type_name for t in artifacts.list_trusted_types(demo_db)]


def test_the_registry_lists_every_model_with_its_stage_and_production_version(app, demo_db: Database) -> None:
    at = page(app("victor"), "models")
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["Member churn propensity", "In production"] == "v1"
    assert table.loc["Member churn propensity", "Latest version"] == "v2 · In review"
    assert table.loc["Fresh demand forecast", "In production"] == "v1"
    assert table.loc["Invoice auto-match", "Latest version"] == "v1 · Draft"


def test_a_model_in_production_links_to_its_impact_and_monitoring_and_a_draft_does_not(
    app, demo_db: Database
) -> None:
    serving = labels(open_model(app, demo_db, "bianca"), "page_link")
    assert {"Business impact", "Drift and live performance"} <= set(serving)
    draft = labels(open_model(app, demo_db, "bianca", "invoice_auto_match"), "page_link")
    assert "Business impact" not in draft


def test_a_reviewer_sees_the_queue_and_an_author_is_told_another_must_decide(app, demo_db: Database) -> None:
    rita = page(app("rita"), "models")
    assert "Waiting for review: 1" in texts(rita)
    invoice = registry.list_versions(demo_db, model_id(demo_db, "invoice_auto_match"))[0]
    lifecycle.request_review(demo_db, account(demo_db, "kenji"), invoice.id)
    kenji = open_model(app, demo_db, "kenji", "invoice_auto_match")
    assert "You are an author of this model, so another reviewer must decide on it (four eyes)." in texts(
        kenji
    )
    assert "Approve" not in labels(kenji, "button")


def test_kenji_approves_danas_v2_with_a_rationale(app, demo_db: Database) -> None:
    at = open_model(app, demo_db, "kenji", version=2)
    assert "v1 in production" in at.dataframe[0].value.columns
    at = click(at, "Approve")
    assert "Give the rationale for this decision" in texts(at)
    widget(at, "text_area", "Rationale").set_value("Better ranking at the top; calibration holds.")
    at = click(at, "Approve")
    assert not at.exception
    assert "v2 approved." in texts(at)
    assert registry.version_by_number(demo_db, model_id(demo_db, "member_churn"), 2).stage == "approved"
    decision = events(demo_db, "model.approve")[0]  # the newest
    assert decision.actor_name == "Kenji Sato"
    assert decision.after["rationale"] == "Better ranking at the top; calibration holds."


def test_an_author_promotes_an_approved_version_and_the_old_one_retires(app, demo_db: Database) -> None:
    churn = model_id(demo_db, "member_churn")
    v2 = registry.version_by_number(demo_db, churn, 2)
    lifecycle.approve(demo_db, account(demo_db, "rita"), v2.id, "Approved in the May committee.")
    at = open_model(app, demo_db, "dana", version=2)
    at = click(at, "Promote to production (retires v1)")
    assert "not Production-ready" in texts(at)  # the readiness gate
    assert registry.get_model(demo_db, churn).production_number == 1
    gate.record_override(demo_db, account(demo_db, "rita"), v2.id, "Early retrain; v1 is overdue.")
    widget(at, "text_input", "Scope").set_value("All regions")
    at = click(at, "Promote to production (retires v1)")
    assert not at.exception
    assert registry.get_model(demo_db, churn).production_number == 2
    assert registry.version_by_number(demo_db, churn, 1).stage == "retired"
    history = lifecycle.production_history(demo_db, churn)
    assert [(d.version_number, d.scope) for d in history][-1] == (2, "All regions")


def test_the_goal_owner_states_the_value_of_errors_and_sees_the_best_threshold(
    app, demo_db: Database
) -> None:
    bruno = open_model(app, demo_db, "bruno")
    assert "Save values" not in labels(bruno, "button")
    at = open_model(app, demo_db, "bianca")
    values = tab(at, "Value of errors")
    assert [m.label for m in values.metric] == [
        "Best threshold",
        "Value per 1,000 decisions",
        "Baseline per 1,000 decisions",
    ]
    widget(at, "number_input", "False positive").set_value(-40.0)
    at = click(at, "Save values")
    assert not at.exception
    saved = registry.get_model(demo_db, model_id(demo_db, "member_churn")).error_values
    assert saved is not None
    assert saved.fp == -40.0
    chart = at.get("plotly_chart")
    assert any("Expected value per 1,000 decisions" in c.proto.spec for c in chart)


def test_unmapped_and_personal_features_are_shown_plainly(app, demo_db: Database) -> None:
    at = open_model(app, demo_db, "kenji", "invoice_auto_match")
    assert "Not mapped to a confirmed business field:" in texts(at)
    fields = {f.key: f.id for f in dictionary.list_fields(demo_db)}
    version = registry.list_versions(demo_db, model_id(demo_db, "invoice_auto_match"))[0]
    versioning.confirm_features(
        demo_db,
        account(demo_db, "kenji"),
        version.id,
        version.version,
        {"vendor_history_score": fields["member_id"]},
    )
    at = open_model(app, demo_db, "victor", "invoice_auto_match")
    flagged = "**vendor_history_score is personal data** (Greenway Card member); lawful basis: contract."
    assert flagged in texts(at)


def test_a_data_scientist_uploads_a_version_and_a_pickle_is_refused(app, demo_db: Database) -> None:
    frame = churn_frame(400)
    at = open_model(app, demo_db, "dana")
    at.get("file_uploader")[0].upload("model.pkl", b"\x80\x04\x95 pickled")
    at.get("file_uploader")[1].upload("holdout.csv", csv_bytes(frame))
    at = click(at, "Upload and evaluate")
    assert "pickle or joblib file" in texts(at)
    assert len(registry.list_versions(demo_db, model_id(demo_db, "member_churn"))) == 2

    at = open_model(app, demo_db, "dana")
    at.get("file_uploader")[0].upload("churn.skops", skops_bytes(fitted_classifier(frame)))
    at.get("file_uploader")[1].upload("holdout.csv", csv_bytes(frame))
    widget(at, "text_input", "Target column").set_value("churned")
    widget(at, "text_input", "Segment column (optional)").set_value("region")
    at = click(at, "Upload and evaluate")
    assert not at.exception
    assert "v3 uploaded and evaluated by Flightdeck." in texts(at)
    assert at.query_params["version"] == "3"
    v3 = registry.version_by_number(demo_db, model_id(demo_db, "member_churn"), 3)
    assert v3.stage == "draft"
    assert [s["segment"] for s in v3.evaluation["segments"]] == ["E", "N", "S"]


def test_the_model_card_downloads_as_markdown_and_html_with_text_escaped(
    app, demo_db: Database, download
) -> None:
    churn = registry.get_model_by_key(demo_db, "member_churn")
    registry.update_model(
        demo_db,
        account(demo_db, "dana"),
        churn.id,
        churn.version,
        records.ModelDraft(churn.key, "Churn <script>alert(1)</script>", churn.goal_id, churn.task),
    )
    at = app("victor")
    at.query_params.update({"model": str(churn.id), "version": "1"})
    at = page(at, "model_card")
    assert_shown_literally(at.header[0].value, "Model card: Churn <script>alert(1)</script> v1")
    markdown = download(at.download_button[0]).decode()
    html = download(at.download_button[1]).decode()
    assert "## Metrics" in markdown
    assert "| ROC AUC |" in markdown
    assert "\\<script\\>" in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_an_admin_allows_and_withdraws_a_type_and_it_is_audited(app, demo_db: Database) -> None:
    at = page(app("ada"), "admin_artifacts")
    widget(at, "text_input", "Fully qualified type").set_value("mylib.models.Custom")
    at = click(at, "Allow")
    assert "Say why this type is safe to load" in texts(at)
    widget(at, "text_area", "Why it is safe to load (your review)").set_value("Our own wrapper, reviewed.")
    at = click(at, "Allow")
    assert "mylib.models.Custom is now trusted." in texts(at)
    assert events(demo_db, "artifact.allow_type")[0].after["type_name"] == "mylib.models.Custom"
    assert at.dataframe[0].value["Type"].tolist()[0] == "mylib.models.Custom"
    at = click(at, "Verify every artifact's hash")
    assert set(at.dataframe[1].value["Integrity"]) == {"intact"}


def test_an_author_uploads_a_prediction_log_and_a_bad_one_is_reported_row_by_row(
    app, demo_db: Database
) -> None:
    at = app("dana")
    at.query_params["model"] = str(model_id(demo_db, "member_churn"))
    at = page(at, "predictions")
    before = at.metric[0].value
    good = b"timestamp,subject_key,prediction,tenure_months,visits_last_30d,basket_value_eur,segment\n"
    good += b"2026-01-05T08:00:00Z,GC-00000001,0.4,12,3,45.5,N\n"
    at.get("file_uploader")[0].upload("log.csv", good)
    at = click(at, "Load predictions")
    assert not at.exception
    assert "1 predictions stored" in texts(at)
    assert at.metric[0].value != before
    bad = good.replace(b"0.4,12", b"high,12")
    at.get("file_uploader")[0].upload("bad.csv", bad)
    at = click(at, "Load predictions")
    assert "Nothing was loaded" in texts(at)
    report = at.dataframe[-1].value
    assert report[["Row", "Column", "Value"]].values.tolist() == [[2, "prediction", "high"]]


def test_the_forecast_inputs_are_ranked_by_drift_with_temperature_first(app, demo_db: Database) -> None:
    at = app("victor")
    at.query_params["model"] = str(model_id(demo_db, "fresh_demand_forecast"))
    at = page(at, "predictions")
    assert widget(at, "selectbox", "Feature").value == "temperature_c"
    assert not [t.label for t in at.tabs if t.label.startswith("Upload")]
    assert audit_trail.verify_chain(demo_db).ok


def test_the_version_list_shows_stage_metric_and_who_did_what(app, demo_db: Database) -> None:
    at = open_model(app, demo_db, "victor")
    versions = tab(at, "Versions").dataframe[0].value.set_index("Version")
    assert versions.loc["v2", "Stage"] == "In review"
    assert versions.loc["v2", "Last step"].startswith("In review by Dana Okafor")
    assert versions.loc["v1", "Last step"].startswith("In production by Dana Okafor")
    assert versions.loc["v2", "ROC AUC"] > versions.loc["v2", "Baseline ROC AUC"]
    assert versions.loc["v2", "Unmapped features"] == 1
