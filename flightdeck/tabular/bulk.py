"""Bulk writes inside the caller's transaction: `COPY` on PostgreSQL, one `executemany` on SQLite.

Loading a million observations row by row through the ORM takes minutes; these take seconds and
still commit or roll back with everything else in the transaction. Values must already be plain
Python (dates as ISO strings), which is what the ingest and the demo hand over. Table and column
names always come from the ORM, never from users.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session


def _quote(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def insert(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Plain INSERT of new rows (a duplicate key fails the transaction)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({_quote(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({_quote(columns)}) VALUES ({marks})",  # noqa: S608 - names are ours
        rows,  # type: ignore[arg-type]
    )


def upsert(
    session: Session, table: str, columns: Sequence[str], key: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE of every other column."""
    if not rows:
        return
    connection = session.connection()
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    conflict = f"ON CONFLICT ({_quote(key)}) DO UPDATE SET {updates}"
    if connection.dialect.name == "postgresql":
        stage = f"_stage_{table}"
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        connection.exec_driver_sql(f"TRUNCATE {stage}")
        insert(session, stage, columns, rows)
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({_quote(columns)}) SELECT {_quote(columns)} FROM {stage} {conflict}"  # noqa: S608
        )
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({_quote(columns)}) VALUES ({marks}) {conflict}",  # noqa: S608
        list(rows),  # type: ignore[arg-type]
    )
