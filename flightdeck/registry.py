"""The model registry: models attached to goals, their versions and evidence, the mapping of
features to business fields, and the four-eyes lifecycle draft → in_review → approved → production
→ retired with its production history.

Authors of a model are the person who registered it and everyone who created a version of it. A
reviewer who is an author never approves or rejects that model's versions, whatever other roles
they hold. Every change is audited in its own transaction; evaluation runs before the write
transaction opens, so a long evaluation never holds the database's write lock.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import sklearn
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from flightdeck import artifacts, audit, evaluation, formats, ingest, readiness
from flightdeck.auth import User, authorize
from flightdeck.context import DataField, list_fields
from flightdeck.db import Database
from flightdeck.editing import check_version, flush_or_stale, save_edit, touch
from flightdeck.errors import InvalidInput, NotFound, PermissionDenied, Problem
from flightdeck.evaluation import ErrorValues
from flightdeck.orm import (
    DataFieldRow,
    DeploymentRow,
    FeatureMapRow,
    GoalRow,
    KpiRow,
    ModelKpiRow,
    ModelRow,
    ModelVersionRow,
    StageEventRow,
    UserRow,
    utcnow,
)
from flightdeck.orm.registry import TASKS

Progress = Callable[[float, str], None]
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_LIMITS = {"name": 120, "description": 4000}
DOC_LIMITS = {"intended_use": 4000, "limitations": 4000, "training_reference": 2000}
STAGE_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "production": "In production",
    "retired": "Retired",
}
TASK_LABELS = {"classification": "Classification (binary)", "regression": "Regression"}


class FourEyes(PermissionDenied):
    """A reviewer may not decide on a model they are an author of."""

    def __init__(self, actor: User, model_name: str, action: str, entity: str) -> None:
        super().__init__(actor.id, actor.display_name, action, entity)
        self.args = (
            f"Not permitted: {actor.display_name} is an author of {model_name}, so another reviewer "
            "must decide on its versions (four eyes).",
        )


# -- views ---------------------------------------------------------------------------------------


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
    def value_owner(self) -> _GoalOwner:
        """States the money value of errors: the business owner of the model's goal."""
        return _GoalOwner(frozenset({self.goal_owner_id}))


@dataclass(frozen=True)
class _GoalOwner:
    owner_ids: frozenset[int]


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
class Upload:
    name: str
    data: bytes


@dataclass(frozen=True)
class VersionUpload:
    """What a data scientist hands over for a new version; Flightdeck measures the rest."""

    artifact: Upload
    holdout: Upload
    target: str
    segment_column: str = ""
    reference: Upload | None = None
    fmt: formats.SourceFormat = field(default_factory=formats.SourceFormat)
    docs: VersionDocs = field(default_factory=VersionDocs)


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


def _model_view(
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


def _summary(session: Session, model_id: int) -> tuple[int, int | None, str | None, int | None]:
    rows = session.execute(
        select(ModelVersionRow.number, ModelVersionRow.stage)
        .where(ModelVersionRow.model_id == model_id)
        .order_by(ModelVersionRow.number)
    ).all()
    production = next((n for n, s in rows if s == "production"), None)
    latest = rows[-1] if rows else (None, None)
    return len(rows), latest[0], latest[1], production


def list_models(db: Database) -> list[Model]:
    with db.read() as session:
        rows = session.scalars(select(ModelRow).order_by(ModelRow.name))
        return [_model_view(session, r, _summary(session, r.id)) for r in rows]


def _model_row(session: Session, model_id: int) -> ModelRow:
    row = session.get(ModelRow, model_id)
    if row is None:
        raise NotFound("Model", model_id)
    return row


def get_model(db: Database, model_id: int) -> Model:
    with db.read() as session:
        return _model_view(session, _model_row(session, model_id), _summary(session, model_id))


def get_model_by_key(db: Database, key: str) -> Model:
    with db.read() as session:
        row = session.scalar(select(ModelRow).where(ModelRow.key == key.strip()))
        if row is None:
            raise NotFound("Model", key)
        return _model_view(session, row, _summary(session, row.id))


def _fields_by_id(session: Session, ids: list[int]) -> dict[int, DataFieldRow]:
    if not ids:
        return {}
    return {f.id: f for f in session.scalars(select(DataFieldRow).where(DataFieldRow.id.in_(ids)))}


def _version_view(
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


def list_versions(db: Database, model_id: int) -> list[ModelVersion]:
    """Newest first."""
    with db.read() as session:
        authors = authors_of(session, model_id)
        rows = session.scalars(
            select(ModelVersionRow)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(ModelVersionRow.number.desc())
        )
        return [_version_view(session, r, authors) for r in rows]


def _version_row(session: Session, version_id: int) -> ModelVersionRow:
    row = session.get(ModelVersionRow, version_id)
    if row is None:
        raise NotFound("Model version", version_id)
    return row


def get_version(db: Database, version_id: int) -> ModelVersion:
    with db.read() as session:
        return _version_view(session, _version_row(session, version_id))


def version_by_number(db: Database, model_id: int, number: int) -> ModelVersion:
    with db.read() as session:
        row = session.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model_id, ModelVersionRow.number == number
            )
        )
        if row is None:
            raise NotFound("Model version", f"v{number}")
        return _version_view(session, row)


