"""Workspace-wide facts kept in the database, such as whether this is the demo workspace."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.core.db import Database
from flightdeck.orm import WorkspaceMetaRow

DEMO_KEY = "demo_seeded_at"


def get_meta(db: Database, key: str) -> str | None:
    with db.read() as session:
        return session.scalar(select(WorkspaceMetaRow.value).where(WorkspaceMetaRow.key == key))


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(WorkspaceMetaRow, key)
    if row is None:
        session.add(WorkspaceMetaRow(key=key, value=value))
    else:
        row.value = value


def is_demo(db: Database) -> bool:
    """The demo logins are listed only while the workspace is the demo and demo mode is on."""
    return db.settings.demo and get_meta(db, DEMO_KEY) is not None
