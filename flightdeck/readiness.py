"""Operational readiness (DESIGN.md §4): evidence gathered in bulk, checks evaluated against the
rubric (`readiness_rubric`), the score, next steps, attestations, snapshots, the production gate and
the reviewer's audited override.

Evidence for any number of versions is read in a fixed handful of queries (`gather`), so scoring a
thousand versions stays well under a second. `refresh(session, version_ids, cause)` runs inside the
transaction of whatever changed the evidence (a new version, documentation, feature mapping, a stage
change, an attestation, a prediction load, a goal or KPI edit) and stores a snapshot only when the
result changed; when a version's level falls it raises a readiness alert, cleared once it recovers.
Time-driven evidence (logs going stale, a refresh falling due) is re-checked whenever a version's
readiness page is read and by `python -m flightdeck readiness refresh` (for cron); the portfolio reads
the stored snapshots only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from statistics import fmean
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck import alerts, audit, drift
from flightdeck.auth import User, authorize
from flightdeck.db import Database
from flightdeck.drift import DriftSummary
from flightdeck.drift_stats import Band
from flightdeck.errors import InvalidInput, NotFound, PermissionDenied, Problem
from flightdeck.orm import (
    AlertRow,
    ArtifactRow,
    AttestationRow,
    AuditHeadRow,
    DataFieldRow,
    DeploymentRow,
    FeatureMapRow,
    GateOverrideRow,
    GoalRow,
    KpiRow,
    LogBatchRow,
    ModelKpiRow,
    ModelRow,
    ModelVersionRow,
    SnapshotRow,
    StageEventRow,
    UserRow,
    utcnow,
)
from flightdeck.readiness_rubric import (
    CHECKS,
    CHECKS_BY_ID,
    CREDIT,
    DIMENSIONS,
    FAIL,
    LATENCY_BUDGET_MS,
    LATENCY_MIN_SAMPLES,
    LEVEL_LABELS,
    LEVEL_RANK,
    LOGS_RECENT_DAYS,
    NOT_APPLICABLE,
    NOT_READY,
    PARTIAL,
    PASS,
    PILOT_MIN,
    PILOT_READY,
    PRODUCTION_MIN,
    PRODUCTION_READY,
    RUBRIC_VERSION,
    SEGMENT_AUC_SLACK,
    SEGMENT_ERROR_RATIO,
    SEGMENT_MIN_ROWS,
    Check,
)
from flightdeck.roles import Role

NOTE_LIMIT = 2000
REASON_LIMIT = 4000
LINK_PATTERN = re.compile(r"^https?://\S{1,490}$")
ANYWHERE = frozenset({Role.REVIEWER, Role.ADMIN})  # attest any model; others only their own


# -- evidence --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attestation:
    id: int
    check_id: str
    note: str
    link: str
    by_id: int
    by_name: str
    at: datetime


@dataclass(frozen=True)
class Field:
    label: str
    data_type: str
    declared: bool
    personal: bool
    lawful_basis: str


@dataclass(frozen=True)
class Evidence:
    """Everything Flightdeck holds about one version that the rubric reads."""

    version_id: int
    model_id: int
    model_name: str
    number: int
    stage: str
    task: str
    goal_id: int
    goal_title: str
    goal_owner_name: str
    value_statement: str
    owner_ids: frozenset[int]
    kpis: tuple[tuple[str, bool, bool, bool], ...]  # name, baseline, target, money value
    features: tuple[str, ...]
    fields: dict[str, Field | None]  # feature → its confirmed field, None if unmapped
    evaluation: dict[str, Any]
    profile_source: str
    intended_use: str
    limitations: str
    training_date: date | None
    training_reference: str
    refresh_days: int | None
    artifact_stored: bool
    artifact_sha256: str
    approved_by: tuple[str, datetime] | None
    last_logged: datetime | None
    live_since: datetime | None  # when its current production deployment started
    drift: DriftSummary | None
    attestations: dict[str, Attestation]
    today: date

    @property
    def label(self) -> str:
        return f"{self.model_name} v{self.number}"

    @property
    def expects_logs(self) -> bool:
        """Serving for longer than the grace period in which the first logs may still be on the way."""
        return self.live_since is not None and (self.today - self.live_since.date()).days > LOGS_RECENT_DAYS


def _json(value: Any) -> Any:
    return value if value is not None else {}


def gather(session: Session, version_ids: Iterable[int], today: date | None = None) -> dict[int, Evidence]:
    """The evidence of many versions in a fixed number of queries, whatever their number."""
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    today = today or utcnow().date()
    v, m, g = ModelVersionRow, ModelRow, GoalRow
    rows = session.execute(
        select(
            v.id,
            v.model_id,
            m.name,
            v.number,
            v.stage,
            m.task,
            g.id,
            g.title,
            UserRow.display_name,
            g.value_statement,
            g.owner_id,
            v.features,
            v.evaluation["metrics"],
            v.evaluation["baseline"],
            v.evaluation["segments"],
            v.evaluation["latency"],
            v.evaluation["rows"],
            v.profile_source,
            v.intended_use,
            v.limitations,
            v.training_date,
            v.training_reference,
            v.refresh_days,
            v.artifact_sha256,
        )
        .join(m, m.id == v.model_id)
        .join(g, g.id == m.goal_id)
        .join(UserRow, UserRow.id == g.owner_id)
        .where(v.id.in_(ids))
    ).all()
    model_ids = sorted({r[1] for r in rows})
    authors: dict[int, set[int]] = {}
    for model_id, creator in session.execute(
        select(m.id, m.created_by_id)
        .where(m.id.in_(model_ids))
        .union(select(v.model_id, v.created_by_id).where(v.model_id.in_(model_ids)))
    ):
        authors.setdefault(model_id, set()).add(creator)
    kpis: dict[int, list[tuple[str, bool, bool, bool]]] = {}
    for model_id, name, base, target, money in session.execute(
        select(
            ModelKpiRow.model_id,
            KpiRow.name,
            KpiRow.baseline_value,
            KpiRow.target_value,
            KpiRow.value_per_unit,
        )
        .join(KpiRow, KpiRow.id == ModelKpiRow.kpi_id)
        .where(ModelKpiRow.model_id.in_(model_ids))
        .order_by(KpiRow.name)
    ):
        kpis.setdefault(model_id, []).append((name, base is not None, target is not None, money is not None))
    fields: dict[int, dict[str, Field | None]] = {}
    f = DataFieldRow
    for (
        version_id,
        feature,
        confirmed,
        label,
        kind,
        meaning,
        unit,
        fmt,
        codes,
        personal,
        basis,
    ) in session.execute(
        select(
            FeatureMapRow.version_id,
            FeatureMapRow.feature,
            FeatureMapRow.confirmed_by_id,
            f.label,
            f.data_type,
            f.meaning,
            f.unit,
            f.format,
            f.allowed_codes,
            f.personal_data,
            f.lawful_basis,
        )
        .outerjoin(f, f.id == FeatureMapRow.field_id)
        .where(FeatureMapRow.version_id.in_(ids))
    ):
        mapped = label is not None and confirmed is not None
        fields.setdefault(version_id, {})[feature] = (
            Field(label, kind, _declared(kind, meaning, unit, fmt, codes), bool(personal), basis or "")
            if mapped
            else None
        )
    stored = set(
        session.scalars(select(ArtifactRow.sha256).where(ArtifactRow.sha256.in_({r[-1] for r in rows})))
    )
    approvals: dict[int, list[tuple[int | None, str, datetime]]] = {}
    for version_id, actor_id, actor_name, at in session.execute(
        select(StageEventRow.version_id, StageEventRow.actor_id, StageEventRow.actor_name, StageEventRow.at)
        .where(StageEventRow.version_id.in_(ids), StageEventRow.action == "approve")
        .order_by(StageEventRow.at)
    ):
        approvals.setdefault(version_id, []).append((actor_id, actor_name, at))
    logged = dict(
        session.execute(
            select(LogBatchRow.version_id, func.max(LogBatchRow.last_at))
            .where(LogBatchRow.version_id.in_(ids), LogBatchRow.kind == "predictions")
            .group_by(LogBatchRow.version_id)
        ).all()
    )
    live = dict(
        session.execute(
            select(DeploymentRow.version_id, DeploymentRow.started_at).where(
                DeploymentRow.version_id.in_(ids), DeploymentRow.ended_at.is_(None)
            )
        ).all()
    )
    drifts = drift.drift_summary_many(session, ids, today)
    attested: dict[int, dict[str, Attestation]] = {}
    t = AttestationRow
    for version_id, *a in session.execute(
        select(t.version_id, t.id, t.check_id, t.note, t.link, t.by_id, t.by_name, t.at)
        .where(t.version_id.in_(ids), t.withdrawn_at.is_(None))
        .order_by(t.at)
    ):
        attested.setdefault(version_id, {})[a[1]] = Attestation(*a)
    found: dict[int, Evidence] = {}
    for r in rows:
        version_id, model_id = r[0], r[1]
        owners = frozenset(authors.get(model_id, set()) | {r[10]})
        independent = [(name, at) for actor, name, at in approvals.get(version_id, []) if actor not in owners]
        found[version_id] = Evidence(
            version_id=version_id,
            model_id=model_id,
            model_name=r[2],
            number=r[3],
            stage=r[4],
            task=r[5],
            goal_id=r[6],
            goal_title=r[7],
            goal_owner_name=r[8],
            value_statement=r[9] or "",
            owner_ids=owners,
            kpis=tuple(kpis.get(model_id, [])),
            features=tuple(r[11] or ()),
            fields=fields.get(version_id, {}),
            evaluation={
                "metrics": _json(r[12]),
                "baseline": _json(r[13]),
                "segments": r[14] or [],
                "latency": _json(r[15]),
                "rows": r[16],
            },
            profile_source=r[17],
            intended_use=r[18] or "",
            limitations=r[19] or "",
            training_date=r[20],
            training_reference=r[21] or "",
            refresh_days=r[22],
            artifact_stored=r[23] in stored,
            artifact_sha256=r[23],
            approved_by=independent[-1] if independent else None,
            last_logged=logged.get(version_id),
            live_since=live.get(version_id),
            drift=drifts.get(version_id),
            attestations=attested.get(version_id, {}),
            today=today,
        )
    return found


def _declared(kind: str | None, meaning: str | None, unit: str | None, fmt: str | None, codes: Any) -> bool:
    """A field's context is declared when its meaning is written and, by type, its unit (numbers),
    format (dates) or allowed codes (codes) are given."""
    if not (meaning or "").strip():
        return False
    if kind in ("integer", "decimal"):
        return bool((unit or "").strip())
    if kind in ("date", "datetime"):
        return bool((fmt or "").strip())
    if kind == "code":
        return bool(codes)
    return True


# -- checks ----------------------------------------------------------------------------------------


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


# -- scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    dimensions: dict[str, float | None]  # 0–100, None when no check of it applies
    headline: float
    mean: float
    level: str
    blocking_failed: tuple[str, ...]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


_DIMENSION_CHECKS = {d.key: tuple(c.id for c in CHECKS if c.dimension == d.key) for d in DIMENSIONS}
_BLOCKING = tuple(c.id for c in CHECKS if c.blocking)
_WHO = {c.id: " or ".join(r.label.lower() for r in c.fixers) for c in CHECKS}  # scored 30,000 times


def score(statuses: dict[str, str]) -> Score:
    """DESIGN.md §4: a dimension is the mean credit of its applicable checks (0–100); the headline
    is the lowest dimension, shown beside the mean; the level follows the headline and blockers."""
    dimensions: dict[str, float | None] = {}
    for key, ids in _DIMENSION_CHECKS.items():
        credits = [CREDIT[statuses[c]] for c in ids if statuses[c] != NOT_APPLICABLE]
        dimensions[key] = 100 * sum(credits) / len(credits) if credits else None
    scored = [s for s in dimensions.values() if s is not None]
    headline = min(scored) if scored else 0.0
    mean = fmean(scored) if scored else 0.0
    blocking = tuple(c for c in _BLOCKING if statuses[c] == FAIL)
    if blocking or headline < PILOT_MIN:
        level = NOT_READY
    elif headline >= PRODUCTION_MIN:
        level = PRODUCTION_READY
    else:
        level = PILOT_READY
    return Score(dimensions, headline, mean, level, blocking)


@dataclass(frozen=True)
class NextStep:
    check: Check
    action: str
    who: str
    gain: float  # headline points gained if this check passed
    level_after: str
    dimension_gain: float  # points its own dimension gains
    raises_level: bool


@dataclass(frozen=True)
class Readiness:
    evidence: Evidence
    results: tuple[CheckResult, ...]
    score: Score
    next_steps: tuple[NextStep, ...]

    @property
    def statuses(self) -> dict[str, str]:
        return {r.check.id: r.status for r in self.results}

    @property
    def top_blocker(self) -> str:
        blocking = [r.check.title for r in self.results if r.check.blocking and r.status == FAIL]
        if blocking:
            return blocking[0]
        return self.next_steps[0].check.title if self.next_steps else ""


def who_can_fix(check: Check) -> str:
    return _WHO[check.id]


def next_steps(statuses: dict[str, str], current: Score | None = None) -> tuple[NextStep, ...]:
    """Each failing or partial check, with what passing it would do to the headline; ordered by
    the headline points gained, then by the level reached, then by the mean gained."""
    now = current or score(statuses)
    steps = []
    for check in CHECKS:
        if statuses[check.id] not in (FAIL, PARTIAL):
            continue
        after = score({**statuses, check.id: PASS})
        own = (after.dimensions[check.dimension] or 0.0) - (now.dimensions[check.dimension] or 0.0)
        step = NextStep(
            check,
            check.action,
            who_can_fix(check),
            after.headline - now.headline,
            after.level,
            own,
            LEVEL_RANK[after.level] > LEVEL_RANK[now.level],
        )
        steps.append(((-step.gain, -LEVEL_RANK[after.level], -(after.mean - now.mean)), step))
    steps.sort(key=lambda pair: pair[0])
    return tuple(step for _, step in steps)


def assess(e: Evidence) -> Readiness:
    results = evaluate_checks(e)
    statuses = {r.check.id: r.status for r in results}
    current = score(statuses)
    return Readiness(e, results, current, next_steps(statuses, current))


def assess_many(
    session: Session, version_ids: Iterable[int], today: date | None = None
) -> dict[int, Readiness]:
    return {vid: assess(e) for vid, e in gather(session, version_ids, today).items()}


def current(db: Database, version_id: int) -> Readiness:
    """A version's readiness now; time-driven evidence is re-checked and snapshotted if it moved."""
    with db.transaction() as session:
        refresh(session, [version_id], "Re-checked when read")
        found = assess_many(session, [version_id]).get(version_id)
    if found is None:
        raise NotFound("Model version", version_id)
    return found


