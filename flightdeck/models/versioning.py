"""New versions of a model and their evidence: the artifact checked and loaded safely, evaluated
by Flightdeck on the holdout (outside any write transaction, so a long evaluation never holds the
write lock), the training data profiled, each feature's business field suggested and then
confirmed, documentation edited. Each step announces `VersionChanged`."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sklearn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.business.dictionary import DataField, list_fields
from flightdeck.core import audit, events
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.editing import check_version, flush_or_stale, save_edit, touch
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.models import artifacts, evaluation
from flightdeck.models.events import VersionChanged
from flightdeck.models.lifecycle import record_stage, require_stage
from flightdeck.models.records import ModelVersion, VersionDocs, version_view
from flightdeck.models.registry import model_row, version_row
from flightdeck.orm import DataFieldRow, FeatureMapRow, ModelVersionRow
from flightdeck.tabular import files, formats, uploads
from flightdeck.tabular.findings import Findings
from flightdeck.tabular.progress import Progress, silent

DOC_LIMITS = {"intended_use": 4000, "limitations": 4000, "training_reference": 2000}


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


def _table(db: Database, upload: Upload, fmt: formats.SourceFormat) -> files.Table:
    uploads.check_size(db, len(upload.data), upload.name)
    return files.read_table(upload.data, upload.name, fmt.checked())


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
        findings = Findings(reference.frame, reference.rows, [])
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
        holdout_sha256=uploads.sha256(upload.holdout.data),
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
    step = progress or silent
    with db.transaction() as session:
        authorize(actor, "model.version", entity=f"model {model_id}")
        task = model_row(session, model_id).task
    docs = _clean_docs(upload.docs)
    measured = _measure(db, task, upload, step, latency)
    fields = list_fields(db)
    step(0.95, "Storing the version")
    with db.transaction() as session:
        authorize(actor, "model.version", entity=f"model {model_id}")
        model = model_row(session, model_id)
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
        touch(model, actor.id)
        audit.record(
            session,
            by=actor,
            action="model.version_create",
            entity_type="model_version",
            entity_id=row.id,
            after={
                "model": model.key,
                "number": number,
                "artifact_sha256": digest,
                "file": upload.artifact.name,
                "holdout": upload.holdout.name,
                "holdout_sha256": measured.holdout_sha256,
                "metrics": measured.evaluation.get("metrics"),
            },
        )
        session.flush()
        record_stage(session, actor, row, "create", "", "draft", "", moment)
        events.publish(session, VersionChanged(row.id, "Version registered", moment))
        return version_view(session, row)


def _editable_version(
    session: Session, actor: User, version_id: int, expected_version: int
) -> ModelVersionRow:
    row = version_row(session, version_id)
    authorize(actor, "model.evidence", version_view(session, row), entity=f"model version {version_id}")
    check_version(session, row, expected_version, "model version")
    return row


def update_docs(
    db: Database, actor: User, version_id: int, expected_version: int, docs: VersionDocs
) -> ModelVersion:
    """Intended use, limitations, refresh cadence and training references, written by an author.
    Frozen once the version leaves draft, so what a reviewer approved stays what they read."""
    with db.transaction() as session:
        row = _editable_version(session, actor, version_id, expected_version)
        require_stage(row, ("draft",), "have its documentation changed")
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
        events.publish(session, VersionChanged(row.id, "Documentation updated"))
        session.refresh(row)
        return version_view(session, row)


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
        events.publish(session, VersionChanged(row.id, "Features mapped", moment))
        session.refresh(row)
        return version_view(session, row)
