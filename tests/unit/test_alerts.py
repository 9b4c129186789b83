"""Alerts: raised once per condition, cleared on recovery, acknowledged by the goal's owner, and
announced to a webhook that may fail without losing the alert or holding up a load."""

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from flightdeck.accounts import audit_trail
from flightdeck.alerts import inbox
from flightdeck.alerts import webhook as outbox
from flightdeck.alerts.webhook import PostResult
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import PermissionDenied
from flightdeck.kpis import definitions, kpi_alerts
from flightdeck.kpis.entities import KpiDraft
from flightdeck.orm import AlertDeliveryAttemptRow, AlertDeliveryRow, AlertRow
from tests.kpi_factories import Workspace, csv_file, days, load, make_kpi, workspace

JAN = date(2025, 1, 1)
THRESHOLDS = {"warning_threshold": 3.0, "critical_threshold": 4.0}  # churn, down is good


def month_of(value: float, start: date = JAN, segment: str = "N1") -> bytes:
    return csv_file([(d, segment, value) for d in days(start, 28)])


def raised(db: Database) -> list[str]:
    return [
        e.action for e in audit_trail.list_events(db, audit_trail.AuditFilter(actions=("alert.raise",)))[0]
    ]


def open_alerts(db: Database) -> list[inbox.Alert]:
    return inbox.list_alerts(db, states=("open", "acknowledged"))


@pytest.fixture
def ws(db: Database) -> Workspace:
    return workspace(db)


def test_a_kpi_past_its_threshold_raises_one_alert_however_often_it_is_checked(
    db: Database, ws: Workspace
) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    result = load(db, ws.owner, kpi, month_of(3.5))
    assert result.alerts == ("Churn: 3.50% is past the warning threshold 3.00%.",)
    [alert] = open_alerts(db)
    assert (alert.kind, alert.severity, alert.goal_title, alert.entity_id) == (
        "kpi_threshold",
        "warning",
        "Reduce churn",
        kpi.id,
    )
    assert load(db, ws.owner, kpi, month_of(3.6, segment="N2"), "more.csv").alerts == ()
    for _ in range(3):
        with db.transaction() as session:
            assert kpi_alerts.evaluate_alerts(session, [kpi.id]) == []
    assert [a.id for a in open_alerts(db)] == [alert.id]
    assert raised(db) == ["alert.raise"]


def test_an_alert_clears_when_the_kpi_recovers_and_a_relapse_raises_a_new_one(
    db: Database, ws: Workspace
) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    load(db, ws.owner, kpi, month_of(2.0, JAN + timedelta(days=28)), "february.csv")
    assert open_alerts(db) == []
    [cleared] = inbox.list_alerts(db, states=("cleared",))
    assert cleared.cleared_at is not None
    load(db, ws.owner, kpi, month_of(3.2, JAN + timedelta(days=56)), "march.csv")
    [again] = open_alerts(db)
    assert again.id != cleared.id
    assert raised(db) == ["alert.raise", "alert.raise"]


def test_a_worse_severity_escalates_the_same_alert_and_needs_acknowledging_again(
    db: Database, ws: Workspace
) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    [alert] = open_alerts(db)
    inbox.acknowledge(db, ws.owner, alert.id)
    load(db, ws.owner, kpi, month_of(4.5, JAN + timedelta(days=28)), "worse.csv")
    [escalated] = open_alerts(db)
    assert (escalated.id, escalated.severity, escalated.state) == (alert.id, "critical", "open")
    assert escalated.escalated_at is not None


def test_trajectory_alerts_are_their_own_condition(db: Database, ws: Workspace) -> None:
    kpi = make_kpi(
        db,
        ws,
        baseline_value=5.0,
        baseline_period=date(2024, 1, 1),
        target_value=4.0,
        target_date=date(2026, 1, 1),
    )
    load(db, ws.owner, kpi, month_of(4.9))
    [alert] = open_alerts(db)
    assert (alert.kind, alert.severity, alert.condition_key) == (
        "kpi_trajectory",
        "critical",
        f"kpi:{kpi.id}:trajectory",
    )
    assert "behind the target trajectory" in alert.message


def test_editing_a_threshold_re_checks_the_alerts_at_once(db: Database, ws: Workspace) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    kpi = definitions.get_kpi(db, kpi.id)
    definitions.update_kpi(
        db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, warning_threshold=3.8, critical_threshold=4.5)
    )
    assert open_alerts(db) == []


def test_the_goals_owner_or_an_admin_acknowledges_others_may_not(db: Database, ws: Workspace) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    [alert] = open_alerts(db)
    for someone in (ws.other_owner, ws.viewer, ws.scientist):
        with pytest.raises(PermissionDenied):
            inbox.acknowledge(db, someone, alert.id)
    done = inbox.acknowledge(db, ws.owner, alert.id)
    assert (done.state, done.acknowledged_by_name) == ("acknowledged", "Bianca")
    assert inbox.acknowledge(db, ws.admin, alert.id).acknowledged_by_name == "Bianca"  # already done
    assert [
        e.action
        for e in audit_trail.list_events(db, audit_trail.AuditFilter(actions=("alert.acknowledge",)))[0]
    ] == ["alert.acknowledge"]


def test_the_inbox_holds_the_alerts_of_my_goals(db: Database, ws: Workspace) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    assert len(inbox.list_alerts(db, owner_id=ws.owner.id)) == 1
    assert inbox.list_alerts(db, owner_id=ws.other_owner.id) == []
    assert inbox.count_open(db, ws.owner.id) == 1
    assert inbox.list_alerts(db, owner_id=ws.owner.id, states=()) == []


