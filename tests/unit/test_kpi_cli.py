"""The command line for data: `ingest kpi`, `sync` for cron and `alerts deliver`."""

from pathlib import Path

import pytest

from flightdeck import __main__ as cli
from flightdeck.alerts import webhook
from flightdeck.core.db import Database
from flightdeck.kpis import definitions
from tests.conftest import settings_for

FILE = "Datum;Filiale;Wert\n01.10.2026;N101;4,50\n02.10.2026;N101;4,75\n"


@pytest.fixture
def demo_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FLIGHTDECK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(webhook.WEBHOOK_ENV, raising=False)
    assert cli.main(["demo"]) == 0
    return tmp_path


def database(folder: Path) -> Database:
    return Database(settings_for(f"sqlite:///{folder / 'cli.db'}", folder))


def test_ingest_loads_a_file_and_refuses_it_the_second_time(
    demo_cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = demo_cli / "waste.csv"
    path.write_text(FILE, encoding="latin-1")
    assert cli.main(["ingest", "kpi", "fresh_waste_rate", str(path), "--format", "de"]) == 0
    out = capsys.readouterr().out
    assert "columns {'period': 'Datum', 'value': 'Wert', 'segment': 'Filiale'}" in out
    assert "2 rows checked: 0 new, 2 changed and 0 unchanged values were stored" in out
    assert cli.main(["ingest", "kpi", "fresh_waste_rate", str(path), "--format", "de"]) == 1
    assert "already loaded into Fresh waste rate" in capsys.readouterr().err
    assert cli.main(["ingest", "kpi", "no_such_kpi", str(path)]) == 1
    assert "KPI no_such_kpi does not exist" in capsys.readouterr().err


def test_a_rejected_file_exits_non_zero_lists_the_rows_and_writes_the_report(
    demo_cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = demo_cli / "bad.csv"
    path.write_text(FILE + "03.10.2026;N999;4,80\n", encoding="utf-8")
    report = demo_cli / "report.csv"
    db = database(demo_cli)
    waste = definitions.get_kpi_by_key(db, "fresh_waste_rate")
    before = definitions.observation_count(db, waste.id)
    code = cli.main(
        ["ingest", "kpi", "fresh_waste_rate", str(path), "--date-format", "dd.mm.yyyy", "--decimal", ",",
         "--thousands", ".", "--delimiter", ";", "--report", str(report)]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "1 problem(s) in 3 rows. Nothing was loaded" in err
    assert "row 4, Filiale = 'N999'" in err
    assert "N999" in report.read_text(encoding="utf-8-sig")
    assert definitions.observation_count(db, waste.id) == before
    db.dispose()


def test_sync_pulls_new_values_for_cron_and_then_finds_none(
    demo_cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync"]) == 0
    first = capsys.readouterr().out
    assert "ok     Invoices received: 4 rows checked: 4 new" in first
    assert cli.main(["sync", "--kpi", "invoices_received"]) == 0
    assert "No new values since" in capsys.readouterr().out


def test_sync_exits_non_zero_when_a_source_is_not_configured(
    demo_cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo_cli / "greenway_erp.sqlite").unlink()
    assert cli.main(["sync"]) == 1
    assert "Connection 'greenway_erp' has no URL" in capsys.readouterr().out


def test_alerts_deliver_says_what_it_did(
    demo_cli: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["alerts", "deliver"]) == 0
    assert "No webhook configured" in capsys.readouterr().out
    monkeypatch.setenv(webhook.WEBHOOK_ENV, "http://127.0.0.1:9/unreachable")
    monkeypatch.setattr(webhook, "FIRST_RETRY_SECONDS", 0)
    assert cli.main(["alerts", "deliver"]) == 0  # the demo's alerts were raised without a webhook
    assert "0 delivered, 0 failed (retried later), 0 pending." in capsys.readouterr().out