# -- snapshots and the level-fall alert -----------------------------------------------------------


def _latest(session: Session, version_ids: list[int]) -> dict[int, SnapshotRow]:
    newest = (
        select(func.max(SnapshotRow.id))
        .where(SnapshotRow.version_id.in_(version_ids))
        .group_by(SnapshotRow.version_id)
    )
    return {s.version_id: s for s in session.scalars(select(SnapshotRow).where(SnapshotRow.id.in_(newest)))}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def refresh(
    session: Session, version_ids: Iterable[int], cause: str, now: datetime | None = None
) -> list[int]:
    """Score the versions in the caller's transaction and store a snapshot for each whose result
    changed, naming the cause. Returns the versions that got a new snapshot."""
    ids = sorted(set(version_ids))
    if not ids:
        return []
    moment = now or utcnow()
    results = assess_many(session, ids, moment.date())
    previous = _latest(session, ids)
    changed = []
    for vid, r in results.items():
        dims = {k: _rounded(v) for k, v in r.score.dimensions.items()}
        before = previous.get(vid)
        if (
            before is not None
            and before.statuses == r.statuses
            and before.dimensions == dims
            and before.rubric_version == RUBRIC_VERSION
        ):
            continue
        session.add(
            SnapshotRow(
                version_id=vid,
                at=moment,
                rubric_version=RUBRIC_VERSION,
                headline=round(r.score.headline, 1),
                mean=round(r.score.mean, 1),
                level=r.score.level,
                dimensions=dims,
                statuses=r.statuses,
                blockers=len(r.score.blocking_failed),
                top_blocker=r.top_blocker[:200],
                cause=cause[:200],
            )
        )
        changed.append(vid)
        _level_alert(session, r, before.level if before is not None else None, moment)
    session.flush()
    return changed


