"""SQL sources: URLs only from secrets or the environment, SELECT only, read-only, stopped at the
timeout, capped in rows; a statement that writes is refused and changes nothing."""

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from flightdeck.accounts import audit_trail
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied
from flightdeck.kpis import definitions, sources
from flightdeck.kpis.sources import ConnectionDraft
from flightdeck.orm import KpiSqlQueryRow, SqlConnectionRow
from tests.conftest import PG_URL
from tests.kpi_factories import Workspace, make_kpi, workspace

QUERY = "SELECT day AS period, store AS segment, amount AS value FROM sales WHERE day > :since ORDER BY day"
ROWS = [("2025-01-01", "N1", 1.5), ("2025-01-02", "N1", 2.5), ("2025-01-02", "S1", 3.5)]


@pytest.fixture
def source(db: Database, tmp_path: Path) -> Iterator[str]:
    """A business database of the same kind as the workspace's, with a `sales` table."""
    if db.dialect == "sqlite":
        path = tmp_path / "erp.sqlite"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE sales (day TEXT, store TEXT, amount REAL)")
            conn.executemany("INSERT INTO sales VALUES (?, ?, ?)", ROWS)
        yield f"sqlite:///{path}"
        return
    schema = f"erp_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'CREATE TABLE "{schema}".sales (day date, store text, amount float8)'))
        for day, store, amount in ROWS:
            conn.execute(
                text(f'INSERT INTO "{schema}".sales VALUES (:d, :s, :a)'),  # noqa: S608 - our schema
                {"d": day, "s": store, "a": amount},
            )
    yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def sales_rows(url: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [
            tuple(r) for r in conn.execute(text("SELECT day, store, amount FROM sales ORDER BY day, store"))
        ]
    engine.dispose()
    return rows


@pytest.fixture
def ws(db: Database) -> Workspace:
    return workspace(db)


@pytest.fixture
def erp(db: Database, ws: Workspace, source: str, monkeypatch: pytest.MonkeyPatch) -> sources.Connection:
    monkeypatch.setenv(sources.env_name("erp"), source)
    return sources.save_connection(
        db, ws.admin, ConnectionDraft("erp", "The ERP", timeout_seconds=2, row_cap=100)
    )


def test_the_url_comes_from_the_environment_or_secrets_and_is_never_stored(
    db: Database, ws: Workspace, erp: sources.Connection, source: str
) -> None:
    assert (erp.configured, erp.env_var, erp.dialect) == (True, "FLIGHTDECK_SOURCE_ERP_URL", db.dialect)
    with db.read() as session:
        stored = [str(vars(r)) for r in session.scalars(select(SqlConnectionRow))]
    trail = str([(e.before, e.after) for e in audit_trail.list_events(db, audit_trail.AuditFilter())[0]])
    secret_part = make_url(source).database or ""
    assert secret_part
    assert all(secret_part not in s for s in [*stored, trail])
    from_secrets = replace(db.settings, secrets={"sources": {"crm": {"url": "sqlite:////tmp/crm.db"}}})
    assert sources.source_url(from_secrets, "crm") == "sqlite:////tmp/crm.db"
    assert sources.source_url(db.settings, "crm") is None


def test_only_admins_name_connections(db: Database, ws: Workspace) -> None:
    with pytest.raises(PermissionDenied):
        sources.save_connection(db, ws.owner, ConnectionDraft("erp"))
    with pytest.raises(InvalidInput):
        sources.save_connection(db, ws.admin, ConnectionDraft("ERP DB", timeout_seconds=0))
    assert sources.list_connections(db) == []


def test_a_kpi_owner_attaches_a_select_and_sync_pulls_only_new_rows(
    db: Database, ws: Workspace, erp: sources.Connection, source: str
) -> None:
    kpi = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum")
    with pytest.raises(PermissionDenied):
        sources.attach_query(db, ws.other_owner, kpi.id, erp.id, QUERY)
    attached = sources.attach_query(db, ws.owner, kpi.id, erp.id, QUERY)
    assert (attached.connection_name, definitions.get_kpi(db, kpi.id).source) == ("erp", "sql")
    first = sources.sync(db, ws.owner, kpi.id)
    assert first.result is not None
    assert (first.result.new, first.result.period_max) == (3, date(2025, 1, 2))
    again = sources.sync(db, None, kpi.id)  # cron: `:since` is now 2025-01-02
    assert (again.ok, again.result, again.message) == (True, None, "No new values since 2025-01-02.")
    [stored] = sources.list_queries(db)
    assert (stored.last_sync_ok, stored.last_sync_message) == (True, "No new values since 2025-01-02.")
    assert sources.test_connection(db, ws.admin, erp.id).startswith(f"Connected to {db.dialect} read-only")


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM sales",
        "UPDATE sales SET amount = 0",
        "SELECT 1; DELETE FROM sales",
        "DROP TABLE sales",
        "select period from x where 1 = 1 union select 1 into y",
    ],
)
def test_a_statement_that_is_not_a_plain_select_is_refused_before_it_runs(
    db: Database, ws: Workspace, erp: sources.Connection, source: str, query: str
) -> None:
    kpi = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum")
    with pytest.raises(InvalidInput):
        sources.attach_query(db, ws.owner, kpi.id, erp.id, query)
    assert sources.get_query(db, kpi.id) is None
    assert len(sales_rows(source)) == 3  # untouched


