"""The audit trail page: chain verification, tampering, filters and the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from flightdeck.accounts import audit_trail
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.tabular import exports
from tests.app.conftest import account, click, events, page, plain, select_row, sign_in, texts, widget


def audit_page(app) -> AppTest:
    return page(app("ada"), "admin_audit")


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_an_intact_chain_is_verified_with_its_event_count(app, demo_db: Database) -> None:
    at = audit_page(app)
    assert not at.exception
    count = audit_trail.head_id(demo_db)
    assert count > 10  # the demo's history and Ada's sign-in
    assert [plain(s.value) for s in at.success] == [f"Chain verified: all {count:,} events are intact."]
    assert not at.error


def tamper_with_event(db: Database, event_id: int) -> None:
    """What someone with write access to the database file could do: switch the append-only
    guard off and rewrite history."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE id = :id"), {"id": event_id})


def assert_broken_at(at: AppTest, event_id: int) -> None:
    assert not at.exception
    assert not at.success
    [broken] = at.error
    assert f"Chain broken at event #{event_id}." in broken.value
    assert f"Event #{event_id} was altered after it was recorded." in broken.value
    assert f"The {event_id - 1} events before it verify." in broken.value


def test_an_edited_event_breaks_the_chain_at_that_event(app, demo_db: Database) -> None:
    tamper_with_event(demo_db, 5)
    assert_broken_at(audit_page(app), 5)


def test_verify_now_walks_the_chain_again(app, demo_db: Database) -> None:
    at = audit_page(app)
    assert at.success  # verified, and cached for this head event
    tamper_with_event(demo_db, 7)
    assert_broken_at(click(at, "Verify now"), 7)


def test_filters_narrow_the_table(app, demo_db: Database) -> None:
    at = audit_page(app)
    everything = at.dataframe[0].value
    assert set(everything["Action"]) >= {"user.create", "goal.create", "auth.login"}

    bianca = account(demo_db, "bianca")
    at = widget(at, "selectbox", "Who").set_value(bianca.id).run()
    assert set(at.dataframe[0].value["Who"]) == {"Bianca Romero"}
    # In the demo she created her goal, her dictionary fields and her KPIs, loaded their history,
    # stated what the churn model's decisions are worth and attested its readiness checks.
    done = {
        "goal.create",
        "data_field.create",
        "kpi.create",
        "kpi.ingest",
        "model.error_values",
        "readiness.attest",
    }
    assert set(at.dataframe[0].value["Action"]) == done

    at = widget(at, "selectbox", "Who").set_value(None).run()
    at = widget(at, "multiselect", "Actions").set_value(["user.create"]).run()
    table = at.dataframe[0].value
    assert set(table["Action"]) == {"user.create"}
    assert len(table) == 8
    assert "8 matching events." in texts(at)

    at = widget(at, "multiselect", "Actions").set_value([]).run()
    at = widget(at, "selectbox", "Entity").set_value("goal").run()
    assert set(at.dataframe[0].value["Entity"].str.split().str[0]) == {"goal"}

    long_ago = utcnow().date() - timedelta(days=2000)
    at = widget(at, "date_input", "Between").set_value((long_ago, long_ago + timedelta(days=30))).run()
    assert at.dataframe[0].value.empty
    assert at.download_button[0].disabled


def test_the_csv_export_holds_the_filtered_events(app, demo_db: Database, download) -> None:
    at = audit_page(app)
    at = widget(at, "multiselect", "Actions").set_value(["goal.create"]).run()
    button = at.download_button[0]
    assert button.label == "Download 3 events as CSV"
    rows = csv_rows(download(button))
    assert [r["action"] for r in rows] == ["goal.create"] * 3
    assert list(rows[0]) == audit_trail.EXPORT_COLUMNS
    stored = {
        e.id: e.hash
        for e in audit_trail.list_events(demo_db, audit_trail.AuditFilter(actions=("goal.create",)))[0]
    }
    assert {int(r["id"]): r["hash"] for r in rows} == stored


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://evil.example","Click")', "+1+2", "-3", "@sum(a1)"])
def test_formulas_typed_by_anyone_are_neutralised_in_the_csv(app, download, typed: str) -> None:
    """A stranger types a formula as a username; the failed sign-in is audited under that name,
    and an admin opening the export in a spreadsheet must see text, not run the formula."""
    sign_in(app(None), typed, "whatever")
    at = audit_page(app)
    rows = csv_rows(download(at.download_button[0]))
    [failed] = [r for r in rows if r["action"] == "auth.login_failed"]
    assert failed["actor"] == "'" + typed.lower()
    for row in rows:
        for value in row.values():
            assert not value.startswith(exports.FORMULA_TRIGGERS), row


def test_selecting_an_event_shows_its_change_and_fingerprint(app, demo_db: Database) -> None:
    at = audit_page(app)
    actions = at.dataframe[0].value["Action"].tolist()
    at = select_row(at, "audit_table", actions.index("goal.create"))
    assert not at.exception
    event = events(demo_db, "goal.create")[0]  # the table lists the newest first, as this does
    shown = texts(at)
    assert f"**Event #{event.id}**" in shown
    assert f"sha256 {event.hash}" in shown
    assert at.json[1].value  # the "after" values of the new goal
