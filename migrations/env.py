"""Alembic environment: uses the connection Flightdeck hands over, or the configured database."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

from flightdeck.core.config import load_settings
from flightdeck.core.db import Database
from flightdeck.orm import Base
from flightdeck.orm.base import UTCDateTime

config = context.config


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migrations spell plain column types, so they never depend on how the app wraps them."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    database = Database(load_settings())
    with database.engine.begin() as conn:
        run(conn)
    database.dispose()
