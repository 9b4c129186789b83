import multiprocessing
import threading
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from flightdeck import bootstrap
from flightdeck.accounts import passwords
from flightdeck.core.db import Database
from flightdeck.demo import story
from flightdeck.orm import Base, GoalRow, UserRow, WorkspaceMetaRow
from tests.conftest import PG_URL, settings_for


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(settings_for(f"sqlite:///{tmp_path / 'p.db'}", tmp_path))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    db.dispose()


def test_migrations_build_exactly_the_declared_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert db.is_current()


def test_migrations_downgrade_to_nothing_and_back(db: Database) -> None:
    db.downgrade("base")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    assert db.current_revision() is None
    db.upgrade()
    assert db.is_current()


def test_a_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    from tests.factories import add_user

    owner = add_user(db, "olivia")
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(GoalRow(title="half-written", owner_id=owner.id, updated_by_id=owner.id))
        session.flush()
        raise RuntimeError("boom")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(GoalRow)) == 0


def test_concurrent_writers_queue_instead_of_failing(db: Database) -> None:
    """Read-modify-write from several threads: every increment lands, none hits 'database is locked'."""
    with db.transaction() as session:
        session.add(WorkspaceMetaRow(key="counter", value="0"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with db.transaction() as session:
                    row = session.get_one(WorkspaceMetaRow, "counter", with_for_update=True)
                    row.value = str(int(row.value) + 1)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read() as session:
        assert session.get_one(WorkspaceMetaRow, "counter").value == "40"


def _start(url: str, data_dir: str, barrier: "multiprocessing.synchronize.Barrier") -> None:
    from argon2 import PasswordHasher, profiles

    passwords.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    barrier.wait()
    bootstrap.prepare(settings_for(url, Path(data_dir))).dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_two_processes_starting_together_migrate_and_seed_once(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        cleanup = None
    else:
        request.getfixturevalue("pg_url")  # skips or fails as the PostgreSQL policy says
        schema = f"fd_start_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
        )
        cleanup = (admin, schema)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    starters = [context.Process(target=_start, args=(url, str(tmp_path), barrier)) for _ in range(2)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(timeout=120)
    try:
        assert [p.exitcode for p in starters] == [0, 0]
        db = Database(settings_for(url, tmp_path))
        assert db.is_current()
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(UserRow)) == len(story.DEMO_USERS)
            assert session.scalar(select(func.count()).select_from(GoalRow)) == len(story.DEMO_GOALS)
        db.dispose()
    finally:
        if cleanup:
            admin, schema = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