def get_profile(db: Database, version_id: int) -> dict[str, Any]:
    """The training-data profile (kept out of the version view: it carries value samples)."""
    with db.read() as session:
        return _version_row(session, version_id).profile


def load_estimator(db: Database, version_id: int) -> Any:
    """The version's model, after its artifact's hash and types are checked again."""
    with db.read() as session:
        return artifacts.load_stored(session, _version_row(session, version_id).artifact_sha256)


# -- models ----------------------------------------------------------------------------------------


def _model_values(row: ModelRow) -> dict[str, object]:
    return {
        "key": row.key,
        "name": row.name,
        "goal_id": row.goal_id,
        "task": row.task,
        "description": row.description,
        "kpi_ids": sorted(link.kpi_id for link in row.kpi_links),
    }


def _clean_model(session: Session, draft: ModelDraft, model_id: int | None) -> ModelDraft:
    problems: list[Problem] = []
    key = draft.key.strip()
    text = {name: str(getattr(draft, name) or "").strip() for name in TEXT_LIMITS}
    if not KEY_PATTERN.match(key):
        message = "Key must be snake_case: a lower-case letter, then letters, digits or '_'."
        problems.append(Problem("key", message, value=key[:70]))
    else:
        taken = session.scalar(select(ModelRow.id).where(ModelRow.key == key))
        if taken is not None and taken != model_id:
            problems.append(Problem("key", f"Another model already has the key '{key}'.", value=key))
    if not text["name"]:
        problems.append(Problem("name", "Name is required."))
    for name, limit in TEXT_LIMITS.items():
        if len(text[name]) > limit:
            problems.append(Problem(name, f"{name.capitalize()} must be at most {limit} characters."))
    if draft.task not in TASKS:
        problems.append(Problem("task", f"Task must be one of: {', '.join(TASKS)}."))
    goal = session.get(GoalRow, draft.goal_id) if draft.goal_id else None
    if goal is None:
        problems.append(Problem("goal_id", "Choose the goal this model serves."))
    kpis = set(draft.kpi_ids)
    if kpis:
        found = session.execute(select(KpiRow.id, KpiRow.goal_id).where(KpiRow.id.in_(kpis))).all()
        if len(found) != len(kpis):
            problems.append(Problem("kpi_ids", "Some of the chosen KPIs no longer exist."))
        elif goal is not None and any(g != goal.id for _, g in found):
            problems.append(Problem("kpi_ids", "Choose KPIs of the model's goal."))
    if problems:
        raise InvalidInput(problems)
    return ModelDraft(key, text["name"], draft.goal_id, draft.task, text["description"], tuple(sorted(kpis)))


def _set_kpis(row: ModelRow, kpi_ids: tuple[int, ...]) -> None:
    row.kpi_links = [link for link in row.kpi_links if link.kpi_id in kpi_ids]
    present = {link.kpi_id for link in row.kpi_links}
    row.kpi_links.extend(ModelKpiRow(kpi_id=k) for k in kpi_ids if k not in present)