def test_a_writing_statement_is_refused_by_the_database_and_changes_nothing(
    db: Database, ws: Workspace, erp: sources.Connection, source: str
) -> None:
    """Even past the SELECT check (handed straight to the runner), the read-only transaction
    refuses a write: a writing CTE on PostgreSQL, a bare DELETE on SQLite (no writing CTEs)."""
    before = sales_rows(source)
    sneaky = (
        "WITH gone AS (DELETE FROM sales RETURNING day) SELECT day AS period, 1 AS value FROM gone"
        if db.dialect == "postgresql"
        else "DELETE FROM sales"
    )
    with pytest.raises(InvalidInput):
        sources.check_select(sneaky)
    with pytest.raises(InvalidInput) as refused:
        sources.run_select(source, sneaky, {}, 5, 100)
    assert "tried to change data" in refused.value.problems[0].message
    assert sales_rows(source) == before


def test_a_query_is_stopped_at_its_timeout(db: Database, ws: Workspace, source: str) -> None:
    slow = (
        "SELECT pg_sleep(5) AS period"
        if db.dialect == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    with pytest.raises(InvalidInput) as refused:
        sources.run_select(source, slow, {}, 1, 100)
    assert "ran longer than its 1 s timeout" in refused.value.problems[0].message


def test_more_rows_than_the_cap_loads_nothing(db: Database, ws: Workspace, erp: sources.Connection) -> None:
    kpi = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum")
    with db.transaction() as session:
        session.execute(select(SqlConnectionRow))
        session.get_one(SqlConnectionRow, erp.id).row_cap = 2
    sources.attach_query(db, ws.owner, kpi.id, erp.id, QUERY)
    with pytest.raises(InvalidInput) as refused:
        sources.sync(db, ws.owner, kpi.id)
    assert "more than the connection's cap of 2 rows" in refused.value.problems[0].message
    assert definitions.observation_count(db, kpi.id) == 0
    with db.read() as session:
        row = session.scalars(select(KpiSqlQueryRow)).one()
        assert (row.last_sync_ok, "cap of 2 rows" in row.last_sync_message) == (False, True)


def test_bad_rows_from_a_source_are_reported_like_a_files(
    db: Database, ws: Workspace, erp: sources.Connection
) -> None:
    kpi = make_kpi(db, ws, "sales", unit="EUR", aggregation="sum")
    sources.attach_query(
        db, ws.owner, kpi.id, erp.id, "SELECT day AS period, 'X9' AS segment, amount AS value FROM sales"
    )
    outcomes = sources.sync_all(db)
    assert [(o.ok, "not a code of the hierarchy" in o.message) for o in outcomes] == [(False, True)]
    assert definitions.observation_count(db, kpi.id) == 0
