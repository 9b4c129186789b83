"""What the model registry hands across the boundary: frozen views of models, versions, feature
mappings, stage events and deployments, built from rows in one place, and the words for stages and
tasks. Authors of a model are the person who registered it and everyone who created a version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.permissions import OwnedBy
from flightdeck.models.evaluation import ErrorValues
from flightdeck.orm import DataFieldRow, KpiRow, ModelRow, ModelVersionRow, UserRow

STAGE_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "production": "In production",
    "retired": "Retired",
}


TASK_LABELS = {"classification": "Classification (binary)", "regression": "Regression"}


@dataclass(frozen=True)
class Model:
    id: int
    key: str
    name: str
    goal_id: int
    goal_title: str
    goal_owner_id: int
    task: str
    description: str
    kpi_ids: tuple[int, ...]
    kpi_names: tuple[str, ...]
    created_by_id: int
    created_by_name: str
    created_at: datetime
    author_ids: frozenset[int]
    author_names: tuple[str, ...]
    error_values: ErrorValues | None
    value_note: str
    value_set_by_name: str
    value_set_at: datetime | None
    version: int
    updated_at: datetime
    versions: int = 0
    latest_number: int | None = None
    latest_stage: str | None = None
    production_number: int | None = None

    @property
    def owner_ids(self) -> frozenset[int]:
        """Authors keep a model and its evidence."""
        return self.author_ids

    @property
    def value_owner(self) -> OwnedBy:
        """States the money value of errors: the business owner of the model's goal."""
        return OwnedBy(frozenset({self.goal_owner_id}))


@dataclass(frozen=True)
class ModelDraft:
    key: str
    name: str
    goal_id: int
    task: str
    description: str = ""
    kpi_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class FeatureMap:
    feature: str
    kind: str
    field_id: int | None
    field_key: str
    field_label: str
    personal_data: bool
    lawful_basis: str
    confirmed: bool
    confirmed_by_name: str = ""


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model_id: int
    model_name: str
    task: str
    number: int
    stage: str
    artifact_sha256: str
    framework: str
    estimator: str
    features: tuple[str, ...]
    target: str
    positive_label: str
    training_date: date | None
    training_reference: str
    intended_use: str
    limitations: str
    refresh_days: int | None
    evaluation: dict[str, Any]
    holdout_file: str
    profile_source: str
    evaluated_at: datetime | None
    created_by_id: int
    created_by_name: str
    created_at: datetime
    version: int
    author_ids: frozenset[int]
    feature_maps: tuple[FeatureMap, ...] = ()

    @property
    def owner_ids(self) -> frozenset[int]:
        return self.author_ids

    @property
    def label(self) -> str:
        return f"{self.model_name} v{self.number}"

    @property
    def unmapped(self) -> list[str]:
        return [m.feature for m in self.feature_maps if m.field_id is None or not m.confirmed]

    @property
    def personal(self) -> list[FeatureMap]:
        return [m for m in self.feature_maps if m.field_id is not None and m.personal_data]


@dataclass(frozen=True)
class VersionDocs:
    intended_use: str = ""
    limitations: str = ""
    refresh_days: int | None = None
    training_date: date | None = None
    training_reference: str = ""


@dataclass(frozen=True)
class StageEvent:
    version_number: int
    action: str
    from_stage: str
    to_stage: str
    rationale: str
    actor_name: str
    at: datetime


@dataclass(frozen=True)
class Deployment:
    version_id: int
    version_number: int
    scope: str
    started_at: datetime
    started_by_name: str
    ended_at: datetime | None
    ended_by_name: str

    def serving_at(self, moment: datetime) -> bool:
        return self.started_at <= moment and (self.ended_at is None or moment < self.ended_at)


# -- reading ---------------------------------------------------------------------------------------


def authors_of(session: Session, model_id: int) -> frozenset[int]:
    """The model's creator and everyone who created a version of it."""
    creator = session.scalar(select(ModelRow.created_by_id).where(ModelRow.id == model_id))
    versions = session.scalars(
        select(ModelVersionRow.created_by_id).where(ModelVersionRow.model_id == model_id).distinct()
    )
    return frozenset({*([creator] if creator is not None else []), *versions})


def _names(session: Session, ids: frozenset[int]) -> tuple[str, ...]:
    if not ids:
        return ()
    found = session.scalars(select(UserRow.display_name).where(UserRow.id.in_(ids)))
    return tuple(sorted(found))


