"""Readiness evidence: everything Flightdeck holds about a version that the rubric reads, gathered
for any number of versions in a fixed handful of queries, so scoring a thousand versions stays well
under a second."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.core.clock import utcnow
from flightdeck.models import drift
from flightdeck.models.drift import DriftSummary
from flightdeck.orm import (
    ArtifactRow,
    AttestationRow,
    DataFieldRow,
    DeploymentRow,
    FeatureMapRow,
    GoalRow,
    KpiRow,
    LogBatchRow,
    ModelKpiRow,
    ModelRow,
    ModelVersionRow,
    StageEventRow,
    UserRow,
)
from flightdeck.readiness.rubric import (
    LOGS_RECENT_DAYS,
)


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