def create_model(db: Database, actor: User, draft: ModelDraft) -> Model:
    """A data scientist registers a model against a goal; they become its first author."""
    with db.transaction() as session:
        authorize(actor, "model.create", entity="model")
        clean = _clean_model(session, draft, None)
        row = ModelRow(
            key=clean.key,
            name=clean.name,
            goal_id=clean.goal_id,
            task=clean.task,
            description=clean.description,
            created_by_id=actor.id,
            updated_by_id=actor.id,
        )
        session.add(row)
        _set_kpis(row, clean.kpi_ids)
        session.flush()
        audit.record(
            session,
            by=actor,
            action="model.create",
            entity_type="model",
            entity_id=row.id,
            after=_model_values(row),
        )
        session.refresh(row)
        return _model_view(session, row, _summary(session, row.id))


def update_model(db: Database, actor: User, model_id: int, expected_version: int, draft: ModelDraft) -> Model:
    with db.transaction() as session:
        row = _model_row(session, model_id)
        authorize(
            actor, "model.edit", _model_view(session, row, (0, None, None, None)), entity=f"model {row.key}"
        )
        check_version(session, row, expected_version, "model")
        clean = _clean_model(session, draft, model_id)
        has_versions = session.scalar(select(func.count()).where(ModelVersionRow.model_id == model_id))
        if has_versions and clean.task != row.task:
            raise InvalidInput(Problem("task", "The task cannot change once the model has versions."))
        before = _model_values(row)
        row.key, row.name, row.goal_id, row.task, row.description = (
            clean.key,
            clean.name,
            clean.goal_id,
            clean.task,
            clean.description,
        )
        _set_kpis(row, clean.kpi_ids)
        save_edit(session, actor, row, "model", "model.update", "model", before, lambda: _model_values(row))
        readiness.refresh(session, readiness.versions_of(session, [row.id]), "Model details changed")
        session.refresh(row)
        return _model_view(session, row, _summary(session, row.id))


def set_error_values(
    db: Database, actor: User, model_id: int, expected_version: int, values: ErrorValues, note: str = ""
) -> Model:
    """The goal's business owner states what each kind of decision is worth, per decision."""
    with db.transaction() as session:
        row = _model_row(session, model_id)
        view = _model_view(session, row, (0, None, None, None))
        authorize(actor, "model.value", view.value_owner, entity=f"model {row.key}")
        check_version(session, row, expected_version, "model")
        if row.task != "classification":
            raise InvalidInput(Problem("task", "Values of decision errors apply to classification models."))
        amounts = {"tp": values.tp, "fp": values.fp, "fn": values.fn, "tn": values.tn}
        problems = [
            Problem(k, f"The value of a {k.upper()} must be a finite amount.")
            for k, v in amounts.items()
            if v is None or not np.isfinite(v) or abs(v) > 1e9
        ]
        if not re.fullmatch(r"[A-Z]{3}", values.currency):
            problems.append(Problem("currency", "Currency must be a three-letter ISO code, e.g. EUR."))
        if len(note) > 2000:
            problems.append(Problem("note", "The note must be at most 2000 characters."))
        if problems:
            raise InvalidInput(problems)
        before = {
            "values": [row.value_tp, row.value_fp, row.value_fn, row.value_tn],
            "currency": row.value_currency,
        }
        row.value_tp, row.value_fp, row.value_fn, row.value_tn = values.tp, values.fp, values.fn, values.tn
        row.value_currency, row.value_note = values.currency, note.strip()
        row.value_set_by_id, row.value_set_at = actor.id, utcnow()
        touch(row, actor.id)
        flush_or_stale(session, "model")
        audit.record(
            session,
            by=actor,
            action="model.error_values",
            entity_type="model",
            entity_id=row.id,
            before=before,
            after={"values": [values.tp, values.fp, values.fn, values.tn], "currency": values.currency},
        )
        session.refresh(row)
        return _model_view(session, row, _summary(session, row.id))


# -- versions --------------------------------------------------------------------------------------


def describe_estimator(model: Any) -> str:
    """`Pipeline(StandardScaler → LogisticRegression)` or the class name."""
    steps = getattr(model, "steps", None)
    if steps:
        return f"Pipeline({' → '.join(type(s).__name__ for _, s in steps)})"
    return type(model).__name__


def _check_task(model: Any, task: str) -> list[Any] | None:
    if task == "classification":
        classes = getattr(model, "classes_", None)
        if not hasattr(model, "predict_proba") or classes is None:
            name = describe_estimator(model)
            raise InvalidInput(
                Problem("artifact", f"A classification model needs predict_proba; {name} has none.")
            )
        return list(classes)
    if not hasattr(model, "predict"):
        raise InvalidInput(Problem("artifact", f"{describe_estimator(model)} has no predict method."))
    return None