def test_the_same_condition_cannot_be_open_twice_even_by_a_direct_insert(db: Database, ws: Workspace) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.transaction() as session:
        for _ in range(2):
            session.add(
                AlertRow(
                    kind="k",
                    severity="warning",
                    entity_type="kpi",
                    entity_id=1,
                    condition_key="c",
                    message="m",
                )
            )
            session.flush()


# -- the webhook ---------------------------------------------------------------------------------


class Webhook:
    """A local receiver that answers with the given statuses in turn (200 once they run out)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict[str, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    hook = Webhook([500, 503])
    monkeypatch.setenv(outbox.WEBHOOK_ENV, hook.url)
    monkeypatch.setattr(outbox, "dispatch", lambda db, post=None: None)  # deliver explicitly here
    yield hook
    hook.server.shutdown()


def attempts(db: Database) -> list[tuple[bool, int | None]]:
    with db.read() as session:
        rows = session.scalars(select(AlertDeliveryAttemptRow).order_by(AlertDeliveryAttemptRow.id))
        return [(a.ok, a.status_code) for a in rows]


def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_is_logged(
    db: Database, ws: Workspace, webhook: Webhook
) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    pauses: list[float] = []
    report = outbox.deliver_pending(db, sleep=pauses.append)
    assert (report.delivered, report.failed, report.still_pending) == (1, 0, 0)
    assert pauses == [0.5, 1.0]
    assert attempts(db) == [(False, 500), (False, 503), (True, 200)]
    body = webhook.bodies[-1]
    assert body["event"] == "raised"
    assert body["alert"]["kind"] == "kpi_threshold"
    assert body["alert"]["severity"] == "warning"
    assert body["alert"]["subject"] == {"type": "kpi", "id": kpi.id}
    assert outbox.deliver_pending(db, sleep=pauses.append).delivered == 0  # nothing is sent twice


def test_an_unreachable_webhook_loses_nothing_and_delivers_later(
    db: Database, ws: Workspace, webhook: Webhook
) -> None:
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    down = outbox.deliver_pending(
        db, post=lambda url, body: PostResult(False, None, "connection refused"), sleep=lambda _s: None
    )
    assert (down.delivered, down.failed, down.still_pending) == (0, 1, 1)
    assert len(open_alerts(db)) == 1  # the alert is in the inbox whatever the webhook does
    with db.read() as session:
        delivery = session.scalars(select(AlertDeliveryRow)).one()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 3, "connection refused")
    assert delivery.next_attempt_at > utcnow()
    assert outbox.deliver_pending(db, sleep=lambda _s: None).delivered == 0  # not due yet
    with db.transaction() as session:
        session.execute(update(AlertDeliveryRow).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    webhook.statuses.clear()
    assert outbox.deliver_pending(db, sleep=lambda _s: None).delivered == 1
    assert outbox.delivery_state(db).pending == 0


def test_an_alert_raised_by_editing_a_kpi_is_announced_like_one_raised_by_a_load(
    db: Database, ws: Workspace, webhook: Webhook
) -> None:
    webhook.statuses.clear()
    kpi = make_kpi(db, ws)
    load(db, ws.owner, kpi, month_of(3.5))
    kpi = definitions.get_kpi(db, kpi.id)
    definitions.update_kpi(db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, **THRESHOLDS))
    assert [a.kind for a in open_alerts(db)] == ["kpi_threshold"]
    assert outbox.deliver_pending(db, sleep=lambda _s: None).delivered == 1
    assert [(b["event"], b["alert"]["kind"]) for b in webhook.bodies] == [("raised", "kpi_threshold")]


def test_a_recovery_is_announced_too(db: Database, ws: Workspace, webhook: Webhook) -> None:
    webhook.statuses.clear()
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    load(db, ws.owner, kpi, month_of(2.0, JAN + timedelta(days=28)), "february.csv")
    outbox.deliver_pending(db, sleep=lambda _s: None)
    assert [b["event"] for b in webhook.bodies] == ["raised", "cleared"]


def background_deliveries_finish() -> None:
    for worker in [t for t in threading.enumerate() if t.name == "flightdeck-alert-webhook"]:
        worker.join(10)


def test_a_delivery_due_for_a_retry_goes_out_with_the_next_load(
    db: Database, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = Webhook([500, 500, 500])  # every try of the first run fails
    monkeypatch.setenv(outbox.WEBHOOK_ENV, hook.url)
    monkeypatch.setattr(outbox, "FIRST_RETRY_SECONDS", 0)
    kpi = make_kpi(db, ws, **THRESHOLDS)
    load(db, ws.owner, kpi, month_of(3.5))
    background_deliveries_finish()
    assert outbox.delivery_state(db).pending == 1
    with db.transaction() as session:
        session.execute(update(AlertDeliveryRow).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    load(db, ws.owner, kpi, month_of(3.6, segment="N2"), "more.csv")  # nothing new to announce
    background_deliveries_finish()
    assert (outbox.delivery_state(db).pending, outbox.delivery_state(db).delivered) == (0, 1)
    hook.server.shutdown()


def test_a_slow_webhook_never_holds_up_a_load(
    db: Database, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(outbox.WEBHOOK_ENV, "http://127.0.0.1:9/hook")
    released = threading.Event()
    started = threading.Event()

    def stuck(_url: str, _body: bytes) -> PostResult:
        started.set()
        released.wait(30)
        return PostResult(True, 200, "")

    monkeypatch.setattr(outbox, "post_json", stuck)
    kpi = make_kpi(db, ws, **THRESHOLDS)
    result = load(db, ws.owner, kpi, month_of(3.5))  # returns although the webhook is stuck
    assert result.new == 28
    assert started.wait(10)
    assert not released.is_set()
    assert len(open_alerts(db)) == 1
    assert outbox.delivery_state(db).pending == 1
    released.set()
    background_deliveries_finish()
    assert outbox.delivery_state(db).delivered == 1
