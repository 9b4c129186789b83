"""Readiness against a real workspace on SQLite and PostgreSQL: attestations, snapshots, the level-fall
alert, the production gate and its override, and bulk scoring."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from flightdeck.accounts import audit_trail
from flightdeck.alerts import webhook
from flightdeck.business import dictionary, goals
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, entities
from flightdeck.models import lifecycle, records, registry, versioning
from flightdeck.models.lifecycle import FourEyes
from flightdeck.orm import AlertDeliveryRow, AlertRow
from flightdeck.readiness import attestations, checks, gate, portfolio, scoring, snapshots
from flightdeck.readiness.rubric import CHECKS, FAIL, NOT_READY, PASS, PILOT_READY, PRODUCTION_READY
from tests.factories import FEATURES, churn_frame, csv_bytes, fitted_classifier, skops_bytes

DS, R, BO, A = Role.DATA_SCIENTIST, Role.REVIEWER, Role.BUSINESS_OWNER, Role.ADMIN
WHO = {BO: "bianca", DS: "dana", R: "rita", A: "ada"}


def workspace(db: Database, team: dict) -> records.Model:
    """A goal with a value statement, a KPI with baseline, target and money value, and dictionary
    fields (with units) for the churn features."""
    owner = team["bianca"]
    goal = goals.create_goal(
        db, owner, goals.GoalDraft(title="Reduce churn", value_statement="€1.3 M a year.")
    )
    kpi = definitions.create_kpi(
        db,
        owner,
        goal.id,
        entities.KpiDraft(
            "churn_rate",
            "Churn rate",
            "%",
            "down",
            baseline_value=4.0,
            baseline_period=date(2026, 1, 1),
            target_value=3.0,
            target_date=date(2027, 1, 1),
            value_per_unit=1e6,
        ),
    )
    for feature in FEATURES:
        dictionary.create_field(
            db,
            owner,
            dictionary.FieldDraft(feature, feature.replace("_", " "), "decimal", "Meaning.", unit="u"),
        )
    return registry.create_model(
        db, team["dana"], records.ModelDraft("churn", "Churn", goal.id, "classification", "", (kpi.id,))
    )


def new_version(db: Database, team: dict, model_id: int) -> records.ModelVersion:
    frame = churn_frame()
    upload = versioning.VersionUpload(
        artifact=versioning.Upload("churn.skops", skops_bytes(fitted_classifier(frame))),
        holdout=versioning.Upload("holdout.csv", csv_bytes(frame)),
        target="churned",
        segment_column="region",
        reference=versioning.Upload("sample.csv", csv_bytes(frame)),
        docs=records.VersionDocs(
            "Target offers.",
            "Not for business customers.",
            90,
            utcnow().date() - timedelta(days=5),
            "git: x@1",
        ),
    )
    version = versioning.create_version(db, team["dana"], model_id, upload)
    fields = {f.key: f.id for f in dictionary.list_fields(db)}
    return versioning.confirm_features(
        db, team["dana"], version.id, version.version, {f: fields[f] for f in FEATURES}
    )


def attest_all(db: Database, team: dict, version_id: int) -> scoring.Readiness:
    result = None
    for check in CHECKS:
        if check.attested and check.id not in checks.PERSONAL_ONLY:
            result = attestations.attest(db, team[WHO[check.fixers[0]]], version_id, check.id, "Checked.")
    assert result is not None
    return result


def level(db: Database, version_id: int) -> str:
    return snapshots.current(db, version_id).score.level


def test_a_fully_evidenced_version_is_production_ready_and_passes_the_gate(db: Database, team: dict) -> None:
    model = workspace(db, team)
    version = new_version(db, team, model.id)
    attest_all(db, team, version.id)
    assert level(db, version.id) == NOT_READY  # independent approval still missing (blocking)
    lifecycle.request_review(db, team["dana"], version.id)
    lifecycle.approve(db, team["rita"], version.id, "Fine.")
    ready = snapshots.current(db, version.id)
    assert ready.score.level == PRODUCTION_READY, [
        (r.check.id, r.status) for r in ready.results if r.status != PASS
    ]
    assert lifecycle.promote(db, team["dana"], version.id).stage == "production"

    history = snapshots.history(db, version.id)
    causes = [s.cause for s in history]
    assert causes[0] == "Version registered"
    assert "Features mapped" in causes
    assert any(c.startswith("Stage: approved") for c in causes)
    assert history[-1].level == PRODUCTION_READY
    moved = next(s for s in history if s.cause.startswith("Stage: approved")).moved
    assert any("Approved by an independent reviewer" in m for m in moved)


def test_snapshots_are_stored_only_when_the_evidence_changes(db: Database, team: dict) -> None:
    model = workspace(db, team)
    version = new_version(db, team, model.id)
    before = len(snapshots.history(db, version.id))
    snapshots.current(db, version.id)  # reading re-checks, but nothing moved
    assert len(snapshots.history(db, version.id)) == before
    attestations.attest(db, team["rita"], version.id, "code_reviewed", "Read the training code.")
    after = snapshots.history(db, version.id)
    assert len(after) == before + 1
    assert after[-1].cause == "Model code reviewed: attested by Rita"
    assert after[-1].dimensions["maintainability"] > after[-2].dimensions["maintainability"]


def test_attestations_need_the_right_role_are_audited_and_lapse_with_a_new_version(
    db: Database, team: dict
) -> None:
    model = workspace(db, team)
    v1 = new_version(db, team, model.id)
    with pytest.raises(PermissionDenied):
        attestations.attest(db, team["victor"], v1.id, "owner_signoff", "Yes.")
    with pytest.raises(PermissionDenied):
        attestations.attest(db, team["dana"], v1.id, "owner_signoff", "Yes.")  # a business owner's to give
    with pytest.raises(PermissionDenied):
        attestations.attest(db, team["kenji"], v1.id, "owners", "Me.")  # a data scientist, not an author
    with pytest.raises(InvalidInput, match="note"):
        attestations.attest(db, team["bianca"], v1.id, "owner_signoff", "  ")
    with pytest.raises(InvalidInput, match="not a check"):
        attestations.attest(db, team["bianca"], v1.id, "drift_ok", "Fine.")
    signed = attestations.attest(
        db, team["bianca"], v1.id, "owner_signoff", "Signed for the pilot.", "https://wiki.example/churn"
    )
    result = next(r for r in signed.results if r.check.id == "owner_signoff")
    assert result.status == PASS
    assert "Bianca" in result.evidence
    assert result.attestation is not None
    assert result.attestation.link == "https://wiki.example/churn"
    events = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("readiness.attest",)))[0]
    assert [(e.actor_name, e.entity_id) for e in events] == [("Bianca", str(v1.id))]

    v2 = new_version(db, team, model.id)
    statuses = snapshots.current(db, v2.id).statuses
    assert statuses["owner_signoff"] == FAIL  # lapsed: it was given for v1
    assert snapshots.current(db, v1.id).statuses["owner_signoff"] == PASS

    withdrawn = attestations.withdraw(db, team["rita"], result.attestation.id)
    assert withdrawn.statuses["owner_signoff"] == FAIL


def test_the_gate_refuses_until_an_independent_reviewer_overrides_with_a_reason(
    db: Database, team: dict
) -> None:
    model = workspace(db, team)
    version = new_version(db, team, model.id)
    lifecycle.request_review(db, team["dana"], version.id)
    lifecycle.approve(db, team["rita"], version.id, "Approved for a pilot.")
    with pytest.raises(InvalidInput, match="not Production-ready"):
        lifecycle.promote(db, team["dana"], version.id)
    assert registry.get_version(db, version.id).stage == "approved"
    with pytest.raises(PermissionDenied):
        gate.record_override(db, team["dana"], version.id, "I built it, trust me.")
    with pytest.raises(InvalidInput, match="reason"):
        gate.record_override(db, team["rita"], version.id, " ")
    by_kenji = versioning.VersionUpload(  # kenji becomes an author, so four eyes apply to him
        versioning.Upload("m.skops", skops_bytes(fitted_classifier(churn_frame()))),
        versioning.Upload("h.csv", csv_bytes(churn_frame())),
        "churned",
    )
    versioning.create_version(db, team["kenji"], model.id, by_kenji, latency=False)
    with pytest.raises(FourEyes):
        gate.record_override(db, team["kenji"], version.id, "Pilot only.")
    override = gate.record_override(db, team["rita"], version.id, "Pilot in North only; rollback is instant.")
    assert override.level in (NOT_READY, PILOT_READY)
    assert lifecycle.promote(db, team["dana"], version.id).stage == "production"
    assert gate.overrides(db, version.id)[0].used_at is not None
    events = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("readiness.override",)))[0]
    assert len(events) == 1
    assert events[0].actor_name == "Rita"
    assert "Pilot in North only" in str(events[0].after)


def test_falling_a_level_raises_one_alert_which_clears_on_recovery(
    db: Database, team: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(webhook.WEBHOOK_ENV, "http://127.0.0.1:9/hook")  # announced, like KPI alerts
    monkeypatch.setattr(webhook, "dispatch", lambda db, post=None: None)
    model = workspace(db, team)
    version = new_version(db, team, model.id)
    attest_all(db, team, version.id)
    lifecycle.request_review(db, team["dana"], version.id)
    lifecycle.approve(db, team["rita"], version.id, "Fine.")
    assert level(db, version.id) == PRODUCTION_READY
    key = f"readiness:{version.id}:level"

    def open_alerts() -> list[AlertRow]:
        with db.read() as session:
            return list(
                session.scalars(
                    select(AlertRow).where(AlertRow.condition_key == key, AlertRow.cleared_at.is_(None))
                )
            )

    found = snapshots.current(db, version.id)
    owners = found.results[[c.id for c in CHECKS].index("owners")].attestation
    attestations.withdraw(db, team["dana"], owners.id)  # maintainability 75: Pilot-ready
    assert level(db, version.id) == PILOT_READY
    raised = open_alerts()
    assert len(raised) == 1
    assert "fell from Production-ready to Pilot-ready" in raised[0].message
    reviewed = snapshots.current(db, version.id).results[[c.id for c in CHECKS].index("code_reviewed")]
    attestations.withdraw(db, team["rita"], reviewed.attestation.id)  # 50: still Pilot-ready, same alert
    assert [a.id for a in open_alerts()] == [raised[0].id]
    attestations.attest(db, team["rita"], version.id, "code_reviewed", "Again.")
    assert len(open_alerts()) == 1  # back to 75: still below Production-ready
    attestations.attest(db, team["dana"], version.id, "owners", "Dana, backup Kenji.")
    assert level(db, version.id) == PRODUCTION_READY
    assert open_alerts() == []
    with db.read() as session:
        owed = session.scalars(
            select(AlertDeliveryRow.event).where(AlertDeliveryRow.alert_id == raised[0].id)
        ).all()
    assert sorted(owed) == ["cleared", "raised"]


def test_bulk_scoring_matches_one_by_one_and_the_portfolio_reads_snapshots(db: Database, team: dict) -> None:
    model = workspace(db, team)
    first = new_version(db, team, model.id)
    second = new_version(db, team, model.id)
    attestations.attest(db, team["rita"], second.id, "code_reviewed", "Read.")
    with db.read() as session:
        together = scoring.assess_many(session, [first.id, second.id])
        alone = {v: scoring.assess_many(session, [v])[v] for v in (first.id, second.id)}
    for v in (first.id, second.id):
        assert together[v].statuses == alone[v].statuses
        assert together[v].score == alone[v].score
    rows = {r.version_id: r for r in portfolio.portfolio(db)}
    assert rows[second.id].headline == pytest.approx(round(together[second.id].score.headline, 1))
    assert rows[second.id].level == together[second.id].score.level
    assert rows[first.id].top_blocker == together[first.id].top_blocker
    assert snapshots.refresh_all(db) == 0  # nothing moved since


def test_editing_the_goal_or_kpi_refreshes_the_models_readiness(db: Database, team: dict) -> None:
    model = workspace(db, team)
    version = new_version(db, team, model.id)
    goal = goals.get_goal(db, model.goal_id)
    goals.update_goal(
        db, team["bianca"], goal.id, goal.version, goals.GoalDraft(title=goal.title, value_statement="")
    )
    last = snapshots.history(db, version.id)[-1]
    assert last.cause == "Goal edited"
    assert last.statuses["goal_owner_value"] == FAIL
    kpi = definitions.list_kpis(db, goal.id)[0]
    definitions.update_kpi(
        db,
        team["bianca"],
        kpi.id,
        kpi.version,
        entities.KpiDraft.of(kpi, target_value=None, target_date=None),
    )
    assert snapshots.history(db, version.id)[-1].statuses["kpi_plan"] != PASS
