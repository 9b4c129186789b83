"""Events: a service announces what happened inside its own transaction, its subscribers react in
that same transaction (so all commit or none does), and nothing is published before the wiring."""

import pytest
from sqlalchemy.orm import Session

from flightdeck import wiring
from flightdeck.accounts import audit_trail
from flightdeck.core import events
from flightdeck.core.db import Database
from flightdeck.kpis import definitions
from flightdeck.kpis.entities import KpiDraft
from flightdeck.kpis.events import KpiChanged
from flightdeck.models import lifecycle
from flightdeck.readiness import gate
from tests.kpi_factories import Workspace, make_kpi, workspace


@pytest.fixture
def ws(db: Database) -> Workspace:
    return workspace(db)


def kpi_edits(db: Database) -> int:
    return audit_trail.list_events(db, audit_trail.AuditFilter(actions=("kpi.update",)))[1]


def test_a_failing_subscriber_undoes_the_change_that_announced_it(
    db: Database, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    kpi = make_kpi(db, ws)

    def broken(_session: Session, _event: KpiChanged) -> None:
        raise RuntimeError("subscriber failed")

    monkeypatch.setitem(events._handlers, KpiChanged, [*events.subscribers(KpiChanged), broken])
    with pytest.raises(RuntimeError, match="subscriber failed"):
        definitions.update_kpi(db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, name="Renamed"))
    assert definitions.get_kpi(db, kpi.id).name == kpi.name
    assert kpi_edits(db) == 0


def test_subscribers_see_the_change_inside_its_transaction(
    db: Database, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    kpi = make_kpi(db, ws)
    seen: list[tuple[int, str, int]] = []

    def observe(session: Session, event: KpiChanged) -> None:
        row = definitions.load(session, event.kpi_id)
        seen.append((event.kpi_id, row.name, kpi_edits(db)))

    monkeypatch.setitem(events._handlers, KpiChanged, [*events.subscribers(KpiChanged), observe])
    definitions.update_kpi(db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, name="Renamed"))
    # The subscriber read the new name in the edit's session, before anything was committed.
    assert seen == [(kpi.id, "Renamed", 0)]
    assert kpi_edits(db) == 1


def test_nothing_is_published_before_the_wiring(
    db: Database, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    kpi = make_kpi(db, ws)
    monkeypatch.setattr(events, "_wired", False)
    with pytest.raises(RuntimeError, match=r"wiring\.wire"):
        definitions.update_kpi(db, ws.owner, kpi.id, kpi.version, KpiDraft.of(kpi, name="Renamed"))
    assert definitions.get_kpi(db, kpi.id).name == kpi.name


def test_the_wiring_subscribes_its_table_once_whoever_calls_it() -> None:
    wiring.wire()
    wiring.wire()
    for event_type, handlers in wiring.SUBSCRIBERS.items():
        assert events.subscribers(event_type) == handlers
    assert lifecycle._production_checks.count(gate.gate) == 1