def _level_alert(session: Session, r: Readiness, before: str | None, moment: datetime) -> None:
    """Raise an alert when the level falls below what it was; clear it once it is back."""
    key = f"readiness:{r.evidence.version_id}:level"
    was = LEVEL_RANK[before] if before is not None else -1
    open_alert = session.scalar(
        select(AlertRow).where(AlertRow.condition_key == key, AlertRow.cleared_at.is_(None))
    )
    if open_alert is not None and open_alert.details:
        was = max(was, LEVEL_RANK.get(str(open_alert.details.get("was")), -1))
    now_rank = LEVEL_RANK[r.score.level]
    if now_rank >= was or r.evidence.stage == "retired":
        if open_alert is not None:
            alerts.clear(session, key, notify=alerts.notify_for(session), now=moment)
        return
    was_level = next(k for k, v in LEVEL_RANK.items() if v == was)
    serving = r.evidence.stage == "production"
    alerts.raise_or_keep(
        session,
        kind="readiness",
        severity="critical" if serving and r.score.level == NOT_READY else "warning",
        entity_type="model_version",
        entity_id=r.evidence.version_id,
        goal_id=r.evidence.goal_id,
        condition_key=key,
        message=f"{r.evidence.label} fell from {LEVEL_LABELS[was_level]} to {r.score.level_label}"
        + (f": {r.top_blocker}" if r.top_blocker else ""),
        details={"was": was_level, "now": r.score.level, "headline": round(r.score.headline, 1)},
        notify=alerts.notify_for(session),
        now=moment,
    )