def _declared_features(model: Any, columns: list[str], target: str, segment: str) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [c for c in columns if c not in {target, segment}]


def _accepts(model: Any, task: str, holdout: evaluation.Holdout, features: list[str]) -> None:
    """The model must take the declared features as the holdout gives them."""
    sample = holdout.inputs.iloc[: min(5, len(holdout.inputs))]
    try:
        x = evaluation.model_input(model, sample, features)
        (model.predict_proba if task == "classification" else model.predict)(x)
    except Exception as error:  # noqa: BLE001 - whatever the estimator raises is the answer
        raise InvalidInput(
            Problem(
                "holdout",
                f"The model does not accept the declared features ({', '.join(features)}) as the holdout "
                f"gives them: {str(error).splitlines()[0][:300]}",
            )
        ) from None
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != len(features):
        raise InvalidInput(
            Problem("holdout", f"The model expects {expected} features; the holdout gives {len(features)}.")
        )


def _clean_docs(docs: VersionDocs) -> VersionDocs:
    problems = [
        Problem(name, f"{name.replace('_', ' ').capitalize()} must be at most {limit} characters.")
        for name, limit in DOC_LIMITS.items()
        if len(getattr(docs, name) or "") > limit
    ]
    if docs.refresh_days is not None and not 1 <= docs.refresh_days <= 3650:
        problems.append(Problem("refresh_days", "Refresh cadence must be 1 to 3,650 days."))
    if docs.training_date is not None and docs.training_date > utcnow().date():
        problems.append(Problem("training_date", "The training date lies in the future."))
    if problems:
        raise InvalidInput(problems)
    return VersionDocs(
        docs.intended_use.strip(),
        docs.limitations.strip(),
        docs.refresh_days,
        docs.training_date,
        docs.training_reference.strip(),
    )


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def suggest_field(feature: str, fields: list[DataField]) -> DataField | None:
    """The dictionary field a feature most likely means, by its name: the same key, the same label,
    or a close spelling (difflib ratio ≥ 0.8). The data scientist confirms or changes it."""
    wanted = _normal(feature)
    by_key = {_normal(f.key): f for f in fields}
    by_label = {_normal(f.label): f for f in fields}
    if wanted in by_key:
        return by_key[wanted]
    if wanted in by_label:
        return by_label[wanted]
    close = difflib.get_close_matches(wanted, list(by_key), n=1, cutoff=0.8)
    return by_key[close[0]] if close else None


def _table(db: Database, upload: Upload, fmt: formats.SourceFormat) -> formats.Table:
    ingest.check_size(db, len(upload.data), upload.name)
    return formats.read_table(upload.data, upload.name, fmt.checked())


@dataclass(frozen=True)
class _Measured:
    inspection: artifacts.Inspection
    estimator: str
    classes: list[Any] | None
    features: list[str]
    kinds: dict[str, str]
    positive_label: str
    evaluation: dict[str, Any]
    profile: dict[str, Any]
    profile_source: str
    holdout_sha256: str


def _measure(db: Database, task: str, upload: VersionUpload, step: Progress, latency: bool) -> _Measured:
    """Everything Flightdeck computes about a new version, outside any write transaction."""
    step(0.05, f"Checking {upload.artifact.name}")
    inspection = artifacts.inspect(db, upload.artifact.data, upload.artifact.name)
    with db.read() as session:
        allowed = artifacts.trusted_names(session)
    model = artifacts.load_bytes(upload.artifact.data, inspection, allowed, upload.artifact.name)
    classes = _check_task(model, task)
    step(0.15, f"Reading the holdout {upload.holdout.name}")
    table = _table(db, upload.holdout, upload.fmt)
    target, segment = upload.target.strip(), upload.segment_column.strip()
    if not target:
        raise InvalidInput(Problem("target", "Name the holdout's target column."))
    if segment and segment == target:
        raise InvalidInput(Problem("segment_column", "The segment column must differ from the target."))
    features = _declared_features(model, table.columns, target, segment)
    if not features:
        raise InvalidInput(Problem("holdout", "The holdout has no feature columns besides the target."))
    parsed = evaluation.read_holdout(table, upload.fmt, task, features, target, segment, classes)
    _accepts(model, task, parsed.holdout, features)
    result = evaluation.evaluate(model, task, features, parsed.holdout, step, latency=latency)
    step(0.9, "Profiling the training data")
    source, profiled = "holdout", parsed.features
    if upload.reference is not None:
        reference = _table(db, upload.reference, upload.fmt)
        absent = [f for f in features if f not in reference.columns]
        if absent:
            raise InvalidInput(
                Problem(
                    "reference", f"The training-data sample lacks the feature column(s) {', '.join(absent)}."
                )
            )
        findings = ingest.Findings(reference.frame, reference.rows, [])
        profiled = evaluation.read_features(
            reference.frame, features, upload.fmt, findings, parsed.features.kinds
        )
        findings.reject_if_any()
        source = "reference"
    return _Measured(
        inspection=inspection,
        estimator=describe_estimator(model),
        classes=classes,
        features=features,
        kinds=parsed.features.kinds,
        positive_label=parsed.positive_label,
        evaluation=result,
        profile=evaluation.profile(profiled),
        profile_source=source,
        holdout_sha256=ingest.sha256(upload.holdout.data),
    )


