"""First start of an app process: wire the event subscribers, migrate, and seed the demo workspace
into an empty database when demo mode is on.

Runs under a cross-process lock, so several app processes starting together migrate and seed once.
"""

from __future__ import annotations

from flightdeck import wiring
from flightdeck.accounts.users import count_users
from flightdeck.core.config import Settings
from flightdeck.core.db import Database


def prepare(settings: Settings) -> Database:
    wiring.wire()
    db = Database(settings)
    with db.startup_lock():
        if not db.is_current():
            db.upgrade()
        if settings.demo and count_users(db) == 0:
            # Imported only here: the demo trains its models, and every later start of the process
            # (the database has its users) should not pay for loading what that needs.
            from flightdeck.demo import seed

            seed.seed(db)
    return db