def versions_of(session: Session, model_ids: Iterable[int] = (), goal_id: int | None = None) -> list[int]:
    """The live (not retired) versions of some models or of a goal's models: whose evidence a
    model, goal or KPI edit changes."""
    query = select(ModelVersionRow.id).where(ModelVersionRow.stage != "retired")
    if goal_id is not None:
        query = query.join(ModelRow, ModelRow.id == ModelVersionRow.model_id).where(
            ModelRow.goal_id == goal_id
        )
    else:
        query = query.where(ModelVersionRow.model_id.in_(list(model_ids)))
    return list(session.scalars(query))


def refresh_all(db: Database, cause: str = "Scheduled re-check", chunk: int = 500) -> int:
    """Re-check every version that is not retired (cron: `python -m flightdeck readiness refresh`)."""
    with db.read() as session:
        ids = list(session.scalars(select(ModelVersionRow.id).where(ModelVersionRow.stage != "retired")))
    changed = 0
    for start in range(0, len(ids), chunk):
        with db.transaction() as session:
            changed += len(refresh(session, ids[start : start + chunk], cause))
    alerts.dispatch(db)
    return changed


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    headline: float
    mean: float
    level: str
    dimensions: dict[str, float | None]
    statuses: dict[str, str]
    cause: str
    moved: tuple[str, ...]  # "Drift: pass → fail", what changed since the snapshot before