def model_view(
    session: Session, row: ModelRow, summary: tuple[int, int | None, str | None, int | None]
) -> Model:
    authors = authors_of(session, row.id)
    links = sorted(link.kpi_id for link in row.kpi_links)
    kpi_names = tuple(session.scalars(select(KpiRow.name).where(KpiRow.id.in_(links)).order_by(KpiRow.name)))
    values = None
    if None not in (row.value_tp, row.value_fp, row.value_fn, row.value_tn):
        values = ErrorValues(row.value_tp, row.value_fp, row.value_fn, row.value_tn, row.value_currency)  # type: ignore[arg-type]
    setter = ""
    if row.value_set_by_id is not None:
        setter = next(iter(_names(session, frozenset({row.value_set_by_id}))), "")
    count, latest, stage, production = summary
    return Model(
        id=row.id,
        key=row.key,
        name=row.name,
        goal_id=row.goal_id,
        goal_title=row.goal.title,
        goal_owner_id=row.goal.owner_id,
        task=row.task,
        description=row.description,
        kpi_ids=tuple(links),
        kpi_names=kpi_names,
        created_by_id=row.created_by_id,
        created_by_name=row.created_by.display_name,
        created_at=row.created_at,
        author_ids=authors,
        author_names=_names(session, authors),
        error_values=values,
        value_note=row.value_note,
        value_set_by_name=setter,
        value_set_at=row.value_set_at,
        version=row.version,
        updated_at=row.updated_at,
        versions=count,
        latest_number=latest,
        latest_stage=stage,
        production_number=production,
    )


def version_summary(session: Session, model_id: int) -> tuple[int, int | None, str | None, int | None]:
    rows = session.execute(
        select(ModelVersionRow.number, ModelVersionRow.stage)
        .where(ModelVersionRow.model_id == model_id)
        .order_by(ModelVersionRow.number)
    ).all()
    production = next((n for n, s in rows if s == "production"), None)
    latest = rows[-1] if rows else (None, None)
    return len(rows), latest[0], latest[1], production


def _fields_by_id(session: Session, ids: list[int]) -> dict[int, DataFieldRow]:
    if not ids:
        return {}
    return {f.id: f for f in session.scalars(select(DataFieldRow).where(DataFieldRow.id.in_(ids)))}


def version_view(
    session: Session, row: ModelVersionRow, authors: frozenset[int] | None = None
) -> ModelVersion:
    fields = _fields_by_id(session, [m.field_id for m in row.feature_maps if m.field_id is not None])
    confirmers = {m.confirmed_by_id for m in row.feature_maps if m.confirmed_by_id is not None}
    names = dict(
        session.execute(select(UserRow.id, UserRow.display_name).where(UserRow.id.in_(confirmers))).all()
    )
    maps = []
    for m in row.feature_maps:
        found = fields.get(m.field_id) if m.field_id is not None else None
        maps.append(
            FeatureMap(
                feature=m.feature,
                kind=row.feature_kinds.get(m.feature, ""),
                field_id=m.field_id,
                field_key=found.key if found else "",
                field_label=found.label if found else "",
                personal_data=bool(found and found.personal_data),
                lawful_basis=found.lawful_basis if found else "",
                confirmed=m.confirmed_by_id is not None,
                confirmed_by_name=names.get(m.confirmed_by_id, "") if m.confirmed_by_id else "",
            )
        )
    return ModelVersion(
        id=row.id,
        model_id=row.model_id,
        model_name=row.model.name,
        task=row.model.task,
        number=row.number,
        stage=row.stage,
        artifact_sha256=row.artifact_sha256,
        framework=row.framework,
        estimator=row.estimator,
        features=tuple(row.features),
        target=row.target,
        positive_label=row.positive_label,
        training_date=row.training_date,
        training_reference=row.training_reference,
        intended_use=row.intended_use,
        limitations=row.limitations,
        refresh_days=row.refresh_days,
        evaluation=row.evaluation,
        holdout_file=row.holdout_file,
        profile_source=row.profile_source,
        evaluated_at=row.evaluated_at,
        created_by_id=row.created_by_id,
        created_by_name=row.created_by.display_name,
        created_at=row.created_at,
        version=row.version,
        author_ids=authors if authors is not None else authors_of(session, row.model_id),
        feature_maps=tuple(maps),
    )