def create_version(
    db: Database,
    actor: User,
    model_id: int,
    upload: VersionUpload,
    progress: Progress | None = None,
    *,
    latency: bool = True,
    now: datetime | None = None,
) -> ModelVersion:
    """Upload an artifact with its holdout: Flightdeck checks the file, loads it safely, checks the
    model takes the declared features, evaluates it, profiles the training data and suggests the
    business field of every feature. Any data scientist may add a version, and so becomes an author."""
    step = progress or (lambda _f, _m: None)
    with db.transaction() as session:
        authorize(actor, "model.version", entity=f"model {model_id}")
        task = _model_row(session, model_id).task
    docs = _clean_docs(upload.docs)
    measured = _measure(db, task, upload, step, latency)
    fields = list_fields(db)
    step(0.95, "Storing the version")
    with db.transaction() as session:
        authorize(actor, "model.version", entity=f"model {model_id}")
        model_row = _model_row(session, model_id)
        number = (
            session.scalar(
                select(func.max(ModelVersionRow.number)).where(ModelVersionRow.model_id == model_id)
            )
            or 0
        ) + 1
        digest = artifacts.store(
            session, upload.artifact.data, measured.inspection, upload.artifact.name, actor
        )
        moment = now or utcnow()
        row = ModelVersionRow(
            model_id=model_id,
            number=number,
            stage="draft",
            artifact_sha256=digest,
            framework=f"scikit-learn {sklearn.__version__}",
            estimator=measured.estimator,
            features=measured.features,
            feature_kinds=measured.kinds,
            target=upload.target.strip(),
            positive_label=measured.positive_label,
            training_date=docs.training_date,
            training_reference=docs.training_reference,
            intended_use=docs.intended_use,
            limitations=docs.limitations,
            refresh_days=docs.refresh_days,
            evaluation=measured.evaluation,
            holdout_file=upload.holdout.name[:255],
            holdout_sha256=measured.holdout_sha256,
            profile=measured.profile,
            profile_source=measured.profile_source,
            evaluated_at=moment,
            created_by_id=actor.id,
            created_at=moment,
            updated_at=moment,
            updated_by_id=actor.id,
        )
        for position, feature in enumerate(measured.features):
            suggestion = suggest_field(feature, fields)
            row.feature_maps.append(
                FeatureMapRow(
                    feature=feature, position=position, field_id=suggestion.id if suggestion else None
                )
            )
        session.add(row)
        session.flush()
        touch(model_row, actor.id)
        audit.record(
            session,
            by=actor,
            action="model.version_create",
            entity_type="model_version",
            entity_id=row.id,
            after={
                "model": model_row.key,
                "number": number,
                "artifact_sha256": digest,
                "file": upload.artifact.name,
                "holdout": upload.holdout.name,
                "holdout_sha256": measured.holdout_sha256,
                "metrics": measured.evaluation.get("metrics"),
            },
        )
        session.flush()
        _record_stage(session, actor, row, "create", "", "draft", "", moment)
        readiness.refresh(session, [row.id], "Version registered", moment)
        return _version_view(session, row)


def _editable_version(
    session: Session, actor: User, version_id: int, expected_version: int
) -> ModelVersionRow:
    row = _version_row(session, version_id)
    authorize(actor, "model.evidence", _version_view(session, row), entity=f"model version {version_id}")
    check_version(session, row, expected_version, "model version")
    return row


