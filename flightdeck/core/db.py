"""Engine, sessions, the `transaction()` scope and the migration runner.

Write transactions on SQLite start with `BEGIN IMMEDIATE`: a deferred transaction that reads and
then writes fails at once with "database is locked" when another writer got in first, whereas an
immediate one waits its turn (busy_timeout). Reads stay deferred so they never queue behind writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from flightdeck.core import audit
from flightdeck.core.config import PROJECT_ROOT, Settings
from flightdeck.core.errors import NotFound, PermissionDenied

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=15000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


AFTER_COMMIT = "after_commit"
Row = TypeVar("Row")
# Any constant works; it only has to be the same in every process sharing the database.
PG_STARTUP_LOCK = 0x666C6468  # "fldh"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("flightdeck_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def after_commit(session: Session, key: str, action: Callable[[], None]) -> None:
    """Run `action` once this transaction has committed, and never if it rolls back: for work that
    must not hold the transaction open, such as a webhook delivery. One action per key."""
    session.info.setdefault(AFTER_COMMIT, {})[key] = action


def get_or_raise(session: Session, row_type: type[Row], key: object, entity: str) -> Row:
    """The row with this primary key; `NotFound` naming the entity (for its user) when there is none."""
    row = session.get(row_type, key)
    if row is None:
        raise NotFound(entity, key)
    return row


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


class Database:
    """One per process: owns the engine and hands out short-lived sessions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False})
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(flightdeck_write=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """All-or-nothing unit of work. A refused authorisation rolls everything back and is then
        recorded in a transaction of its own, so the refusal survives the rollback."""
        session = self._writer()
        session.info["database"] = self  # for services that need settings deep in a transaction
        try:
            yield session
            session.commit()
            for action in session.info.pop(AFTER_COMMIT, {}).values():
                action()
        except PermissionDenied as refusal:
            session.rollback()
            session.close()
            self.record_refusal(refusal)
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            yield session
        finally:
            session.close()

    def record_refusal(self, refusal: PermissionDenied) -> None:
        with self.transaction() as session:
            audit.record(
                session,
                actor_id=refusal.actor_id,
                actor_name=refusal.actor_name,
                action="permission.denied",
                entity_type="permission",
                entity_id=refusal.action,
                after={"action": refusal.action, "entity": refusal.entity},
            )

    # -- schema -------------------------------------------------------------------------------

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Serialises migration and first-run seeding between processes starting together."""
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_STARTUP_LOCK})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_STARTUP_LOCK})
                    conn.commit()
        else:
            database = make_url(self.settings.database_url).database or "memory"
            with FileLock(f"{database}.lock", timeout=120):
                yield

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        return self.current_revision() == head

    def upgrade(self, revision: str = "head") -> None:
        with self.engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)

    def downgrade(self, revision: str = "base") -> None:
        with self.engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)

    def dispose(self) -> None:
        self.engine.dispose()
