"""SQL sources: KPI values pulled from the business's own databases.

An admin names a connection; its URL is looked up by that name in the environment
(`FLIGHTDECK_SOURCE_<NAME>_URL`) or the secrets file (`[sources.<name>] url`) each time it is
used, and is never written to the database or the audit trail. A KPI owner attaches one SELECT
returning `period`, `value` and optionally `segment`; "sync now" and `python -m flightdeck sync`
run it and load the rows through the same validation as a file.

A query runs in a read-only transaction with a statement timeout and a row cap: PostgreSQL gets
`SET TRANSACTION READ ONLY` and `statement_timeout`; SQLite gets `PRAGMA query_only` and a
progress handler that interrupts it at the deadline. A statement that tries to write is refused
by the database and changes nothing; one that is not a single SELECT is refused before it runs.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, exc, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from flightdeck.core import audit
from flightdeck.core.actors import COMMAND_LINE, actor_id
from flightdeck.core.clock import utcnow
from flightdeck.core.config import Settings, normalise_database_url
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, flush_or_stale, touch
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.kpis import ingest, validation
from flightdeck.kpis.entities import view_of
from flightdeck.orm import KpiRow, KpiSqlQueryRow, ObservationRow, SqlConnectionRow
from flightdeck.tabular import findings
from flightdeck.tabular.formats import SourceFormat
from flightdeck.tabular.progress import Progress, silent

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
SUPPORTED = ("postgresql", "sqlite")
MAX_QUERY_CHARS = 20_000
DEMO_SOURCE = "greenway_erp"  # the demo's ERP, a SQLite file in the data folder
DEMO_FILE = "greenway_erp.sqlite"
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


_WRITES = re.compile(
    r"\b(insert|update|delete|merge|drop|alter|create|truncate|grant|revoke|copy|vacuum|attach|pragma|call|do|into|lock)\b",
    re.IGNORECASE,
)


def env_name(name: str) -> str:
    return f"FLIGHTDECK_SOURCE_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_URL"


def source_url(settings: Settings, name: str) -> str | None:
    """The connection's URL from the environment or the secrets file, never from the database.
    In the demo workspace its ERP resolves to the SQLite file the demo wrote."""
    url = os.environ.get(env_name(name)) or settings.secrets.get("sources", {}).get(name, {}).get("url")
    if not url and settings.demo and name == DEMO_SOURCE and (settings.data_dir / DEMO_FILE).is_file():
        url = f"sqlite:///{settings.data_dir / DEMO_FILE}"
    return normalise_database_url(str(url)) if url else None


def demo_source_path(settings: Settings) -> Path:
    return settings.data_dir / DEMO_FILE


# -- connections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    id: int
    name: str
    description: str
    timeout_seconds: int
    row_cap: int
    version: int
    configured: bool
    dialect: str  # from the configured URL, '' when none is configured
    env_var: str

    @property
    def secrets_key(self) -> str:
        return f"[sources.{self.name}] url"


@dataclass(frozen=True)
class ConnectionDraft:
    name: str
    description: str = ""
    timeout_seconds: int = 10
    row_cap: int = 100_000


def _connection_view(settings: Settings, row: SqlConnectionRow) -> Connection:
    url = source_url(settings, row.name)
    dialect = make_url(url).get_backend_name() if url else ""
    return Connection(
        row.id,
        row.name,
        row.description,
        row.timeout_seconds,
        row.row_cap,
        row.version,
        url is not None,
        dialect,
        env_name(row.name),
    )


def list_connections(db: Database) -> list[Connection]:
    with db.read() as session:
        rows = session.scalars(select(SqlConnectionRow).order_by(SqlConnectionRow.name))
        return [_connection_view(db.settings, r) for r in rows]


def _clean_connection(draft: ConnectionDraft) -> ConnectionDraft:
    problems = []
    name = draft.name.strip().lower()
    if not NAME_PATTERN.match(name):
        problems.append(
            Problem("name", "Name must be 2–64 characters: a lower-case letter, then letters, digits or '_'.")
        )
    if not 1 <= int(draft.timeout_seconds) <= 300:
        problems.append(Problem("timeout_seconds", "The statement timeout must be 1–300 seconds."))
    if not 1 <= int(draft.row_cap) <= 5_000_000:
        problems.append(Problem("row_cap", "The row cap must be between 1 and 5,000,000."))
    if len(draft.description) > 2000:
        problems.append(Problem("description", "Description must be at most 2000 characters."))
    if problems:
        raise InvalidInput(problems)
    return ConnectionDraft(name, draft.description.strip(), int(draft.timeout_seconds), int(draft.row_cap))


def _connection_values(row: SqlConnectionRow) -> dict[str, object]:
    # The URL is deliberately absent: it never reaches the database or the audit trail.
    return {
        "name": row.name,
        "description": row.description,
        "timeout_seconds": row.timeout_seconds,
        "row_cap": row.row_cap,
    }


def save_connection(
    db: Database,
    actor: User,
    draft: ConnectionDraft,
    connection_id: int | None = None,
    expected_version: int = 1,
) -> Connection:
    """Create (no id) or update a named connection. Admins only."""
    with db.transaction() as session:
        authorize(actor, "source.manage", entity="sql connection")
        clean = _clean_connection(draft)
        taken = session.scalar(select(SqlConnectionRow.id).where(SqlConnectionRow.name == clean.name))
        if taken is not None and taken != connection_id:
            raise InvalidInput(Problem("name", f"A connection named '{clean.name}' exists already."))
        if connection_id is None:
            row = SqlConnectionRow(updated_by_id=actor.id)
            session.add(row)
            before: dict[str, object] = {}
        else:
            found = get_or_raise(session, SqlConnectionRow, connection_id, "Connection")
            row = found
            check_version(session, row, expected_version, "connection")
            before = _connection_values(row)
            touch(row, actor.id)
        row.name, row.description = clean.name, clean.description
        row.timeout_seconds, row.row_cap = clean.timeout_seconds, clean.row_cap
        flush_or_stale(session, "connection")
        old, new = audit.changes(before, _connection_values(row))
        audit.record(
            session,
            by=actor,
            action="source.create" if connection_id is None else "source.update",
            entity_type="sql_connection",
            entity_id=row.id,
            before=old or None,
            after=new,
        )
        return _connection_view(db.settings, row)


def test_connection(db: Database, actor: User, connection_id: int) -> str:
    """Open the connection read-only and run `SELECT 1`: what an admin checks after configuring it."""
    authorize(actor, "source.manage", entity=f"sql connection {connection_id}")
    with db.read() as session:
        row = get_or_raise(session, SqlConnectionRow, connection_id, "Connection")
        name, timeout = row.name, row.timeout_seconds
    url = source_url(db.settings, name)
    if url is None:
        raise InvalidInput(
            Problem("connection", f"No URL: set {env_name(name)} or [sources.{name}] url in the secrets.")
        )
    started = time.perf_counter()
    run_select(url, "SELECT 1 AS ok", {}, timeout, 1)
    dialect = make_url(url).get_backend_name()
    return f"Connected to {dialect} read-only in {(time.perf_counter() - started) * 1000:.0f} ms."


# -- running a query read-only -------------------------------------------------------------------


def check_select(query: str) -> str:
    """One SELECT (or WITH … SELECT) statement, or `InvalidInput` saying why not."""
    body = query.strip().rstrip(";").strip()
    bare = _COMMENTS.sub(" ", body).strip()
    problems = []
    if not bare:
        problems.append(
            Problem("query", "Write the SELECT that returns period, value and (optionally) segment.")
        )
    elif len(body) > MAX_QUERY_CHARS:
        problems.append(Problem("query", f"The query must be at most {MAX_QUERY_CHARS:,} characters."))
    elif ";" in bare:
        problems.append(Problem("query", "Only one statement is allowed: remove the ';' inside the query."))
    elif not re.match(r"^(select|with)\b", bare, re.IGNORECASE):
        problems.append(
            Problem("query", "Only a SELECT (or WITH … SELECT) is allowed: sources are read-only.")
        )
    elif (found := _WRITES.search(re.sub(r"'[^']*'", "''", bare))) is not None:
        problems.append(
            Problem("query", f"'{found.group(0).upper()}' is not allowed: sources are read-only.")
        )
    if problems:
        raise InvalidInput(problems)
    return body


def _failure(error: exc.DBAPIError, timeout: int) -> InvalidInput:
    detail = str(error.orig).strip().splitlines()[0][:300] if error.orig else str(error)[:300]
    lowered = detail.lower()
    if "statement timeout" in lowered or "interrupted" in lowered or "canceling statement" in lowered:
        message = f"The query ran longer than its {timeout} s timeout and was stopped; nothing was loaded."
    elif "read-only" in lowered or "readonly" in lowered:
        message = "The query tried to change data. Sources are read-only: it was refused and nothing changed."
    else:
        message = f"The source database refused the query: {detail}"
    return InvalidInput(Problem("query", message))


def run_select(
    url: str, query: str, params: dict[str, object], timeout_seconds: int, row_cap: int
) -> pd.DataFrame:
    """Run one statement read-only, stopped at the timeout, refusing more than `row_cap` rows.
    Callers check the statement with `check_select` first; this enforces read-only regardless."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect not in SUPPORTED:
        raise InvalidInput(
            Problem("connection", f"Only PostgreSQL and SQLite sources are supported, not '{dialect}'.")
        )
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_seconds) * 1000}")
            else:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute("PRAGMA query_only = ON")
                deadline = time.monotonic() + timeout_seconds
                raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)  # type: ignore[attr-defined]
            wanted = {k: v for k, v in params.items() if f":{k}" in query}
            result = conn.execute(text(query), wanted)
            columns = list(result.keys())
            rows = result.fetchmany(row_cap + 1)
            conn.rollback()
    except exc.DBAPIError as error:
        raise _failure(error, timeout_seconds) from None
    finally:
        engine.dispose()
    if len(rows) > row_cap:
        raise InvalidInput(
            Problem(
                "query",
                f"The query returned more than the connection's cap of {row_cap:,} rows; nothing was loaded. "
                "Narrow it (for example with `WHERE period > :since`) or ask an admin to raise the cap.",
            )
        )
    return pd.DataFrame([tuple(r) for r in rows], columns=columns, dtype=object)


