"""Seeding the demo workspace, Greenway Grocers: its people and goals, then the KPI, model and
readiness stories, all through the same services the app uses, so the demo also exercises
validation and fills the audit trail the way real use would."""

from __future__ import annotations

from datetime import UTC, datetime

from flightdeck.accounts import users
from flightdeck.business import goals
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, user_view
from flightdeck.core.workspace import DEMO_KEY, set_meta
from flightdeck.demo import kpi_story, model_story
from flightdeck.demo.story import DEMO_GOALS, DEMO_PASSWORD, DEMO_USERS
from flightdeck.orm import UserRow


def seed(db: Database) -> None:
    """Build the demo workspace in an empty database."""
    people: dict[str, User] = {}
    for person in DEMO_USERS:
        account, _ = users.create_user(
            db,
            None,
            users.AccountDraft(person.username, person.display_name, person.email, frozenset(person.roles)),
            password=DEMO_PASSWORD,
            system="demo setup",
        )
        with db.read() as session:
            people[person.username] = user_view(session.get_one(UserRow, account.id))
    for goal in DEMO_GOALS:
        goals.create_goal(db, people[goal.owner], goal.draft)
    kpi_story.seed(db, people)
    model_story.seed(db, people)
    with db.transaction() as session:
        set_meta(session, DEMO_KEY, datetime.now(UTC).isoformat(timespec="seconds"))


def reset(db: Database) -> None:
    """Drop everything and rebuild the demo: `python -m flightdeck demo --reset`."""
    with db.startup_lock():
        db.downgrade("base")
        db.upgrade()
        seed(db)
