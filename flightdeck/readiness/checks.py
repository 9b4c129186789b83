"""The readiness checks: each automatic check reads the evidence and gives a status with the
evidence in plain words; an attested check passes only with a current attestation. A check without
evidence takes the rubric's `missing` status (fail or not applicable), never pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightdeck.models import drift
from flightdeck.models.drift_stats import Band
from flightdeck.readiness.evidence import Attestation, Evidence
from flightdeck.readiness.rubric import (
    CHECKS,
    FAIL,
    LATENCY_BUDGET_MS,
    LATENCY_MIN_SAMPLES,
    LOGS_RECENT_DAYS,
    NOT_APPLICABLE,
    PARTIAL,
    PASS,
    SEGMENT_AUC_SLACK,
    SEGMENT_ERROR_RATIO,
    SEGMENT_MIN_ROWS,
    Check,
)


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: str
    evidence: str
    attestation: Attestation | None = None


Verdict = tuple[str | None, str]  # status (None: the rubric's "missing"), evidence in plain words


def _share(done: int, total: int) -> str:
    return PASS if done == total else PARTIAL if done * 2 >= total else FAIL


def _goal_owner_value(e: Evidence) -> Verdict:
    if e.value_statement.strip():
        return PASS, f"Owner {e.goal_owner_name}; value: {e.value_statement.strip()[:160]}"
    return FAIL, f"The goal “{e.goal_title}” has no value statement."


def _kpi_plan(e: Evidence) -> Verdict:
    if not e.kpis:
        return None, "No KPI is linked to the model."
    complete = [name for name, *facts in e.kpis if all(facts)]
    missing = [
        f"{name} lacks "
        + ", ".join(w for w, ok in zip(("baseline", "target", "money value"), facts, strict=True) if not ok)
        for name, *facts in e.kpis
        if not all(facts)
    ]
    if not missing:
        return PASS, f"{', '.join(complete)}: baseline, target and money value set."
    some = complete or any(any(facts) for _, *facts in e.kpis)
    return (PARTIAL if some else FAIL), "; ".join(missing) + "."


def _features_mapped(e: Evidence) -> Verdict:
    if not e.features:
        return None, "The version declares no features."
    unmapped = [f for f in e.features if e.fields.get(f) is None]
    status = _share(len(e.features) - len(unmapped), len(e.features))
    if not unmapped:
        return status, f"All {len(e.features)} features mapped and confirmed."
    return status, f"{len(unmapped)} of {len(e.features)} unmapped or unconfirmed: {', '.join(unmapped)}."


def _context_declared(e: Evidence) -> Verdict:
    mapped = [(f, x) for f, x in e.fields.items() if x is not None]
    if not mapped:
        return None, "No feature is mapped to a dictionary field yet."
    vague = [x.label for _, x in mapped if not x.declared]
    if not vague:
        return PASS, f"Meaning and unit, format or codes declared for all {len(mapped)} mapped fields."
    return _share(len(mapped) - len(vague), len(mapped)), f"Not fully declared: {', '.join(vague)}."


def _training_profile(e: Evidence) -> Verdict:
    if not e.evaluation["metrics"]:
        return None, "No profile: the version has not been evaluated."
    if e.profile_source == "reference":
        return PASS, "Profiled on a sample of the training data."
    return PARTIAL, "Profiled on the holdout only; upload a training-data sample for a true reference."


def _serving_schema(e: Evidence) -> Verdict:
    if e.drift is None or not e.drift.features:
        return None, f"No predictions logged in the last {drift.WINDOW_DAYS} days to compare."
    seen = {f.feature for f in e.drift.features if f.n}
    missing = [f for f in e.features if f not in seen]
    if not missing:
        return PASS, f"Every feature arrives in the logs of the last {drift.WINDOW_DAYS} days."
    return _share(
        len(e.features) - len(missing), len(e.features)
    ), f"Missing in the logs: {', '.join(missing)}."


def _personal_data(e: Evidence) -> Verdict:
    unmapped = [f for f in e.features if e.fields.get(f) is None]
    if unmapped or not e.features:
        return None, f"Cannot tell: {len(unmapped)} feature(s) are not mapped to dictionary fields."
    personal = [x for x in e.fields.values() if x is not None and x.personal]
    lacking = [x.label for x in personal if not x.lawful_basis]
    if lacking:
        return FAIL, f"Personal data without a lawful basis: {', '.join(lacking)}."
    if not personal:
        return PASS, "No feature is personal data according to the data dictionary."
    return PASS, "Personal data with lawful basis: " + ", ".join(
        f"{x.label} ({x.lawful_basis})" for x in personal
    )


def _uses_personal(e: Evidence) -> bool | None:
    if any(e.fields.get(f) is None for f in e.features) or not e.features:
        return None
    return any(x is not None and x.personal for x in e.fields.values())


def _evaluated(e: Evidence) -> Verdict:
    if not e.evaluation["metrics"]:
        return None, "Not evaluated on a holdout yet."
    return PASS, f"Evaluated by Flightdeck on {e.evaluation['rows'] or 0:,} holdout rows."


def _primary(e: Evidence, metrics: dict[str, Any]) -> tuple[str, float | None, bool]:
    """The metric the rubric compares: ROC AUC (higher is better) or MAE (lower is better)."""
    if e.task == "classification":
        auc = metrics.get("roc_auc")
        return ("ROC AUC", 0.5 if auc is None and metrics is e.evaluation["baseline"] else auc, True)
    return "MAE", metrics.get("mae"), False


def _beats_baseline(e: Evidence) -> Verdict:
    if not e.evaluation["metrics"]:
        return None, "No evaluation to compare with a baseline."
    name, model, higher = _primary(e, e.evaluation["metrics"])
    _, base, _ = _primary(e, e.evaluation["baseline"])
    if model is None or base is None:
        return None, f"{name} could not be measured on the holdout."
    better = model > base if higher else model < base
    text = f"{name} {model:.3g} against the baseline's {base:.3g}."
    return (PASS if better else FAIL), text


def _segments_hold(e: Evidence) -> Verdict:
    segments = [s for s in e.evaluation["segments"] if s.get("n", 0) >= SEGMENT_MIN_ROWS]
    if not segments:
        return None, f"No holdout segment with at least {SEGMENT_MIN_ROWS} rows to compare."
    name, overall, higher = _primary(e, e.evaluation["metrics"])
    if overall is None:
        return None, f"Overall {name} could not be measured."
    weak = []
    for s in segments:
        value = _primary(e, s.get("metrics") or {})[1]
        if value is None:
            continue
        holds = (
            value >= max(0.5, overall - SEGMENT_AUC_SLACK)
            if higher
            else value <= overall * SEGMENT_ERROR_RATIO
        )
        if not holds:
            weak.append(f"{s['segment']} ({name} {value:.3g})")
    if not weak:
        return PASS, f"{name} holds on all {len(segments)} segments (overall {overall:.3g})."
    status = PARTIAL if len(weak) * 3 <= len(segments) else FAIL
    return status, f"Weaker than overall ({overall:.3g}) on: {', '.join(weak)}."


def _docs_written(e: Evidence) -> Verdict:
    written = [
        w for w, text in (("intended use", e.intended_use), ("limitations", e.limitations)) if text.strip()
    ]
    if len(written) == 2:
        return PASS, "Intended use and limitations are written."
    if written:
        return PARTIAL, f"Only the {written[0]} is written."
    return None, "Neither intended use nor limitations are written."


def _latency(e: Evidence) -> Verdict:
    latency = e.evaluation["latency"]
    p95, samples = latency.get("single_p95_ms"), latency.get("single_samples") or 0
    if p95 is None:
        return None, "Latency was not measured."
    text = f"p95 {p95:.1f} ms per row (budget {LATENCY_BUDGET_MS:g} ms)."
    if samples < LATENCY_MIN_SAMPLES:  # a p95 of a handful of calls is just the slowest one
        p95 = latency.get("single_p50_ms") or p95
        text = f"Median {p95:.1f} ms per row over only {samples} calls (budget {LATENCY_BUDGET_MS:g} ms)."
    if p95 <= LATENCY_BUDGET_MS:
        return PASS, text
    return (PARTIAL if p95 <= 2 * LATENCY_BUDGET_MS else FAIL), text


def _logs_recent(e: Evidence) -> Verdict:
    if e.last_logged is None:
        if e.expects_logs:
            return FAIL, "In production, but no predictions have been logged."
        if e.live_since is not None:
            return (
                None,
                f"Live since {e.live_since:%d %b %Y}: the first logs are due within {LOGS_RECENT_DAYS} days.",
            )
        return None, "Not serving yet: no predictions expected."
    last = e.last_logged.date()
    if (e.today - last).days <= LOGS_RECENT_DAYS:
        return PASS, f"Last prediction logged on {last:%d %b %Y}."
    return FAIL, f"Last prediction logged on {last:%d %b %Y}, over {LOGS_RECENT_DAYS} days ago."


def _drift_ok(e: Evidence) -> Verdict:
    if e.drift is None or e.drift.worst is None:
        if e.expects_logs:
            return (
                FAIL,
                f"In production, but nothing logged in the last {drift.WINDOW_DAYS} days to measure drift.",
            )
        return None, "No predictions logged yet, so drift cannot be measured."
    if e.drift.worst is Band.STABLE:
        return PASS, f"All inputs stable over the last {drift.WINDOW_DAYS} days (PSI < 0.1)."
    moved = [
        f"{f.feature} (PSI {f.psi.value:.2f})"
        for f in e.drift.features
        if f.status not in (None, Band.STABLE)
    ]
    band = "Major" if e.drift.worst is Band.MAJOR else "Moderate"
    return (FAIL if e.drift.worst is Band.MAJOR else PARTIAL), f"{band} drift: {', '.join(moved)}."


def _artifact_safe(e: Evidence) -> Verdict:
    if not e.artifact_stored:
        return None, "The artifact is missing from the store."
    return PASS, f"skops file, sha256 {e.artifact_sha256[:12]}…, checked again on every load."


def _independent_approval(e: Evidence) -> Verdict:
    if e.approved_by is None:
        return None, "Not approved by a reviewer who is not an author."
    name, at = e.approved_by
    return PASS, f"Approved by {name} on {at:%d %b %Y}."


def _refresh_cadence(e: Evidence) -> Verdict:
    if e.refresh_days is None:
        return None, "No refresh cadence set."
    if e.training_date is None:
        return None, "The training date is not recorded."
    age = (e.today - e.training_date).days
    if age <= e.refresh_days:
        return PASS, f"Trained {age} days ago; cadence {e.refresh_days} days."
    return PARTIAL, f"Retraining overdue: trained {age} days ago, cadence {e.refresh_days} days."


def _reproducible(e: Evidence) -> Verdict:
    have = [e.training_date is not None, bool(e.training_reference.strip())]
    if all(have):
        return PASS, f"Trained {e.training_date:%d %b %Y}; {e.training_reference[:120]}"
    if any(have):
        return PARTIAL, "Training date or code and data references missing."
    return None, "No training date and no code or data references."


AUTOMATIC = {
    "goal_owner_value": _goal_owner_value,
    "kpi_plan": _kpi_plan,
    "features_mapped": _features_mapped,
    "context_declared": _context_declared,
    "training_profile": _training_profile,
    "serving_schema": _serving_schema,
    "personal_data": _personal_data,
    "evaluated": _evaluated,
    "beats_baseline": _beats_baseline,
    "segments_hold": _segments_hold,
    "docs_written": _docs_written,
    "latency_budget": _latency,
    "logs_recent": _logs_recent,
    "drift_ok": _drift_ok,
    "artifact_safe": _artifact_safe,
    "independent_approval": _independent_approval,
    "refresh_cadence": _refresh_cadence,
    "reproducible": _reproducible,
}


PERSONAL_ONLY = {"dpia", "human_review"}  # attested, but only where personal data is used


def _attested(check: Check, e: Evidence) -> CheckResult:
    if check.id in PERSONAL_ONLY:
        uses = _uses_personal(e)
        if uses is None:
            return CheckResult(
                check, FAIL, "Cannot tell whether personal data is used: map every feature first."
            )
        if not uses:
            return CheckResult(check, NOT_APPLICABLE, "No feature is personal data, so this does not apply.")
    found = e.attestations.get(check.id)
    if found is None:
        return CheckResult(check, check.missing, f"Not attested yet (may attest: {_WHO[check.id]}).")
    return CheckResult(
        check, PASS, f"Attested by {found.by_name} on {found.at:%d %b %Y}: {found.note}", found
    )


def evaluate_checks(e: Evidence) -> tuple[CheckResult, ...]:
    """Every check's status and evidence. A check without evidence takes its rubric's `missing`
    status (fail or not applicable), never pass."""
    results = []
    for check in CHECKS:
        if check.attested:
            results.append(_attested(check, e))
            continue
        status, text = AUTOMATIC[check.id](e)
        results.append(CheckResult(check, status or check.missing, text))
    return tuple(results)


_WHO = {c.id: " or ".join(r.label.lower() for r in c.fixers) for c in CHECKS}  # scored 30,000 times


def who_can_fix(check: Check) -> str:
    return _WHO[check.id]