# -- KPI queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiQuery:
    id: int
    kpi_id: int
    kpi_name: str
    connection_id: int
    connection_name: str
    query: str
    fmt: SourceFormat
    last_sync_at: datetime | None
    last_sync_ok: bool | None
    last_sync_message: str
    version: int


def _query_view(row: KpiSqlQueryRow) -> KpiQuery:
    return KpiQuery(
        row.id,
        row.kpi_id,
        row.kpi.name,
        row.connection_id,
        row.connection.name,
        row.query,
        SourceFormat.from_dict(row.declared_format),
        row.last_sync_at,
        row.last_sync_ok,
        row.last_sync_message,
        row.version,
    )


def list_queries(db: Database) -> list[KpiQuery]:
    with db.read() as session:
        return [_query_view(r) for r in session.scalars(select(KpiSqlQueryRow).order_by(KpiSqlQueryRow.id))]


def get_query(db: Database, kpi_id: int) -> KpiQuery | None:
    with db.read() as session:
        row = session.scalar(select(KpiSqlQueryRow).where(KpiSqlQueryRow.kpi_id == kpi_id))
        return _query_view(row) if row else None


def attach_query(
    db: Database,
    actor: User | None,
    kpi_id: int,
    connection_id: int,
    query: str,
    fmt: SourceFormat | None = None,
    expected_version: int | None = None,
) -> KpiQuery:
    """Attach (or replace) the SELECT that feeds a KPI. Its owner or an admin may."""
    with db.transaction() as session:
        kpi = get_or_raise(session, KpiRow, kpi_id, "KPI")
        if actor is not None:
            authorize(actor, "kpi.edit", view_of(kpi), entity=f"kpi {kpi.key}")
        if kpi.formula != "none":
            raise InvalidInput(
                Problem("kpi", f"{kpi.name} is computed from its drivers; attach queries to them.")
            )
        if session.get(SqlConnectionRow, connection_id) is None:
            raise InvalidInput(Problem("connection_id", "Choose one of the named connections."))
        body = check_select(query)
        fmt = (fmt or SourceFormat()).checked()
        row = session.scalar(select(KpiSqlQueryRow).where(KpiSqlQueryRow.kpi_id == kpi_id))
        before: dict[str, object] = {}
        if row is None:
            row = KpiSqlQueryRow(kpi_id=kpi_id, updated_by_id=actor_id(actor))
            session.add(row)
        else:
            if expected_version is not None:
                check_version(session, row, expected_version, "SQL query")
            before = {"connection_id": row.connection_id, "query": row.query}
            touch(row, actor_id(actor))
        row.connection_id, row.query, row.declared_format = connection_id, body, fmt.as_dict()
        kpi.source = "sql"
        flush_or_stale(session, "SQL query")
        audit.record(
            session,
            by=actor,
            actor_name=COMMAND_LINE,
            action="kpi.attach_query",
            entity_type="kpi",
            entity_id=kpi_id,
            before=before or None,
            after={"connection_id": connection_id, "query": body},
        )
        session.refresh(row)
        return _query_view(row)


