import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from flightdeck.accounts import audit_trail
from flightdeck.business import goals
from flightdeck.core import audit
from flightdeck.core.db import Database
from flightdeck.core.errors import PermissionDenied
from flightdeck.core.roles import Role
from flightdeck.orm import AuditEventRow
from tests.factories import add_user


def some_history(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    goal = goals.create_goal(db, owner, goals.GoalDraft(title="Less churn"))
    goals.update_goal(db, owner, goal.id, goal.version, goals.GoalDraft(title="Much less churn"))


@pytest.fixture
def attacker(db: Database) -> Iterator[Database]:
    """Someone with database admin rights switches the append-only guard off first. (On
    PostgreSQL the schema outlives the test, so the guard is switched back on afterwards.)"""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
    yield db
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def test_events_record_who_did_what_and_chain_together(db: Database) -> None:
    some_history(db)
    events, total = audit_trail.list_events(db, audit_trail.AuditFilter())
    assert total == 3
    newest = events[0]
    assert newest.action == "goal.update"
    assert newest.actor_name == "Bianca"
    assert newest.before == {"title": "Less churn"}
    assert newest.after == {"title": "Much less churn"}
    assert newest.occurred_at.tzinfo is not None
    report = audit_trail.verify_chain(db)
    assert report.ok
    assert report.events_checked == 3


def test_the_database_refuses_to_update_or_delete_events(db: Database) -> None:
    some_history(db)
    for statement in ("UPDATE audit_events SET actor_name = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_an_edited_event_fails_verification_and_is_named(attacker: Database) -> None:
    db = attacker
    some_history(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE id = 2"))
    report = audit_trail.verify_chain(db)
    assert not report.ok
    assert report.broken_at == 2
    assert "#2 was altered" in report.problem
    assert report.events_checked == 1


def test_an_edit_with_a_recomputed_hash_still_breaks_the_next_link(attacker: Database) -> None:
    db = attacker
    some_history(db)
    with db.transaction() as session:
        row = session.get_one(AuditEventRow, 2)
        row.actor_name = "Mallory"
        row.hash = audit.event_hash(row)
    report = audit_trail.verify_chain(db)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "does not link" in report.problem


def test_a_deleted_event_is_detected(attacker: Database) -> None:
    db = attacker
    some_history(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    report = audit_trail.verify_chain(db)
    assert (report.ok, report.broken_at) == (False, 2)
    assert "#2 was deleted" in report.problem


def test_deleting_the_newest_event_is_detected_by_the_head(attacker: Database) -> None:
    db = attacker
    some_history(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))
    report = audit_trail.verify_chain(db)
    assert not report.ok
    assert "newest events were deleted" in report.problem


def test_secrets_never_reach_the_trail(db: Database) -> None:
    with db.transaction() as session:
        audit.record(
            session,
            actor_id=None,
            actor_name="test",
            action="connection.create",
            entity_type="connection",
            after={"name": "erp", "password": "hunter2", "nested": {"api_key": "k", "ok": 1}},
        )
    event = audit_trail.list_events(db, audit_trail.AuditFilter())[0][0]
    assert event.after == {
        "name": "erp",
        "password": "[redacted]",
        "nested": {"api_key": "[redacted]", "ok": 1},
    }
    assert audit_trail.verify_chain(db).ok


def test_an_event_rolls_back_with_the_change_it_describes(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        audit.record(session, actor_id=None, actor_name="t", action="x.y", entity_type="x")
        raise RuntimeError("the change failed")
    assert audit_trail.list_events(db, audit_trail.AuditFilter())[1] == 0
    assert audit_trail.verify_chain(db).ok


def test_refused_actions_are_logged_even_though_the_change_is_not(db: Database) -> None:
    viewer = add_user(db, "victor", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        goals.create_goal(db, viewer, goals.GoalDraft(title="Sneaky"))
    events, _ = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("permission.denied",)))
    assert [(e.actor_name, e.entity_id) for e in events] == [("Victor", "goal.create")]
    assert goals.list_goals(db) == []


def test_filters_narrow_the_list(db: Database) -> None:
    some_history(db)
    owner_id = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("goal.create",)))[0][0].actor_id
    assert audit_trail.list_events(db, audit_trail.AuditFilter(actor_id=owner_id))[1] == 2
    assert audit_trail.list_events(db, audit_trail.AuditFilter(entity_type="user"))[1] == 1
    actions, entities = audit_trail.facets(db)
    assert actions == ["goal.create", "goal.update", "user.create"]
    assert entities == ["goal", "user"]


def test_csv_export_neutralises_spreadsheet_formulas(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    goals.create_goal(db, owner, goals.GoalDraft(title='=HYPERLINK("http://evil")'))
    raw = audit_trail.export_csv(db, audit_trail.AuditFilter())
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["user.create", "goal.create"]
    assert "=HYPERLINK" in rows[1]["after"]
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())


def test_event_ids_are_consecutive_across_many_writers(db: Database) -> None:
    import threading

    def write(n: int) -> None:
        for i in range(5):
            with db.transaction() as session:
                audit.record(
                    session, actor_id=None, actor_name=f"w{n}", action="t.t", entity_type="t", entity_id=i
                )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.read() as session:
        assert list(session.scalars(select(AuditEventRow.id).order_by(AuditEventRow.id))) == list(
            range(1, 21)
        )
    assert audit_trail.verify_chain(db).ok
