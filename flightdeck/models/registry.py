"""The model registry: models attached to a goal and the KPIs they should move, their versions read
back, and the money value of decision errors that the goal's business owner states. A model edit
announces `ModelChanged`."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.core import audit, events
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, flush_or_stale, save_edit, save_new, touch
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.keys import KEY_PATTERN
from flightdeck.core.permissions import User, authorize
from flightdeck.models.evaluation import ErrorValues
from flightdeck.models.events import ModelChanged
from flightdeck.models.records import (
    Model,
    ModelDraft,
    ModelVersion,
    authors_of,
    model_view,
    version_summary,
    version_view,
)
from flightdeck.orm import (
    DataFieldRow,
    DeploymentRow,
    GoalRow,
    KpiRow,
    ModelKpiRow,
    ModelRow,
    ModelVersionRow,
    UserRow,
)
from flightdeck.orm.registry import TASKS

TEXT_LIMITS = {"name": 120, "description": 4000}
# Tables whose newest edit can change what a registry view shows.
STAMPED = (ModelRow, ModelVersionRow, GoalRow, KpiRow, DataFieldRow, UserRow)


def list_models(db: Database) -> list[Model]:
    with db.read() as session:
        rows = session.scalars(select(ModelRow).order_by(ModelRow.name))
        return [model_view(session, r, version_summary(session, r.id)) for r in rows]


def model_row(session: Session, model_id: int) -> ModelRow:
    return get_or_raise(session, ModelRow, model_id, "Model")


def get_model(db: Database, model_id: int) -> Model:
    with db.read() as session:
        return model_view(session, model_row(session, model_id), version_summary(session, model_id))


def get_model_by_key(db: Database, key: str) -> Model:
    with db.read() as session:
        row = session.scalar(select(ModelRow).where(ModelRow.key == key.strip()))
        if row is None:
            raise NotFound("Model", key)
        return model_view(session, row, version_summary(session, row.id))


def list_versions(db: Database, model_id: int) -> list[ModelVersion]:
    """Newest first."""
    with db.read() as session:
        authors = authors_of(session, model_id)
        rows = session.scalars(
            select(ModelVersionRow)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(ModelVersionRow.number.desc())
        )
        return [version_view(session, r, authors) for r in rows]


def version_row(session: Session, version_id: int) -> ModelVersionRow:
    return get_or_raise(session, ModelVersionRow, version_id, "Model version")


def get_version(db: Database, version_id: int) -> ModelVersion:
    with db.read() as session:
        return version_view(session, version_row(session, version_id))


def version_by_number(db: Database, model_id: int, number: int) -> ModelVersion:
    with db.read() as session:
        row = session.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model_id, ModelVersionRow.number == number
            )
        )
        if row is None:
            raise NotFound("Model version", f"v{number}")
        return version_view(session, row)


def get_profile(db: Database, version_id: int) -> dict[str, Any]:
    """The training-data profile (kept out of the version view: it carries value samples)."""
    with db.read() as session:
        return version_row(session, version_id).profile


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
        _set_kpis(row, clean.kpi_ids)
        save_new(session, actor, row, "model.create", "model", lambda: _model_values(row))
        return model_view(session, row, version_summary(session, row.id))


def update_model(db: Database, actor: User, model_id: int, expected_version: int, draft: ModelDraft) -> Model:
    with db.transaction() as session:
        row = model_row(session, model_id)
        authorize(
            actor, "model.edit", model_view(session, row, (0, None, None, None)), entity=f"model {row.key}"
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
        events.publish(session, ModelChanged(row.id))
        session.refresh(row)
        return model_view(session, row, version_summary(session, row.id))


def set_error_values(
    db: Database, actor: User, model_id: int, expected_version: int, values: ErrorValues, note: str = ""
) -> Model:
    """The goal's business owner states what each kind of decision is worth, per decision."""
    with db.transaction() as session:
        row = model_row(session, model_id)
        view = model_view(session, row, (0, None, None, None))
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
        return model_view(session, row, version_summary(session, row.id))


Stamp = tuple[str, ...]


def data_stamp(db: Database) -> Stamp:
    """Changes whenever something a registry view shows changes, in any process: a model, a version
    or its stage (each bumps `updated_at`), a deployment, or the name of a goal, KPI, dictionary
    field or person it shows. A cache key: one round trip of indexed lookups and small maxima."""
    newest = [select(func.max(t.updated_at)).scalar_subquery() for t in STAMPED]
    with db.read() as session:
        found = session.execute(
            select(
                *newest,
                select(func.count(ModelVersionRow.id)).scalar_subquery(),
                select(func.max(DeploymentRow.id)).scalar_subquery(),
            )
        ).one()
    return tuple(str(value) for value in found)