def update_docs(
    db: Database, actor: User, version_id: int, expected_version: int, docs: VersionDocs
) -> ModelVersion:
    """Intended use, limitations, refresh cadence and training references, written by an author.
    Frozen once the version leaves draft, so what a reviewer approved stays what they read."""
    with db.transaction() as session:
        row = _editable_version(session, actor, version_id, expected_version)
        _require_stage(row, ("draft",), "have its documentation changed")
        clean = _clean_docs(docs)
        before = {name: getattr(row, name) for name in vars(clean)}
        for name, value in vars(clean).items():
            setattr(row, name, value)
        save_edit(
            session,
            actor,
            row,
            "model version",
            "model.version_docs",
            "model_version",
            before,
            lambda: {name: getattr(row, name) for name in vars(clean)},
        )
        readiness.refresh(session, [row.id], "Documentation updated")
        session.refresh(row)
        return _version_view(session, row)


def confirm_features(
    db: Database,
    actor: User,
    version_id: int,
    expected_version: int,
    mapping: dict[str, int | None],
    now: datetime | None = None,
) -> ModelVersion:
    """The data scientist confirms (or changes) which business field each feature means; a feature
    left without a field stays plainly unmapped."""
    with db.transaction() as session:
        row = _editable_version(session, actor, version_id, expected_version)
        known = set(session.scalars(select(DataFieldRow.id)))
        unknown = sorted(f for f in mapping if f not in row.features)
        problems = [Problem("feature", f"'{f}' is not a feature of this version.", value=f) for f in unknown]
        problems += [
            Problem("field_id", f"The field chosen for '{f}' no longer exists.", value=f)
            for f, field_id in mapping.items()
            if field_id is not None and field_id not in known
        ]
        if problems:
            raise InvalidInput(problems)
        moment = now or utcnow()
        changed = {}
        for item in row.feature_maps:
            if item.feature not in mapping:
                continue
            chosen = mapping[item.feature]
            if chosen != item.field_id or item.confirmed_by_id is None:
                changed[item.feature] = chosen
            item.field_id = chosen
            item.confirmed_by_id = actor.id if chosen is not None else None
            item.confirmed_at = moment if chosen is not None else None
        touch(row, actor.id)
        flush_or_stale(session, "model version")
        audit.record(
            session,
            by=actor,
            action="model.features_map",
            entity_type="model_version",
            entity_id=row.id,
            after={"mapped": changed},
        )
        readiness.refresh(session, [row.id], "Features mapped", moment)
        session.refresh(row)
        return _version_view(session, row)


# -- lifecycle -------------------------------------------------------------------------------------


def _require_stage(row: ModelVersionRow, allowed: tuple[str, ...], verb: str) -> None:
    if row.stage not in allowed:
        wanted = " or ".join(STAGE_LABELS[s].lower() for s in allowed)
        raise InvalidInput(
            Problem(
                "stage",
                f"Only a version that is {wanted} can {verb}; v{row.number} is "
                f"{STAGE_LABELS[row.stage].lower()}.",
            )
        )


def _record_stage(
    session: Session,
    actor: User | None,
    row: ModelVersionRow,
    action: str,
    from_stage: str,
    to_stage: str,
    rationale: str,
    moment: datetime,
) -> None:
    session.add(
        StageEventRow(
            version_id=row.id,
            action=action,
            from_stage=from_stage,
            to_stage=to_stage,
            rationale=rationale,
            actor_id=actor.id if actor else None,
            actor_name=actor.display_name if actor else "command line",
            at=moment,
        )
    )


def _transition(
    session: Session,
    actor: User,
    row: ModelVersionRow,
    action: str,
    to_stage: str,
    rationale: str,
    moment: datetime,
    extra: dict[str, object] | None = None,
) -> None:
    """Change the stage, record the stage event and the audit event, in the caller's transaction."""
    before = row.stage
    row.stage = to_stage
    touch(row, actor.id)
    session.flush()
    _record_stage(session, actor, row, action, before, to_stage, rationale, moment)
    audit.record(
        session,
        by=actor,
        action=f"model.{action}",
        entity_type="model_version",
        entity_id=row.id,
        before={"stage": before},
        after={
            "stage": to_stage,
            "model": row.model.key,
            "number": row.number,
            "rationale": rationale,
            **(extra or {}),
        },
    )
    readiness.refresh(
        session, [row.id], f"Stage: {STAGE_LABELS[to_stage].lower()} ({action.replace('_', ' ')})", moment
    )