def history(db: Database, version_id: int) -> list[Snapshot]:
    """Every snapshot of a version, oldest first, with the checks that moved each time."""
    with db.read() as session:
        rows = session.scalars(
            select(SnapshotRow).where(SnapshotRow.version_id == version_id).order_by(SnapshotRow.id)
        ).all()
        found, before = [], {}
        for s in rows:
            moved = tuple(
                f"{CHECKS_BY_ID[k].title}: {before.get(k, '–')} → {v}".replace("_", " ")
                for k, v in s.statuses.items()
                if k in CHECKS_BY_ID and before and before.get(k) != v
            )
            found.append(
                Snapshot(
                    s.at, s.headline, s.mean, s.level, dict(s.dimensions), dict(s.statuses), s.cause, moved
                )
            )
            before = s.statuses
        return found


# -- the portfolio -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioRow:
    version_id: int
    model_id: int
    goal: str
    model: str
    number: int
    stage: str
    headline: float | None
    mean: float | None
    level: str | None
    blockers: int
    top_blocker: str
    scored_at: datetime | None


def portfolio(db: Database, version_ids: Iterable[int] | None = None) -> list[PortfolioRow]:
    """Every version (or only these) with its latest stored score: one query, no re-scoring."""
    v, m, g = ModelVersionRow, ModelRow, GoalRow
    ids = None if version_ids is None else list(version_ids)
    newest = select(func.max(SnapshotRow.id).label("id")).group_by(SnapshotRow.version_id)
    query = select(v.id, v.model_id, g.title, m.name, v.number, v.stage)
    if ids is not None:
        newest = newest.where(SnapshotRow.version_id.in_(ids))
        query = query.where(v.id.in_(ids))
    ranked = newest.subquery()
    latest = select(SnapshotRow).join(ranked, ranked.c.id == SnapshotRow.id).subquery()
    with db.read() as session:
        rows = session.execute(
            query.add_columns(
                latest.c.headline,
                latest.c.mean,
                latest.c.level,
                latest.c.blockers,
                latest.c.top_blocker,
                latest.c.at,
            )
            .join(m, m.id == v.model_id)
            .join(g, g.id == m.goal_id)
            .outerjoin(latest, latest.c.version_id == v.id)
            .order_by(g.title, m.name, v.number.desc())
        ).all()
        return [PortfolioRow(*r[:9], r[9] or 0, r[10] or "", r[11]) for r in rows]


