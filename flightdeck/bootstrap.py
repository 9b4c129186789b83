"""First start: migrate, and seed the demo workspace into an empty database when demo mode is on.

Runs under a cross-process lock, so several app processes starting together migrate and seed once.
"""

from __future__ import annotations

from flightdeck import demo
from flightdeck.config import Settings
from flightdeck.db import Database
from flightdeck.users import count_users


def prepare(settings: Settings) -> Database:
    db = Database(settings)
    with db.startup_lock():
        if not db.is_current():
            db.upgrade()
        if settings.demo and count_users(db) == 0:
            demo.seed(db)
    return db
