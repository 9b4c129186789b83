"""Attestations: readiness checks a person asserts, with a note and an optional link, by a role
the rubric names (data scientists and business owners on their own models, reviewers and admins on
any). An attestation belongs to its version; attesting again replaces it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core import audit
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, NotFound, PermissionDenied, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.core.roles import Role
from flightdeck.orm import AttestationRow
from flightdeck.readiness.evidence import Evidence, gather
from flightdeck.readiness.rubric import (
    CHECKS_BY_ID,
    Check,
)
from flightdeck.readiness.scoring import Readiness, assess_many
from flightdeck.readiness.snapshots import refresh

NOTE_LIMIT = 2000
LINK_PATTERN = re.compile(r"^https?://\S{1,490}$")
ANYWHERE = frozenset({Role.REVIEWER, Role.ADMIN})  # attest any model; others only their own


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
