"""Models, versions and the four-eyes lifecycle, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from flightdeck.accounts import audit_trail, users
from flightdeck.business import dictionary
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied, StaleEdit
from flightdeck.core.permissions import User
from flightdeck.core.roles import Role
from flightdeck.models import lifecycle, records, registry, versioning
from flightdeck.models.evaluation import ErrorValues
from flightdeck.models.lifecycle import FourEyes
from flightdeck.readiness import gate
from tests.factories import (
    add_model,
    add_user,
    add_version,
    churn_frame,
    csv_bytes,
    fitted_classifier,
    go_live,
    skops_bytes,
)

DS, R, BO, A = Role.DATA_SCIENTIST, Role.REVIEWER, Role.BUSINESS_OWNER, Role.ADMIN


def actions(db: Database, *names: str) -> list[audit_trail.AuditEvent]:
    return audit_trail.list_events(db, audit_trail.AuditFilter(actions=names))[0]


def test_a_data_scientist_registers_a_model_against_a_goal_with_its_kpis(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    assert (model.key, model.task, model.created_by_name) == ("churn", "classification", "Dana")
    assert model.author_ids == {team["dana"].id}
    assert [e.after["key"] for e in actions(db, "model.create")] == ["churn"]
    with pytest.raises(PermissionDenied):
        registry.create_model(db, team["bianca"], records.ModelDraft("x", "X", model.goal_id, "regression"))
    with pytest.raises(InvalidInput) as refused:
        registry.create_model(db, team["dana"], records.ModelDraft("churn", "", 999, "forecast"))
    assert {p.field for p in refused.value.problems} == {"key", "name", "task", "goal_id"}


def test_editing_a_model_is_for_its_authors_and_refuses_stale_saves(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    draft = records.ModelDraft("churn", "Churn propensity", model.goal_id, "classification", "Who leaves")
    with pytest.raises(PermissionDenied):
        registry.update_model(db, team["kenji"], model.id, model.version, draft)
    saved = registry.update_model(db, team["dana"], model.id, model.version, draft)
    assert saved.name == "Churn propensity"
    with pytest.raises(StaleEdit):
        registry.update_model(db, team["dana"], model.id, model.version, draft)


def test_a_version_carries_what_flightdeck_measured_and_suggests_business_fields(
    db: Database, team: dict
) -> None:
    dictionary.create_field(
        db,
        team["bianca"],
        dictionary.FieldDraft("tenure_months", "Membership tenure", "integer", unit="months"),
    )
    dictionary.create_field(
        db, team["bianca"], dictionary.FieldDraft("visits_30d", "Visits in the last 30 days", "integer")
    )
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id, intended_use="Rank members for retention offers.")
    assert (version.number, version.stage, version.estimator) == (
        1,
        "draft",
        "Pipeline(StandardScaler → LogisticRegression)",
    )
    assert version.features == ("tenure_months", "visits_last_30d", "basket_value_eur")
    assert version.evaluation["metrics"]["roc_auc"] > 0.6
    assert version.evaluation["segment_column"] == "region"
    assert version.positive_label == "1"
    suggested = {m.feature: m.field_key for m in version.feature_maps}
    assert suggested == {
        "tenure_months": "tenure_months",
        "visits_last_30d": "visits_30d",
        "basket_value_eur": "",
    }
    assert not any(m.confirmed for m in version.feature_maps)
    assert version.unmapped == ["tenure_months", "visits_last_30d", "basket_value_eur"]
    profile = registry.get_profile(db, version.id)
    assert profile["tenure_months"]["kind"] == "numeric"
    assert version.profile_source == "holdout"


def test_confirming_features_records_who_and_leaves_the_rest_plainly_unmapped(
    db: Database, team: dict
) -> None:
    field = dictionary.create_field(
        db,
        team["bianca"],
        dictionary.FieldDraft(
            "tenure_months", "Tenure", "integer", personal_data=True, lawful_basis="contract"
        ),
    )
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id)
    with pytest.raises(PermissionDenied):
        versioning.confirm_features(
            db, team["kenji"], version.id, version.version, {"tenure_months": field.id}
        )
    saved = versioning.confirm_features(
        db, team["dana"], version.id, version.version, {"tenure_months": field.id, "basket_value_eur": None}
    )
    tenure = saved.feature_maps[0]
    assert (tenure.field_key, tenure.confirmed, tenure.confirmed_by_name) == ("tenure_months", True, "Dana")
    assert saved.unmapped == ["visits_last_30d", "basket_value_eur"]
    assert [m.feature for m in saved.personal] == ["tenure_months"]
    with pytest.raises(InvalidInput, match="not a feature"):
        versioning.confirm_features(db, team["dana"], version.id, saved.version, {"age": field.id})


def test_a_model_that_does_not_accept_the_holdouts_features_is_refused(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    frame = churn_frame()
    upload = versioning.VersionUpload(
        versioning.Upload("m.skops", skops_bytes(fitted_classifier(frame))),
        versioning.Upload("h.csv", csv_bytes(frame.drop(columns=["visits_last_30d"]))),
        "churned",
    )
    with pytest.raises(InvalidInput, match="visits_last_30d"):
        versioning.create_version(db, team["dana"], model.id, upload, latency=False)
    assert registry.list_versions(db, model.id) == []


def test_any_data_scientist_may_add_a_version_and_so_becomes_an_author(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    add_version(db, team["kenji"], model.id)
    assert registry.get_model(db, model.id).author_ids == {team["dana"].id, team["kenji"].id}
    with pytest.raises(PermissionDenied):
        add_version(db, team["rita"], model.id)


def test_the_lifecycle_runs_draft_review_approved_production_and_is_audited(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id)
    with pytest.raises(InvalidInput, match="in review"):
        lifecycle.approve(db, team["rita"], version.id, "Looks fine")
    with pytest.raises(PermissionDenied):
        lifecycle.request_review(db, team["kenji"], version.id)  # not an author
    lifecycle.request_review(db, team["dana"], version.id, "Ready for the May committee")
    with pytest.raises(InvalidInput, match="rationale"):
        lifecycle.approve(db, team["rita"], version.id, "  ")
    lifecycle.approve(db, team["rita"], version.id, "Beats the baseline on every region.")
    gate.record_override(db, team["rita"], version.id, "Readiness is not this test's subject.")
    with pytest.raises(PermissionDenied):
        lifecycle.promote(db, team["rita"], version.id)  # a reviewer does not deploy
    live = lifecycle.promote(db, team["dana"], version.id, scope="All regions")
    assert live.stage == "production"
    history = lifecycle.stage_history(db, model.id)
    assert [(e.from_stage, e.to_stage, e.actor_name) for e in reversed(history)] == [
        ("", "draft", "Dana"),
        ("draft", "in_review", "Dana"),
        ("in_review", "approved", "Rita"),
        ("approved", "production", "Dana"),
    ]
    assert history[1].rationale == "Beats the baseline on every region."
    assert [e.action for e in actions(db, "model.request_review", "model.approve", "model.promote")] == [
        "model.promote",
        "model.approve",
        "model.request_review",
    ]


def test_a_rejection_sends_the_version_back_to_draft_with_the_reason(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id)
    lifecycle.request_review(db, team["dana"], version.id)
    back = lifecycle.reject(db, team["rita"], version.id, "Calibration is off for young members.")
    assert back.stage == "draft"
    assert lifecycle.stage_history(db, model.id)[0].rationale == "Calibration is off for young members."


def test_documentation_freezes_once_a_version_leaves_draft(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id)
    docs = records.VersionDocs(
        "Retention offers", "Not for credit decisions", 30, date(2026, 1, 5), "git abc123"
    )
    saved = versioning.update_docs(db, team["dana"], version.id, version.version, docs)
    assert (saved.limitations, saved.refresh_days) == ("Not for credit decisions", 30)
    lifecycle.request_review(db, team["dana"], version.id)
    current = registry.get_version(db, version.id)
    with pytest.raises(InvalidInput, match="Only a version that is draft"):
        versioning.update_docs(db, team["dana"], version.id, current.version, docs)


def with_roles(db: Database, admin: User, person: User, roles: tuple[Role, ...]) -> User:
    """The same person after an admin changed their roles."""
    account = next(a for a in users.list_accounts(db) if a.id == person.id)
    draft = users.AccountDraft(account.username, account.display_name, account.email, frozenset(roles))
    users.update_user(db, admin, person.id, account.version, draft)
    return replace(person, roles=frozenset(roles))


@pytest.mark.parametrize(
    "roles",
    [(R,), (DS, R), (R, A), (DS, R, A), (R, BO), (DS, R, BO, A)],
    ids=lambda roles: "+".join(r.value for r in roles),
)
@pytest.mark.parametrize("authorship", ["created the model", "created a version"])
def test_an_author_can_never_approve_or_reject_their_own_model(
    db: Database, team: dict, roles: tuple[Role, ...], authorship: str
) -> None:
    """Four eyes, whatever roles the author holds now (roles change; authorship does not)."""
    author = add_user(db, "author", DS)
    if authorship == "created the model":
        model = add_model(db, author, team["bianca"])
        version = add_version(db, author, model.id)
    else:
        model = add_model(db, team["dana"], team["bianca"])
        version = add_version(db, team["dana"], model.id)
        add_version(db, author, model.id)
    lifecycle.request_review(db, author if authorship == "created the model" else team["dana"], version.id)
    author = with_roles(db, team["ada"], author, roles)
    for decide in (lifecycle.approve, lifecycle.reject):
        with pytest.raises(FourEyes, match="is an author of"):
            decide(db, author, version.id, "I know it works")
    assert registry.get_version(db, version.id).stage == "in_review"
    refusals = actions(db, "permission.denied")
    assert [e.actor_id for e in refusals] == [author.id, author.id]
    lifecycle.approve(db, team["rita"], version.id, "Independent review passed.")


def test_kenji_reviews_danas_model_but_not_one_he_contributed_to(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    version = add_version(db, team["dana"], model.id)
    lifecycle.request_review(db, team["dana"], version.id)
    assert lifecycle.approve(db, team["kenji"], version.id, "Checked the segments.").stage == "approved"
    v2 = add_version(db, team["dana"], model.id)
    add_version(db, team["kenji"], model.id)  # now an author of the model
    lifecycle.request_review(db, team["dana"], v2.id)
    with pytest.raises(FourEyes):
        lifecycle.approve(db, team["kenji"], v2.id, "Fine by me.")


def release(db: Database, team: dict, model_id: int, when: datetime, scope: str = "") -> records.ModelVersion:
    version = add_version(db, team["dana"], model_id)
    return go_live(db, team["dana"], team["rita"], version.id, when, scope)


def test_production_history_answers_which_version_served_on_a_date(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    v1 = release(db, team, model.id, start, "Pilot: North")
    v2 = release(db, team, model.id, start + timedelta(days=30))
    assert lifecycle.in_production_on(db, model.id, date(2026, 2, 28)) is None
    assert lifecycle.in_production_on(db, model.id, date(2026, 3, 1)).version_number == v1.number
    assert lifecycle.in_production_on(db, model.id, date(2026, 3, 30)).version_number == v1.number
    assert lifecycle.in_production_on(db, model.id, date(2026, 3, 31)).version_number == v2.number
    assert (
        lifecycle.in_production_on(db, model.id, start + timedelta(days=30, seconds=-1)).version_number == 1
    )
    assert registry.get_version(db, v1.id).stage == "retired"
    history = lifecycle.production_history(db, model.id)
    assert [(d.version_number, d.scope, d.ended_at is None) for d in history] == [
        (1, "Pilot: North", False),
        (2, "", True),
    ]

    back = lifecycle.rollback(
        db, team["dana"], model.id, "v2 over-forecasts bank holidays.", now=start + timedelta(days=40)
    )
    assert back.number == 1
    assert back.stage == "production"
    assert registry.get_version(db, v2.id).stage == "retired"
    assert lifecycle.in_production_on(db, model.id, date(2026, 4, 10)).version_number == 1
    assert lifecycle.in_production_on(db, model.id, date(2026, 4, 9)).version_number == 2
    assert registry.get_model(db, model.id).production_number == 1


def test_rollback_needs_an_earlier_production_version(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    release(db, team, model.id, datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="no earlier production version"):
        lifecycle.rollback(db, team["dana"], model.id, "Try")


def test_retiring_ends_the_deployment(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    live = release(db, team, model.id, datetime(2026, 3, 1, tzinfo=UTC))
    lifecycle.retire(db, team["ada"], live.id, "Programme stopped.", now=datetime(2026, 5, 1, tzinfo=UTC))
    assert lifecycle.in_production_on(db, model.id, date(2026, 5, 2)) is None
    assert lifecycle.in_production_on(db, model.id, date(2026, 4, 30)).version_number == 1


def test_the_goals_business_owner_states_the_value_of_errors(db: Database, team: dict) -> None:
    model = add_model(db, team["dana"], team["bianca"])
    values = ErrorValues(tp=180.0, fp=-15.0, fn=-310.0, tn=0.0)
    for outsider in (team["dana"], add_user(db, "bruno", BO)):
        with pytest.raises(PermissionDenied):
            registry.set_error_values(db, outsider, model.id, model.version, values)
    saved = registry.set_error_values(
        db, team["bianca"], model.id, model.version, values, "From the 2025 pilot"
    )
    assert saved.error_values == values
    assert saved.value_set_by_name == "Bianca"
    with pytest.raises(InvalidInput, match="three-letter"):
        registry.set_error_values(
            db, team["bianca"], model.id, saved.version, ErrorValues(1, 1, 1, 1, currency="euro")
        )