def _rationale(text: str, required: bool, what: str) -> str:
    clean = text.strip()
    if required and not clean:
        raise InvalidInput(Problem("rationale", f"Give the rationale for {what}: it goes on the record."))
    if len(clean) > 4000:
        raise InvalidInput(Problem("rationale", "The rationale must be at most 4000 characters."))
    return clean


def request_review(
    db: Database, actor: User, version_id: int, note: str = "", now: datetime | None = None
) -> ModelVersion:
    """An author asks for review of a draft that Flightdeck has evaluated."""
    with db.transaction() as session:
        row = _version_row(session, version_id)
        authorize(actor, "model.evidence", _version_view(session, row), entity=f"model version {version_id}")
        _require_stage(row, ("draft",), "go to review")
        if not row.evaluation:
            raise InvalidInput(
                Problem("stage", "Evaluate the version on a holdout before asking for review.")
            )
        _transition(
            session, actor, row, "request_review", "in_review", _rationale(note, False, ""), now or utcnow()
        )
        return _version_view(session, row)


def _decide(
    db: Database, actor: User, version_id: int, rationale: str, approve: bool, now: datetime | None
) -> ModelVersion:
    action = "approve" if approve else "reject"
    with db.transaction() as session:
        row = _version_row(session, version_id)
        entity = f"model version {version_id}"
        authorize(actor, "model.review", entity=entity)
        if actor.id in authors_of(session, row.model_id):
            raise FourEyes(actor, row.model.name, "model.review", entity)
        _require_stage(row, ("in_review",), f"be {'approved' if approve else 'rejected'}")
        reason = _rationale(rationale, True, "this decision")
        _transition(session, actor, row, action, "approved" if approve else "draft", reason, now or utcnow())
        return _version_view(session, row)


