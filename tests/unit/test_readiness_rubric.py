"""Readiness checks on constructed evidence, and the scoring rules of docs/methods.md, "Readiness"
(no database)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.models.drift import DriftSummary
from flightdeck.models.drift_stats import Band
from flightdeck.readiness import checks, rubric, scoring
from flightdeck.readiness.evidence import Attestation, Evidence, Field
from flightdeck.readiness.rubric import (
    CHECKS,
    DIMENSIONS,
    FAIL,
    NOT_APPLICABLE,
    NOT_READY,
    PARTIAL,
    PASS,
    PILOT_READY,
    PRODUCTION_READY,
)
from flightdeck.readiness.scoring import score

TODAY = date(2026, 6, 1)
FEATURES = ("tenure_months", "visits_last_30d")


class _Feature:
    """Stands in for drift_stats.FeatureDrift: the checks read name, rows, PSI and band."""

    def __init__(self, feature: str, status: Band | None, n: int = 100) -> None:
        self.feature, self.status, self.n = feature, status, n
        self.psi = type("Psi", (), {"value": {Band.MAJOR: 0.4, Band.MODERATE: 0.15}.get(status, 0.01)})()


def drift_of(*bands: Band) -> DriftSummary:
    order = {Band.STABLE: 0, Band.MODERATE: 1, Band.MAJOR: 2}
    features = tuple(_Feature(f, b) for f, b in zip(FEATURES, bands, strict=False))
    worst = max(bands, key=order.__getitem__) if bands else None
    return DriftSummary(1, TODAY - timedelta(days=29), TODAY, worst, features)  # type: ignore[arg-type]


def good() -> Evidence:
    """A version with every piece of evidence in order."""
    field = Field("Tenure", "integer", True, False, "")
    return Evidence(
        version_id=1,
        model_id=1,
        model_name="Churn",
        number=1,
        stage="production",
        task="classification",
        goal_id=1,
        goal_title="Reduce churn",
        goal_owner_name="Bianca",
        value_statement="One point less churn is worth €1.3 M a year.",
        owner_ids=frozenset({1, 2}),
        kpis=(("Churn rate", True, True, True),),
        features=FEATURES,
        fields=dict.fromkeys(FEATURES, field),
        evaluation={
            "metrics": {"roc_auc": 0.8},
            "baseline": {"roc_auc": 0.5},
            "segments": [
                {"segment": "N", "n": 200, "metrics": {"roc_auc": 0.79}},
                {"segment": "S", "n": 200, "metrics": {"roc_auc": 0.81}},
            ],
            "latency": {"single_p95_ms": 3.0, "single_p50_ms": 1.0, "single_samples": 100},
            "rows": 400,
        },
        profile_source="reference",
        intended_use="Target retention offers.",
        limitations="Not for business customers.",
        training_date=TODAY - timedelta(days=20),
        training_reference="git: churn@abc",
        refresh_days=90,
        artifact_stored=True,
        artifact_sha256="a" * 64,
        approved_by=("Rita", datetime(2026, 5, 1, tzinfo=UTC)),
        last_logged=datetime(2026, 5, 31, 6, tzinfo=UTC),
        live_since=datetime(2026, 5, 3, 7, tzinfo=UTC),
        drift=drift_of(Band.STABLE, Band.STABLE),
        attestations={
            c.id: Attestation(i, c.id, "Checked.", "", 3, "Rita", datetime(2026, 5, 2, tzinfo=UTC))
            for i, c in enumerate(CHECKS)
            if c.attested
        },
        today=TODAY,
    )


def status_of(evidence: Evidence, check_id: str) -> str:
    return next(r.status for r in checks.evaluate_checks(evidence) if r.check.id == check_id)


def test_good_evidence_passes_every_check_but_the_personal_data_only_ones() -> None:
    results = {r.check.id: r.status for r in checks.evaluate_checks(good())}
    assert {k for k, v in results.items() if v != PASS} == {"dpia", "human_review"}
    assert results["dpia"] == NOT_APPLICABLE
    assert score(results).level == PRODUCTION_READY


PERSONAL = Field("Member", "identifier", True, True, "")
HEALTHY_FIELD = Field("Tenure", "integer", True, False, "")

# check → (evidence that makes it fail or partial, the status expected)
BROKEN: dict[str, list[tuple[dict[str, object], str]]] = {
    "goal_owner_value": [({"value_statement": " "}, FAIL)],
    "kpi_plan": [
        ({"kpis": ()}, FAIL),
        ({"kpis": (("Churn", True, False, True),)}, PARTIAL),
        ({"kpis": (("Churn", False, False, False),)}, FAIL),
    ],
    "features_mapped": [
        ({"fields": {"tenure_months": HEALTHY_FIELD, "visits_last_30d": None}}, PARTIAL),
        ({"fields": {}}, FAIL),
        ({"features": ()}, FAIL),
    ],
    "context_declared": [
        ({"fields": dict.fromkeys(FEATURES, Field("Tenure", "integer", False, False, ""))}, FAIL),
        ({"fields": {}}, FAIL),
    ],
    "training_profile": [({"profile_source": "holdout"}, PARTIAL)],
    "serving_schema": [({"drift": drift_of(Band.STABLE)}, PARTIAL), ({"drift": None}, NOT_APPLICABLE)],
    "personal_data": [
        ({"fields": dict.fromkeys(FEATURES, PERSONAL)}, FAIL),
        ({"fields": {"tenure_months": HEALTHY_FIELD, "visits_last_30d": None}}, FAIL),
    ],
    "evaluated": [({"evaluation": {**good().evaluation, "metrics": {}}}, FAIL)],
    "beats_baseline": [
        ({"evaluation": {**good().evaluation, "metrics": {"roc_auc": 0.48}}}, FAIL),
        ({"evaluation": {**good().evaluation, "metrics": {}}}, FAIL),
    ],
    "segments_hold": [
        (
            {
                "evaluation": {
                    **good().evaluation,
                    "segments": [
                        {"segment": "N", "n": 200, "metrics": {"roc_auc": 0.6}},
                        {"segment": "S", "n": 200, "metrics": {"roc_auc": 0.62}},
                    ],
                }
            },
            FAIL,
        ),
        ({"evaluation": {**good().evaluation, "segments": [{"segment": "N", "n": 5, "metrics": {}}]}}, FAIL),
    ],
    "docs_written": [({"limitations": ""}, PARTIAL), ({"limitations": "", "intended_use": ""}, FAIL)],
    "latency_budget": [
        (
            {"evaluation": {**good().evaluation, "latency": {"single_p95_ms": 150.0, "single_samples": 100}}},
            PARTIAL,
        ),
        (
            {"evaluation": {**good().evaluation, "latency": {"single_p95_ms": 900.0, "single_samples": 100}}},
            FAIL,
        ),
        ({"evaluation": {**good().evaluation, "latency": {}}}, FAIL),
    ],
    "logs_recent": [
        ({"last_logged": datetime(2026, 5, 1, tzinfo=UTC)}, FAIL),
        ({"last_logged": None}, FAIL),
        ({"last_logged": None, "live_since": datetime(2026, 5, 29, tzinfo=UTC)}, NOT_APPLICABLE),  # just live
        ({"last_logged": None, "stage": "approved", "live_since": None}, NOT_APPLICABLE),
    ],
    "drift_ok": [
        ({"drift": drift_of(Band.STABLE, Band.MAJOR)}, FAIL),
        ({"drift": drift_of(Band.MODERATE, Band.STABLE)}, PARTIAL),
        ({"drift": None}, FAIL),
        ({"drift": None, "stage": "approved", "live_since": None}, NOT_APPLICABLE),
    ],
    "artifact_safe": [({"artifact_stored": False}, FAIL)],
    "independent_approval": [({"approved_by": None}, FAIL)],
    "refresh_cadence": [
        ({"training_date": TODAY - timedelta(days=120)}, PARTIAL),
        ({"refresh_days": None}, FAIL),
        ({"training_date": None}, FAIL),
    ],
    "reproducible": [
        ({"training_reference": ""}, PARTIAL),
        ({"training_reference": "", "training_date": None}, FAIL),
    ],
}


def test_every_automatic_check_has_failing_evidence_here() -> None:
    automatic = {c.id for c in CHECKS if not c.attested}
    assert automatic == set(BROKEN)


@pytest.mark.parametrize(
    ("check_id", "changes", "expected"),
    [(check, changes, expected) for check, cases in BROKEN.items() for changes, expected in cases],
)
def test_each_automatic_check_fails_on_bad_or_missing_evidence(
    check_id: str, changes: dict[str, object], expected: str
) -> None:
    assert status_of(good(), check_id) == PASS or check_id in {"dpia", "human_review"}
    assert status_of(replace(good(), **changes), check_id) == expected


def test_latency_of_a_handful_of_calls_is_judged_by_its_median() -> None:
    few = {"single_p95_ms": 500.0, "single_p50_ms": 4.0, "single_samples": 5}
    assert (
        status_of(replace(good(), evaluation={**good().evaluation, "latency": few}), "latency_budget") == PASS
    )


@pytest.mark.parametrize("check", [c for c in CHECKS if c.attested], ids=lambda c: c.id)
def test_an_attested_check_passes_only_with_an_attestation(check: rubric.Check) -> None:
    personal = dict.fromkeys(FEATURES, Field("Member", "identifier", True, True, "contract"))
    base = replace(good(), fields=personal)  # personal data makes the DPIA and review path apply
    assert status_of(base, check.id) == PASS
    without = {k: v for k, v in base.attestations.items() if k != check.id}
    assert status_of(replace(base, attestations=without), check.id) == FAIL


def test_with_no_evidence_at_all_no_check_passes() -> None:
    empty = replace(
        good(),
        stage="draft",
        value_statement="",
        kpis=(),
        features=(),
        fields={},
        evaluation={"metrics": {}, "baseline": {}, "segments": [], "latency": {}, "rows": None},
        profile_source="holdout",
        intended_use="",
        limitations="",
        training_date=None,
        training_reference="",
        refresh_days=None,
        artifact_stored=False,
        approved_by=None,
        last_logged=None,
        live_since=None,
        drift=None,
        attestations={},
    )
    results = checks.evaluate_checks(empty)
    assert not [r.check.id for r in results if r.status in (PASS, PARTIAL)]
    assert all(r.evidence for r in results)  # every status says why


# -- scoring -----------------------------------------------------------------------------------


def statuses(default: str = PASS, **overrides: str) -> dict[str, str]:
    return {c.id: overrides.get(c.id, default) for c in CHECKS}


def test_a_dimension_is_the_mean_credit_of_its_applicable_checks() -> None:
    # Maintainability has four checks: pass, partial, fail, not applicable → (1 + 0.5 + 0) / 3.
    s = score(statuses(owners=PASS, refresh_cadence=PARTIAL, reproducible=FAIL, code_reviewed=NOT_APPLICABLE))
    assert s.dimensions["maintainability"] == pytest.approx(50.0)
    assert s.dimensions["business"] == 100.0


def test_the_headline_is_the_lowest_dimension_and_the_mean_is_beside_it() -> None:
    s = score(statuses(owners=FAIL, inclusion=FAIL))  # maintainability 75, quality 80
    assert s.headline == pytest.approx(75.0)
    assert s.mean == pytest.approx((75 + 80 + 100 * 4) / 6)


@pytest.mark.parametrize(
    ("overrides", "level"),
    [
        ({}, PRODUCTION_READY),
        ({"code_reviewed": PARTIAL}, PRODUCTION_READY),  # maintainability 87.5
        ({"owners": FAIL}, PILOT_READY),  # 75: below 80
        ({"owners": FAIL, "code_reviewed": FAIL}, PILOT_READY),  # exactly 50
        ({"owners": FAIL, "code_reviewed": FAIL, "refresh_cadence": PARTIAL}, NOT_READY),  # 37.5
        ({"artifact_safe": FAIL}, NOT_READY),  # compliance 80, but a blocking check failed
    ],
)
def test_level_boundaries(overrides: dict[str, str], level: str) -> None:
    assert score(statuses(**overrides)).level == level


def test_next_steps_are_ordered_by_how_much_they_raise_the_headline() -> None:
    current = statuses(owners=FAIL, code_reviewed=FAIL, inclusion=FAIL)  # maintainability 50, quality 80
    steps = scoring.next_steps(current)
    assert [s.check.id for s in steps][:2] in (["owners", "code_reviewed"], ["code_reviewed", "owners"])
    assert steps[0].gain == pytest.approx(25.0)
    assert (steps[-1].check.id, steps[-1].gain) == ("inclusion", 0.0)
    assert all(a.gain >= b.gain for a, b in itertools.pairwise(steps))
    assert "reviewer" in next(s.who for s in steps if s.check.id == "code_reviewed")


STATUS = st.sampled_from([PASS, PARTIAL, FAIL, NOT_APPLICABLE])


@given(st.fixed_dictionaries({c.id: STATUS for c in CHECKS}), st.sampled_from([c.id for c in CHECKS]))
def test_turning_one_check_from_fail_to_pass_never_lowers_a_dimension_or_the_headline(
    given_statuses: dict[str, str], check_id: str
) -> None:
    failing = {**given_statuses, check_id: FAIL}
    before, after = score(failing), score({**failing, check_id: PASS})
    for d in DIMENSIONS:
        if before.dimensions[d.key] is not None:
            assert after.dimensions[d.key] >= before.dimensions[d.key]  # type: ignore[operator]
    assert after.headline >= before.headline
    assert after.mean >= before.mean
    assert rubric.LEVEL_RANK[after.level] >= rubric.LEVEL_RANK[before.level]
