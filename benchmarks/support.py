"""What the scale benchmarks share: a scratch database on either dialect, throwaway accounts, the
app's script-run timing with AppTest and the closing `target` lines, so that every benchmark
builds, times and reports the same way."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from argon2 import PasswordHasher, profiles
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from flightdeck import wiring
from flightdeck.accounts import passwords, sessions
from flightdeck.accounts.users import AccountDraft, create_user
from flightdeck.core import permissions
from flightdeck.core.config import PROJECT_ROOT, Settings
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.kpis import storage, validation
from flightdeck.orm import IngestBatchRow, KpiRow

PG_URL = os.environ.get("FLIGHTDECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "a long benchmark password"  # noqa: S105 - throwaway accounts in a temp database
RUNS = 5

Target = tuple[str, str, bool]
"""A target's name, the measured figure with its goal, and whether the goal was met."""


def cheap_sign_ins() -> None:
    """Sign-ins are not what is measured; the cheapest hash keeps building accounts quick."""
    passwords.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


@contextmanager
def database(dialect: str, folder: Path, pg_url: str = PG_URL) -> Iterator[Database]:
    """An empty database: a SQLite file of its own in `folder` (a benchmark may open several there),
    or a PostgreSQL schema of its own, dropped after. The event subscribers are wired, as in the app."""
    wiring.wire()
    if dialect == "sqlite":
        url, cleanup = f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}", None
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        query = {"options": f"-csearch_path={schema}"}
        url = make_url(pg_url).update_query_dict(query).render_as_string(hide_password=False)
        cleanup = (admin, schema)
    db = Database(Settings(database_url=url, data_dir=folder, demo=False))
    try:
        yield db
    finally:
        db.dispose()
        if cleanup:
            admin, schema = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def account(db: Database, name: str, role: Role) -> permissions.User:
    create_user(db, None, AccountDraft(name, name.title(), None, frozenset({role})), PASSWORD)
    return sessions.login(db, name, PASSWORD).user


def sign_in(db: Database, name: str) -> str:
    """A session token for an account made with `account`, as the app keeps it after sign-in."""
    return sessions.login(db, name, PASSWORD).token


def store_observations(
    db: Database, kpi_id: int, clean: validation.Validated, file_name: str = "benchmark"
) -> None:
    """Validated observations stored as one batch, bypassing file parsing (not what is measured)."""
    with db.transaction() as session:
        row = session.get_one(KpiRow, kpi_id)
        batch = IngestBatchRow(
            kpi_id=kpi_id,
            source="cli",
            file_name=file_name,
            rows_total=clean.rows,
            loaded_by_name="benchmark",
        )
        session.add(batch)
        session.flush()
        storage.store(session, row, clean, batch)


def analyze(db: Database) -> None:
    """Fresh planner statistics after a bulk build, as autovacuum (or SQLite's ANALYZE) keeps them."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def open_page(db: Database, token: str, page: str, **query: str) -> AppTest:
    """The app signed in and switched to `page`, Streamlit's caches as they were."""
    os.environ.update(
        {
            "DATABASE_URL": db.settings.database_url,
            "FLIGHTDECK_DATA_DIR": str(db.settings.data_dir),
            "FLIGHTDECK_DEMO": "0",
        }
    )
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=300)
    at.session_state["fd_token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def page_runs(
    db: Database, token: str, page: str, check: Callable[[AppTest], None], cold: bool, **query: str
) -> list[float]:
    """The whole app run (session check, navigation and page) timed RUNS times; cold clears
    Streamlit's data cache before every run, as on a first visit. `check` asserts the page shows
    what is being measured, so a broken page cannot pass as a fast one."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_page(db, token, page, **query)
    check(at)
    times = []
    for _ in range(RUNS):
        if cold:
            st.cache_data.clear()
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception
    return times


def charts_shown(at: AppTest) -> None:
    """The check for pages whose point is their charts (KPI monitoring, impact)."""
    assert len(at.get("plotly_chart")) >= 2


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def report(targets: list[Target]) -> None:
    for name, figure, met in targets:
        print(f"target {name}: {figure} {'met' if met else 'missed'}")
