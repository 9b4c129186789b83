"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, and cheap hashing.

PostgreSQL comes from FLIGHTDECK_TEST_PG_URL (default: the local trust-auth server, database
`test`). Each test session works in a schema of its own, dropped at the end, so nothing else in
that database is touched. Without a reachable server the PostgreSQL half is skipped locally and
fails under CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flightdeck import wiring
from flightdeck.accounts import passwords
from flightdeck.core.config import Settings
from flightdeck.core.db import Database
from flightdeck.orm import Base

PG_URL = os.environ.get("FLIGHTDECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
GENESIS = "0" * 64


@pytest.fixture(autouse=True, scope="session")
def wired() -> None:
    """The event subscribers and the production gate, as the app and the command line wire them."""
    wiring.wire()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its cheapest: the tests exercise the logic, not the cost parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(autouse=True, scope="session")
def scratch_default_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Anything that falls back to the default data folder during the tests (a page run that
    outlives its test, say) writes into a scratch folder, never into the checkout's `data/`, where
    a developer's own workspace lives. Tests that need a folder still set their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLIGHTDECK_DATA_DIR", str(tmp_path_factory.mktemp("default-data")))
        yield


def settings_for(url: str, data_dir: Path, **overrides: object) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated schema for this test session; its URL pins the search_path to it."""
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    schema = f"fd_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    db = Database(settings_for(rendered, Path("/nonexistent")))
    db.upgrade()
    db.dispose()
    yield rendered
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; every test gets a copy, which is far faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "flightdeck.db"
    db = Database(settings_for(f"sqlite:///{path}", path.parent))
    db.upgrade()
    db.dispose()
    return path


def _empty_postgres(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "audit_head")
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE audit_head SET last_event_id = 0, last_hash = :g"), {"g": GENESIS})


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated workspace database; the test runs once per dialect."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "flightdeck.db"
        shutil.copy(template, path)
        database = Database(settings_for(f"sqlite:///{path}", tmp_path))
    else:
        database = Database(settings_for(request.getfixturevalue("pg_url"), tmp_path))
        _empty_postgres(database)
    yield database
    database.dispose()


# -- CI must not pass with its browser tests silently skipped ----------------------------------

_skipped_e2e: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "tests/e2e/" in report.nodeid.replace(os.sep, "/"):
        _skipped_e2e.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped_e2e:
        session.config.get_terminal_writer().line(
            f"CI=true but {len(_skipped_e2e)} end-to-end tests were skipped, e.g. {_skipped_e2e[0]}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
