"""Fixtures more than one unit test module needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from tests.conftest import settings_for
from tests.factories import add_user


@pytest.fixture
def team(db: Database) -> dict:
    """One account per role, and kenji both data scientist and reviewer (the four-eyes cases)."""
    return {
        "dana": add_user(db, "dana", Role.DATA_SCIENTIST),
        "kenji": add_user(db, "kenji", Role.DATA_SCIENTIST, Role.REVIEWER),
        "rita": add_user(db, "rita", Role.REVIEWER),
        "bianca": add_user(db, "bianca", Role.BUSINESS_OWNER),
        "ada": add_user(db, "ada", Role.ADMIN),
        "victor": add_user(db, "victor", Role.VIEWER),
    }


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A migrated SQLite database that the command line, run in-process, opens from the environment."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FLIGHTDECK_DATA_DIR", str(tmp_path))
    db = Database(settings_for(url, tmp_path))
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()