def approve(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """A reviewer who is not an author approves, with a rationale."""
    return _decide(db, actor, version_id, rationale, True, now)


def reject(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """A reviewer who is not an author sends the version back to draft, saying why."""
    return _decide(db, actor, version_id, rationale, False, now)


def _open_deployment(session: Session, model_id: int) -> DeploymentRow | None:
    return session.scalar(
        select(DeploymentRow).where(DeploymentRow.model_id == model_id, DeploymentRow.ended_at.is_(None))
    )


def production_gate(session: Session, row: ModelVersionRow, moment: datetime) -> None:
    """Checks a version must pass before it serves. The four-eyes approval is enforced by the stage
    (only approved versions are promoted); readiness must be Production-ready or overridden by a
    reviewer, else InvalidInput says what is missing."""
    readiness.gate(session, row, moment)


def _promote(
    session: Session,
    actor: User,
    row: ModelVersionRow,
    scope: str,
    rationale: str,
    action: str,
    moment: datetime,
) -> None:
    """Put `row` into production now, retiring whatever served before, and open its deployment. A
    rollback skips the readiness gate: returning to what served before must never wait."""
    if action != "rollback":
        production_gate(session, row, moment)
    current = _open_deployment(session, row.model_id)
    if current is not None:
        current.ended_at, current.ended_by_name = moment, actor.display_name
        previous = _version_row(session, current.version_id)
        if previous.id != row.id:
            _transition(session, actor, previous, "retire", "retired", f"Replaced by v{row.number}.", moment)
    session.add(
        DeploymentRow(
            model_id=row.model_id,
            version_id=row.id,
            scope=scope.strip()[:120],
            started_at=moment,
            started_by_name=actor.display_name,
        )
    )
    _transition(session, actor, row, action, "production", rationale, moment, {"scope": scope.strip()})


def promote(
    db: Database,
    actor: User,
    version_id: int,
    scope: str = "",
    rationale: str = "",
    now: datetime | None = None,
) -> ModelVersion:
    """Put an approved version into production (optionally in a scope, e.g. a pilot region); the
    version serving before is retired. Records who and when."""
    with db.transaction() as session:
        row = _version_row(session, version_id)
        authorize(actor, "model.deploy", _version_view(session, row), entity=f"model version {version_id}")
        _require_stage(row, ("approved",), "go to production")
        _promote(session, actor, row, scope, _rationale(rationale, False, ""), "promote", now or utcnow())
        return _version_view(session, row)


def rollback(
    db: Database, actor: User, model_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """Put the version that served before the current one back into production."""
    with db.transaction() as session:
        model = _model_row(session, model_id)
        current = _open_deployment(session, model_id)
        earlier = session.scalar(
            select(DeploymentRow)
            .where(
                DeploymentRow.model_id == model_id,
                DeploymentRow.ended_at.is_not(None),
                *([DeploymentRow.version_id != current.version_id] if current else []),
            )
            .order_by(DeploymentRow.ended_at.desc(), DeploymentRow.id.desc())
            .limit(1)
        )
        if current is None or earlier is None:
            raise InvalidInput(
                Problem("stage", f"{model.name} has no earlier production version to roll back to.")
            )
        row = _version_row(session, earlier.version_id)
        authorize(actor, "model.deploy", _version_view(session, row), entity=f"model {model.key}")
        reason = _rationale(rationale, True, "the rollback")
        _promote(session, actor, row, earlier.scope, reason, "rollback", now or utcnow())
        return _version_view(session, row)


def retire(
    db: Database, actor: User, version_id: int, rationale: str, now: datetime | None = None
) -> ModelVersion:
    """Take a version out of service (or out of the running, if approved but never promoted)."""
    moment = now or utcnow()
    with db.transaction() as session:
        row = _version_row(session, version_id)
        authorize(actor, "model.deploy", _version_view(session, row), entity=f"model version {version_id}")
        _require_stage(row, ("approved", "production"), "be retired")
        reason = _rationale(rationale, True, "retiring it")
        current = _open_deployment(session, row.model_id)
        if current is not None and current.version_id == row.id:
            current.ended_at, current.ended_by_name = moment, actor.display_name
        _transition(session, actor, row, "retire", "retired", reason, moment)
        return _version_view(session, row)


# -- history ---------------------------------------------------------------------------------------


def stage_history(db: Database, model_id: int) -> list[StageEvent]:
    """Every stage change of the model's versions, newest first."""
    with db.read() as session:
        rows = session.execute(
            select(StageEventRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == StageEventRow.version_id)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(StageEventRow.at.desc(), StageEventRow.id.desc())
        ).all()
        return [
            StageEvent(number, e.action, e.from_stage, e.to_stage, e.rationale, e.actor_name, e.at)
            for e, number in rows
        ]


def production_history(db: Database, model_id: int) -> list[Deployment]:
    """Who served in production when, oldest first."""
    with db.read() as session:
        rows = session.execute(
            select(DeploymentRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
            .where(DeploymentRow.model_id == model_id)
            .order_by(DeploymentRow.started_at, DeploymentRow.id)
        ).all()
        return [
            Deployment(
                d.version_id, number, d.scope, d.started_at, d.started_by_name, d.ended_at, d.ended_by_name
            )
            for d, number in rows
        ]


def end_of(day: date) -> datetime:
    """The last moment of a UTC day: "in production on D" means serving when D closed."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


def in_production_on(db: Database, model_id: int, when: date | datetime) -> Deployment | None:
    """Which version served at a moment (a date means the end of that UTC day)."""
    moment = when if isinstance(when, datetime) else end_of(when)
    with db.read() as session:
        found = session.execute(
            select(DeploymentRow, ModelVersionRow.number)
            .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
            .where(
                DeploymentRow.model_id == model_id,
                DeploymentRow.started_at <= moment,
                or_(DeploymentRow.ended_at.is_(None), DeploymentRow.ended_at > moment),
            )
            .order_by(DeploymentRow.started_at.desc())
            .limit(1)
        ).one_or_none()
        if found is None:
            return None
        d, number = found
        return Deployment(
            d.version_id, number, d.scope, d.started_at, d.started_by_name, d.ended_at, d.ended_by_name
        )


def pending_reviews(db: Database) -> list[ModelVersion]:
    """Versions waiting for a reviewer's decision, oldest request first."""
    with db.read() as session:
        rows = session.scalars(
            select(ModelVersionRow)
            .where(ModelVersionRow.stage == "in_review")
            .order_by(ModelVersionRow.updated_at)
        )
        return [_version_view(session, r) for r in rows]