def _since(session: Session, kpi_id: int) -> date:
    latest = session.scalar(
        select(ObservationRow.period)
        .where(ObservationRow.kpi_id == kpi_id)
        .order_by(ObservationRow.period.desc())
        .limit(1)
    )
    return latest or date(1900, 1, 1)


@dataclass(frozen=True)
class SyncOutcome:
    kpi_id: int
    kpi_name: str
    ok: bool
    message: str
    result: ingest.LoadResult | None = None


def _bookkeep(db: Database, query_id: int, ok: bool, message: str) -> None:
    """The last sync's outcome, shown next to the query; not an edit of it, so no version bump."""
    with db.transaction() as session:
        session.execute(
            update(KpiSqlQueryRow)
            .where(KpiSqlQueryRow.id == query_id)
            .values(last_sync_at=utcnow(), last_sync_ok=ok, last_sync_message=message[:2000])
        )


def sync(db: Database, actor: User | None, kpi_id: int, progress: Progress | None = None) -> SyncOutcome:
    """Pull the KPI's values from its source now. `actor=None` is cron (the command line).
    `:since` in the query is bound to the latest period already loaded."""
    with db.read() as session:
        row = session.scalar(select(KpiSqlQueryRow).where(KpiSqlQueryRow.kpi_id == kpi_id))
        if row is None:
            raise NotFound("SQL query for KPI", kpi_id)
        if actor is not None:
            authorize(actor, "kpi.ingest", view_of(row.kpi), entity=f"kpi {row.kpi.key}")
        query = _query_view(row)
        connection = row.connection
        since = _since(session, kpi_id)
    step = progress or silent
    try:
        url = source_url(db.settings, connection.name)
        if url is None:
            raise InvalidInput(
                Problem(
                    "connection",
                    f"Connection '{connection.name}' has no URL: set {env_name(connection.name)} or "
                    f"[sources.{connection.name}] url in the secrets file.",
                )
            )
        step(0.1, f"Querying {connection.name}")
        frame = run_select(url, query.query, {"since": since}, connection.timeout_seconds, connection.row_cap)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        if frame.empty:
            outcome = SyncOutcome(kpi_id, query.kpi_name, True, f"No new values since {since}.")
        else:
            mapping = validation.ColumnMapping(
                "period", "value", "segment" if "segment" in frame.columns else ""
            )
            origin = ingest.Origin("sql", f"{connection.name} query", None, 0, query.fmt)
            rows = np.arange(1, len(frame) + 1)
            result = ingest.load_frame(
                db, actor, kpi_id, frame, rows, mapping, query.fmt, origin, progress=progress
            )
            outcome = SyncOutcome(kpi_id, query.kpi_name, True, result.summary(), result)
    except InvalidInput as invalid:
        message = invalid.problems[0].message if len(invalid.problems) == 1 else str(invalid)
        if isinstance(invalid, findings.Rejected):
            message = (
                invalid.summary()
                + " First: "
                + "; ".join(f"result row {p.row}, {p.field}: {p.message}" for p in invalid.problems[:3])
            )
        _bookkeep(db, query.id, False, message)
        raise
    _bookkeep(db, query.id, True, outcome.message)
    return outcome


def sync_all(db: Database) -> list[SyncOutcome]:
    """Every attached query, for cron: one failure does not stop the others."""
    outcomes = []
    for query in list_queries(db):
        try:
            outcomes.append(sync(db, None, query.kpi_id))
        except InvalidInput as invalid:
            outcomes.append(SyncOutcome(query.kpi_id, query.kpi_name, False, str(invalid)))
    return outcomes