def summaries(db: Database, version_ids: Iterable[int]) -> dict[int, PortfolioRow]:
    """The latest stored score of some versions, for pages that show readiness beside other things."""
    return {r.version_id: r for r in portfolio(db, version_ids)}


def data_stamp(db: Database) -> tuple[int, int]:
    """The portfolio cache key: the newest snapshot and the newest audit event (every version, stage
    and name change is audited; re-checks on reading store snapshots without an audit event)."""
    with db.read() as session:
        return (
            session.scalar(select(func.coalesce(func.max(SnapshotRow.id), 0))) or 0,
            session.scalar(select(AuditHeadRow.last_event_id).where(AuditHeadRow.id == 1)) or 0,
        )


# -- attestations ----------------------------------------------------------------------------------


def may_attest(user: User | None, check: Check, owner_ids: frozenset[int]) -> bool:
    """A role the check names; data scientists and business owners only on their own models or
    goals, reviewers and admins on any."""
    if user is None or not check.attested:
        return False
    roles = user.roles & set(check.fixers)
    return bool(roles & ANYWHERE) or (bool(roles) and user.id in owner_ids)


def _evidence(session: Session, version_id: int) -> Evidence:
    found = gather(session, [version_id]).get(version_id)
    if found is None:
        raise NotFound("Model version", version_id)
    return found


def attest(
    db: Database,
    actor: User,
    version_id: int,
    check_id: str,
    note: str,
    link: str = "",
    now: datetime | None = None,
) -> Readiness:
    """A person with a role the check names asserts it, with a note and an optional link. It holds
    for this version only; attesting again replaces the earlier attestation."""
    entity = f"model version {version_id}"
    with db.transaction() as session:
        authorize(actor, "readiness.attest", entity=entity)
        check = CHECKS_BY_ID.get(check_id)
        if check is None or not check.attested:
            raise InvalidInput(Problem("check", f"'{check_id}' is not a check that people attest."))
        e = _evidence(session, version_id)
        if not may_attest(actor, check, e.owner_ids):
            raise PermissionDenied(
                actor.id, actor.display_name, "readiness.attest", f"{entity} · {check.title}"
            )
        clean_note, clean_link = note.strip(), link.strip()
        problems = []
        if not clean_note:
            problems.append(Problem("note", "Say what you checked: the note goes on the record."))
        if len(clean_note) > NOTE_LIMIT:
            problems.append(Problem("note", f"The note must be at most {NOTE_LIMIT} characters."))
        if clean_link and not LINK_PATTERN.match(clean_link):
            problems.append(Problem("link", "The link must be an http(s) address of at most 500 characters."))
        if problems:
            raise InvalidInput(problems)
        moment = now or utcnow()
        for earlier in session.scalars(
            select(AttestationRow).where(
                AttestationRow.version_id == version_id,
                AttestationRow.check_id == check_id,
                AttestationRow.withdrawn_at.is_(None),
            )
        ):
            earlier.withdrawn_at, earlier.withdrawn_by_name = moment, actor.display_name
        row = AttestationRow(
            version_id=version_id,
            check_id=check_id,
            note=clean_note,
            link=clean_link,
            by_id=actor.id,
            by_name=actor.display_name,
            at=moment,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            by=actor,
            action="readiness.attest",
            entity_type="model_version",
            entity_id=version_id,
            after={"check": check_id, "note": clean_note, "link": clean_link, "attestation": row.id},
        )
        refresh(session, [version_id], f"{check.title}: attested by {actor.display_name}", moment)
        return assess_many(session, [version_id], moment.date())[version_id]


