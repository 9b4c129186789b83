"""Model artifacts, safely: skops files only, trusted types checked, stored by sha256 in the database.

A pickle or joblib file runs arbitrary code when it is loaded, so an upload is never unpickled:
files are accepted by content (a zip archive whose `schema.json` skops can read), and anything
else is refused before a byte of it is interpreted. skops then lists the types the file would
create; any type beyond skops' defaults and the admin's allow-list refuses the file by name.
Artifacts live in the database, keyed by their sha256, so every app process sharing PostgreSQL
reads the same bytes; the hash is recomputed on every load, so a corrupted artifact never runs.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import skops.io as sio
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flightdeck.core import audit
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.errors import FlightdeckError, InvalidInput, NotFound, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.orm import ArtifactRow, ModelRow, ModelVersionRow, TrustedTypeRow
from flightdeck.tabular import uploads

MAX_ARTIFACT_ENV = "FLIGHTDECK_MAX_ARTIFACT_MB"
DEFAULT_MAX_ARTIFACT_MB = 50
ZIP_MAGIC = b"PK\x03\x04"


# First bytes of pickles (protocol 2+) and of joblib's compressed containers.
PICKLE_LIKE = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"\x78\x01", b"\x78\x5e", b"\x78\x9c",
               b"\x78\xda", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x04\x22\x4d\x18")  # fmt: skip


PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".p")
TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


CONVERT_HINT = (
    "Convert it where it was trained, with the same library versions:\n"
    "    import joblib, skops.io\n"
    "    model = joblib.load('model.joblib')   # only a file you made yourself\n"
    "    skops.io.dump(model, 'model.skops')\n"
    "and upload the .skops file."
)


class ArtifactCorrupted(FlightdeckError):
    """The stored bytes no longer match the sha256 recorded when they were uploaded."""

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"The artifact failed its integrity check: its sha256 is {actual[:12]}…, but "
            f"{expected[:12]}… was recorded at upload. It was not loaded. Upload the model file again "
            "as a new version."
        )


def max_artifact_bytes(db: Database) -> int:
    """`FLIGHTDECK_MAX_ARTIFACT_MB`, else `[registry] max_artifact_mb` in the secrets file, else 50 MB."""
    configured = os.environ.get(MAX_ARTIFACT_ENV) or db.settings.secrets.get("registry", {}).get(
        "max_artifact_mb"
    )
    return int(float(configured or DEFAULT_MAX_ARTIFACT_MB) * 1024 * 1024)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(Problem("artifact", message))


def _looks_pickled(data: bytes, file_name: str) -> bool:
    return data.startswith(PICKLE_LIKE) or file_name.lower().endswith(PICKLE_SUFFIXES)


@dataclass(frozen=True)
class Inspection:
    """What an upload holds, found without building any object from it."""

    sha256: str
    size: int
    untrusted: tuple[str, ...]  # types beyond skops' defaults that the file would create


def inspect(db: Database, data: bytes, file_name: str) -> Inspection:
    """Check size and content and list the types the file would create; never deserialises."""
    cap = max_artifact_bytes(db)
    if len(data) > cap:
        raise _refuse(
            f"'{file_name}' is {len(data) / 1024 / 1024:.1f} MB; model files are limited to "
            f"{cap / 1024 / 1024:.0f} MB (an admin can raise {MAX_ARTIFACT_ENV})."
        )
    if not data:
        raise _refuse(f"'{file_name}' is empty.")
    if not data.startswith(ZIP_MAGIC):
        if _looks_pickled(data, file_name):
            raise _refuse(
                f"'{file_name}' is a pickle or joblib file. Flightdeck never loads those: loading one "
                f"can run any code hidden in it. {CONVERT_HINT}"
            )
        raise _refuse(f"'{file_name}' is not a skops file (`skops.io.dump`). {CONVERT_HINT}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "schema.json" not in archive.namelist():
                raise _refuse(f"'{file_name}' is a zip archive but not a skops file (no schema.json).")
        untrusted = sio.get_untrusted_types(data=data)
    except InvalidInput:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged archive fails in many ways
        raise _refuse(f"'{file_name}' cannot be read as a skops file: {str(error)[:200]}") from None
    return Inspection(uploads.sha256(data), len(data), tuple(sorted(untrusted)))


def trusted_names(session: Session) -> set[str]:
    return set(session.scalars(select(TrustedTypeRow.type_name)))


def check_trusted(inspection: Inspection, allowed: set[str], file_name: str) -> None:
    refused = [t for t in inspection.untrusted if t not in allowed]
    if refused:
        raise _refuse(
            f"'{file_name}' contains types that are not trusted: {', '.join(refused)}. Flightdeck "
            "loads scikit-learn's own types and those an admin has allow-listed (Admin → Artifact "
            "allow-list). Ask an admin to review these types, or save the model without them."
        )


def load_bytes(data: bytes, inspection: Inspection, allowed: set[str], file_name: str) -> Any:
    """The estimator, built only from default and allow-listed types."""
    check_trusted(inspection, allowed, file_name)
    try:
        return sio.loads(data, trusted=list(inspection.untrusted))
    except Exception as error:  # noqa: BLE001 - skops and sklearn raise many kinds on bad content
        raise _refuse(f"'{file_name}' could not be loaded: {str(error)[:300]}") from None


def store(session: Session, data: bytes, inspection: Inspection, file_name: str, actor: User | None) -> str:
    """Keep the bytes once per sha256 (a re-upload of the same file shares the stored artifact)."""
    if session.get(ArtifactRow, inspection.sha256) is None:
        session.add(
            ArtifactRow(
                sha256=inspection.sha256,
                content=data,
                size_bytes=inspection.size,
                file_name=file_name[:255],
                uploaded_by_id=actor.id if actor else None,
            )
        )
        session.flush()
    return inspection.sha256


def load_stored(session: Session, digest: str) -> Any:
    """Load an artifact from the database: hash checked first, then the trusted types again
    (an admin may have withdrawn one since the upload)."""
    row = session.get(ArtifactRow, digest)
    if row is None:
        raise NotFound("Artifact", digest[:12])
    data = bytes(row.content)
    actual = uploads.sha256(data)
    if actual != digest:
        raise ArtifactCorrupted(digest, actual)
    inspection = Inspection(digest, len(data), tuple(sorted(sio.get_untrusted_types(data=data))))
    return load_bytes(data, inspection, trusted_names(session), row.file_name or digest[:12])


def load_estimator(db: Database, version_id: int) -> Any:
    """A version's model, after its artifact's hash and types are checked again."""
    with db.read() as session:
        version = get_or_raise(session, ModelVersionRow, version_id, "Model version")
        return load_stored(session, version.artifact_sha256)


def verify(db: Database, digest: str) -> bool:
    """Whether the stored bytes still hash to `digest`."""
    with db.read() as session:
        row = session.get(ArtifactRow, digest)
        return row is not None and uploads.sha256(bytes(row.content)) == digest


# -- the admin's allow-list -------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedType:
    id: int
    type_name: str
    reason: str
    added_by_name: str
    added_at: datetime


def list_trusted_types(db: Database) -> list[TrustedType]:
    with db.read() as session:
        rows = session.scalars(select(TrustedTypeRow).order_by(TrustedTypeRow.type_name))
        return [
            TrustedType(
                r.id, r.type_name, r.reason, r.added_by.display_name if r.added_by else "", r.added_at
            )
            for r in rows
        ]


def add_trusted_type(db: Database, actor: User, type_name: str, reason: str) -> TrustedType:
    """Allow one fully qualified type in artifacts. The reason is required: it is the review."""
    with db.transaction() as session:
        authorize(actor, "artifact.allowlist", entity="artifact allow-list")
        name, why = type_name.strip(), reason.strip()
        problems = []
        if not TYPE_NAME.match(name) or len(name) > 255:
            problems.append(
                Problem(
                    "type_name",
                    "Give the fully qualified type name as skops reports it, e.g. "
                    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor.",
                    value=name[:80],
                )
            )
        if not why:
            problems.append(Problem("reason", "Say why this type is safe to load: the reason is the review."))
        if len(why) > 2000:
            problems.append(Problem("reason", "The reason must be at most 2000 characters."))
        if problems:
            raise InvalidInput(problems)
        if session.scalar(select(TrustedTypeRow.id).where(TrustedTypeRow.type_name == name)):
            raise InvalidInput(Problem("type_name", f"{name} is already on the allow-list."))
        row = TrustedTypeRow(type_name=name, reason=why, added_by_id=actor.id)
        session.add(row)
        session.flush()
        audit.record(
            session,
            by=actor,
            action="artifact.allow_type",
            entity_type="trusted_type",
            entity_id=row.id,
            after={"type_name": name, "reason": why},
        )
        return TrustedType(row.id, name, why, actor.display_name, row.added_at)


def remove_trusted_type(db: Database, actor: User, type_id: int) -> None:
    """Withdraw a type: artifacts that need it no longer load until it is allowed again."""
    with db.transaction() as session:
        authorize(actor, "artifact.allowlist", entity="artifact allow-list")
        row = get_or_raise(session, TrustedTypeRow, type_id, "Trusted type")
        before = {"type_name": row.type_name, "reason": row.reason}
        session.delete(row)
        audit.record(
            session,
            by=actor,
            action="artifact.withdraw_type",
            entity_type="trusted_type",
            entity_id=type_id,
            before=before,
        )


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    file_name: str
    size_bytes: int
    uploaded_at: datetime
    used_by: tuple[str, ...]  # "Model name v2"


def list_artifacts(db: Database) -> list[StoredArtifact]:
    """Every stored artifact with the versions that use it (sizes from the row, not the bytes)."""
    with db.read() as session:
        rows = session.execute(
            select(
                ArtifactRow.sha256, ArtifactRow.file_name, ArtifactRow.size_bytes, ArtifactRow.uploaded_at
            ).order_by(ArtifactRow.uploaded_at.desc())
        ).all()
        users = session.execute(
            select(ModelVersionRow.artifact_sha256, ModelRow.name, ModelVersionRow.number)
            .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
            .order_by(ModelRow.name, ModelVersionRow.number)
        ).all()
    by_sha: dict[str, list[str]] = {}
    for digest, name, number in users:
        by_sha.setdefault(digest, []).append(f"{name} v{number}")
    return [StoredArtifact(d, f, s, at, tuple(by_sha.get(d, []))) for d, f, s, at in rows]


def total_bytes(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.coalesce(func.sum(ArtifactRow.size_bytes), 0))) or 0)