def withdraw(db: Database, actor: User, attestation_id: int, now: datetime | None = None) -> Readiness:
    """The attester, a reviewer or an admin withdraws an attestation; the check fails again."""
    with db.transaction() as session:
        authorize(actor, "readiness.attest", entity=f"attestation {attestation_id}")
        row = session.get(AttestationRow, attestation_id)
        if row is None or row.withdrawn_at is not None:
            raise NotFound("Attestation", attestation_id)
        if row.by_id != actor.id and not actor.roles & ANYWHERE:
            raise PermissionDenied(
                actor.id, actor.display_name, "readiness.attest", f"attestation {attestation_id}"
            )
        moment = now or utcnow()
        row.withdrawn_at, row.withdrawn_by_name = moment, actor.display_name
        check = CHECKS_BY_ID[row.check_id]
        audit.record(
            session,
            by=actor,
            action="readiness.withdraw",
            entity_type="model_version",
            entity_id=row.version_id,
            before={"check": row.check_id, "note": row.note, "by": row.by_name},
        )
        refresh(
            session, [row.version_id], f"{check.title}: attestation withdrawn by {actor.display_name}", moment
        )
        return assess_many(session, [row.version_id], moment.date())[row.version_id]


# -- the production gate and its override ---------------------------------------------------------


@dataclass(frozen=True)
class Override:
    id: int
    version_id: int
    reason: str
    level: str
    headline: float
    by_name: str
    at: datetime
    used_at: datetime | None


def record_override(
    db: Database, actor: User, version_id: int, reason: str, now: datetime | None = None
) -> Override:
    """A reviewer who is not an author lets an approved version below Production-ready go to
    production, with the reason on the record. It is used up by the next promotion."""
    from flightdeck.registry import FourEyes, authors_of  # registry imports this module

    entity = f"model version {version_id}"
    with db.transaction() as session:
        authorize(actor, "readiness.override", entity=entity)
        row = session.get(ModelVersionRow, version_id)
        if row is None:
            raise NotFound("Model version", version_id)
        if actor.id in authors_of(session, row.model_id):
            raise FourEyes(actor, row.model.name, "readiness.override", entity)
        clean = reason.strip()
        if not clean:
            raise InvalidInput(Problem("reason", "Give the reason for the override: it goes on the record."))
        if len(clean) > REASON_LIMIT:
            raise InvalidInput(Problem("reason", f"The reason must be at most {REASON_LIMIT} characters."))
        if row.stage != "approved":
            raise InvalidInput(
                Problem("stage", "Only an approved version waiting to go to production needs an override.")
            )
        moment = now or utcnow()
        r = assess_many(session, [version_id], moment.date())[version_id]
        if r.score.level == PRODUCTION_READY:
            raise InvalidInput(
                Problem("stage", f"{r.evidence.label} is Production-ready: no override needed.")
            )
        override = GateOverrideRow(
            version_id=version_id,
            reason=clean,
            level=r.score.level,
            headline=round(r.score.headline, 1),
            by_id=actor.id,
            by_name=actor.display_name,
            at=moment,
        )
        session.add(override)
        session.flush()
        audit.record(
            session,
            by=actor,
            action="readiness.override",
            entity_type="model_version",
            entity_id=version_id,
            after={
                "reason": clean,
                "level": r.score.level,
                "headline": round(r.score.headline, 1),
                "blockers": list(r.score.blocking_failed),
            },
        )
        return _override_view(override)


def _override_view(row: GateOverrideRow) -> Override:
    return Override(
        row.id, row.version_id, row.reason, row.level, row.headline, row.by_name, row.at, row.used_at
    )


def overrides(db: Database, version_id: int) -> list[Override]:
    with db.read() as session:
        rows = session.scalars(
            select(GateOverrideRow)
            .where(GateOverrideRow.version_id == version_id)
            .order_by(GateOverrideRow.id)
        )
        return [_override_view(r) for r in rows]


def gate(session: Session, row: ModelVersionRow, moment: datetime) -> None:
    """Refuse production below Production-ready unless a reviewer recorded an override, which the
    promotion then uses up."""
    r = assess_many(session, [row.id], moment.date())[row.id]
    if r.score.level == PRODUCTION_READY:
        return
    waiver = session.scalar(
        select(GateOverrideRow)
        .where(GateOverrideRow.version_id == row.id, GateOverrideRow.used_at.is_(None))
        .order_by(GateOverrideRow.id.desc())
    )
    if waiver is not None:
        waiver.used_at = moment
        return
    missing = [s.check.title for s in r.next_steps[:3]]
    raise InvalidInput(
        Problem(
            "readiness",
            f"{r.evidence.label} is {r.score.level_label} ({r.score.headline:.0f}/100), not "
            f"Production-ready: {'; '.join(missing)}. A reviewer who is not an author can record an "
            "override with a reason.",
        )
    )
