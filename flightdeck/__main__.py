"""`python -m flightdeck ...`: the command line for operators and cron."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from flightdeck import wiring
from flightdeck.accounts import users
from flightdeck.alerts import webhook
from flightdeck.core.config import load_settings
from flightdeck.core.db import Database
from flightdeck.core.errors import FlightdeckError
from flightdeck.core.roles import Role
from flightdeck.demo import seed, story
from flightdeck.impact import impact_alerts
from flightdeck.kpis import definitions, ingest, sources, validation
from flightdeck.models import outcome_logs, prediction_logs, registry
from flightdeck.readiness import snapshots
from flightdeck.tabular import files, findings, formats, uploads


def _db_upgrade(db: Database, _args: argparse.Namespace) -> None:
    with db.startup_lock():
        db.upgrade()
    print(f"Database at revision {db.current_revision()}.")


def _db_current(db: Database, _args: argparse.Namespace) -> None:
    state = "up to date" if db.is_current() else "behind: run `python -m flightdeck db upgrade`"
    print(f"Revision {db.current_revision() or '(empty database)'}, {state}.")


def _demo(db: Database, args: argparse.Namespace) -> None:
    if args.reset:
        seed.reset(db)
        print(
            "Demo workspace rebuilt. Sign in as ada, bianca, dana, rita or victor "
            f"with '{story.DEMO_PASSWORD}'."
        )
        return
    with db.startup_lock():
        db.upgrade()
        if users.count_users(db):
            print("The database already has users; use --reset to replace everything with the demo.")
            return
        seed.seed(db)
    print("Demo workspace created.")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("The passwords differ; nothing was created.")
    return first


def _create_admin(db: Database, args: argparse.Namespace) -> None:
    with db.startup_lock():
        db.upgrade()
    draft = users.AccountDraft(args.username, args.name or args.username, args.email, frozenset({Role.ADMIN}))
    account, _ = users.create_user(db, None, draft, password=_read_password(args))
    print(f"Admin '{account.username}' created. Sign in and add the other users on the Users page.")


def _list_users(db: Database, _args: argparse.Namespace) -> None:
    for account in users.list_accounts(db):
        roles = ", ".join(sorted(r.value for r in account.roles))
        state = "active" if account.is_active else "inactive"
        print(f"{account.username:<20} {account.display_name:<28} {state:<9} {roles}")


def _declared_format(args: argparse.Namespace) -> formats.SourceFormat:
    fmt = formats.PRESETS[args.format][1] if args.format else formats.SourceFormat()
    options = {
        "date_format": args.date_format,
        "decimal": args.decimal,
        "thousands": args.thousands,
        "encoding": args.encoding,
        "delimiter": "\t" if args.delimiter == "tab" else args.delimiter,
        "fiscal_year_start": args.fiscal_year_start,
    }
    return fmt.with_(**{k: v for k, v in options.items() if v is not None})


def _report_rejected(rejected: findings.Rejected, report: Path | None) -> int:
    """Print the first problems (and write the whole report when asked); the exit code is 1."""
    print(f"error: {rejected.summary()}", file=sys.stderr)
    for problem in rejected.problems[:20]:
        print(f"  row {problem.row}, {problem.field} = {problem.value!r}: {problem.message}", file=sys.stderr)
    if report:
        report.write_bytes(rejected.report_csv())
        print(f"The full report is in {report}.", file=sys.stderr)
    return 1


def _read_file(db: Database, path: Path) -> bytes | None:
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return None
    uploads.check_size(db, path.stat().st_size, path.name)
    return path.read_bytes()


def _ingest_predictions(db: Database, args: argparse.Namespace) -> int:
    """A prediction log of one model version, through the upload page's validation."""
    model = registry.get_model_by_key(db, args.model_key)
    data = _read_file(db, args.file)
    if data is None:
        return 1
    try:
        result = prediction_logs.ingest_predictions(
            db, None, model.id, args.version, data, args.file.name, _declared_format(args),
            source="cli", force=args.force,
        )  # fmt: skip
    except findings.Rejected as rejected:
        return _report_rejected(rejected, args.report)
    print(f"{model.name} v{args.version}: {result.summary()}")
    return 0


def _ingest_outcomes(db: Database, args: argparse.Namespace) -> int:
    """Outcomes of a model, joined to its logged predictions by subject key and time."""
    model = registry.get_model_by_key(db, args.model_key)
    data = _read_file(db, args.file)
    if data is None:
        return 1
    try:
        result = outcome_logs.ingest_outcomes(
            db, None, model.id, data, args.file.name, _declared_format(args),
            horizon_days=args.horizon_days, source="cli", force=args.force,
        )  # fmt: skip
    except findings.Rejected as rejected:
        return _report_rejected(rejected, args.report)
    print(f"{model.name}: {result.summary()}")
    return 0


def _ingest_kpi(db: Database, args: argparse.Namespace) -> int:
    """Load a file into a KPI through the same validation as an upload; exit 1 if nothing loaded."""
    path: Path = args.file
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 1
    kpi = definitions.get_kpi_by_key(db, args.kpi_key)
    uploads.check_size(db, path.stat().st_size, path.name)
    data = path.read_bytes()
    fmt = _declared_format(args)
    suggested = validation.suggest_mapping(files.read_table(data, path.name, fmt.checked(), nrows=1).columns)
    mapping = validation.ColumnMapping(
        args.period_column or suggested.period,
        args.value_column or suggested.value,
        suggested.segment if args.segment_column is None else args.segment_column,
        suggested.unit if args.unit_column is None else args.unit_column,
    )
    print(f"Loading {path.name} into {kpi.name} ({fmt.describe()}); columns {mapping.used()}.")
    try:
        result = ingest.load_file(
            db,
            None,
            kpi.id,
            data,
            path.name,
            fmt,
            mapping,
            source="cli",
            dry_run=args.dry_run,
            force=args.force,
        )
    except findings.Rejected as rejected:
        return _report_rejected(rejected, args.report)
    print(result.summary())
    for alert in result.alerts:
        print(f"alert: {alert}")
    return 0


def _sync(db: Database, args: argparse.Namespace) -> int:
    """Pull every attached SQL query (or one KPI's), for cron; exit 1 if any failed."""
    if args.kpi:
        outcomes = [sources.sync(db, None, definitions.get_kpi_by_key(db, args.kpi).id)]
    else:
        outcomes = sources.sync_all(db)
    for outcome in outcomes:
        print(f"{'ok' if outcome.ok else 'FAILED':6} {outcome.kpi_name}: {outcome.message}")
    if not outcomes:
        print("No KPI has a SQL query attached.")
    return 1 if any(not o.ok for o in outcomes) else 0


def _deliver_alerts(db: Database, _args: argparse.Namespace) -> None:
    if webhook.webhook_url(db.settings) is None:
        print(
            f"No webhook configured: set {webhook.WEBHOOK_ENV} or [alerts] webhook_url in the secrets file."
        )
        return
    report = webhook.deliver_pending(db)
    failed = f"{report.failed} failed (retried later)"
    print(f"{report.delivered} delivered, {failed}, {report.still_pending} pending.")


def _refresh_readiness(db: Database, _args: argparse.Namespace) -> None:
    changed = snapshots.refresh_all(db)
    print(f"Readiness re-checked; {changed} version(s) changed and got a new snapshot.")


def _evaluate_alerts(db: Database, _args: argparse.Namespace) -> None:
    raised = impact_alerts.evaluate_all(db)
    print(f"Model alerts checked; {len(raised)} newly raised or escalated.")
    for message in raised:
        print(f"  {message}")


def _ingest_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("kpi_key", help="the KPI's key, e.g. fresh_waste_rate")
    command.add_argument("file", type=Path, help="a CSV or Excel (.xlsx) file")
    _format_arguments(command)
    for role in ("period", "value", "segment", "unit"):
        command.add_argument(f"--{role}-column", help=f"the {role} column (guessed from the header)")
    command.add_argument("--dry-run", action="store_true", help="check every row, store nothing")
    command.set_defaults(run=_ingest_kpi)


def _format_arguments(command: argparse.ArgumentParser) -> None:
    """How the file writes dates and numbers, and what to do with a refused or repeated file."""
    presets = "; ".join(f"{name}: {text}" for name, (text, _) in formats.PRESETS.items())
    command.add_argument("--format", choices=list(formats.PRESETS), help=f"a named source layout ({presets})")
    command.add_argument("--date-format", choices=list(formats.DATE_FORMATS))
    command.add_argument("--decimal", choices=list(formats.DECIMALS))
    command.add_argument("--thousands", choices=list(formats.THOUSANDS), help="'' for none")
    command.add_argument("--encoding", choices=list(formats.ENCODINGS))
    command.add_argument("--delimiter", choices=[",", ";", "tab", "auto"])
    command.add_argument("--fiscal-year-start", type=int, metavar="MONTH")
    command.add_argument("--force", action="store_true", help="load a file that was loaded before")
    command.add_argument("--report", type=Path, help="write the row-level error report (CSV) here")


def _log_arguments(ingest_cmd: argparse._SubParsersAction) -> None:
    logs = ingest_cmd.add_parser(
        "predictions", help="load a prediction log (timestamp, subject_key, features, prediction, segment)"
    )
    logs.add_argument("model_key", help="the model's key, e.g. member_churn")
    logs.add_argument("version", type=int, help="the version number that made the predictions")
    logs.add_argument("file", type=Path, help="a CSV or Excel (.xlsx) file")
    _format_arguments(logs)
    logs.set_defaults(run=_ingest_predictions)
    outcomes = ingest_cmd.add_parser("outcomes", help="load outcomes (observed_at, subject_key, outcome)")
    outcomes.add_argument("model_key", help="the model's key")
    outcomes.add_argument("file", type=Path, help="a CSV or Excel (.xlsx) file")
    outcomes.add_argument(
        "--horizon-days",
        type=int,
        default=outcome_logs.DEFAULT_HORIZON_DAYS,
        help="join to the latest prediction at most this many days before the outcome",
    )
    _format_arguments(outcomes)
    outcomes.set_defaults(run=_ingest_outcomes)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m flightdeck", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    db_cmd = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db_cmd.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)
    db_cmd.add_parser("current", help="show the schema revision").set_defaults(run=_db_current)

    demo_cmd = commands.add_parser("demo", help="create the demo workspace in an empty database")
    demo_cmd.add_argument("--reset", action="store_true", help="drop ALL data and rebuild the demo")
    demo_cmd.set_defaults(run=_demo)

    users_cmd = commands.add_parser("users", help="accounts").add_subparsers(
        dest="users_command", required=True
    )
    admin = users_cmd.add_parser("create-admin", help="create an admin account (first start in production)")
    admin.add_argument("--username", required=True)
    admin.add_argument("--name", help="display name (defaults to the username)")
    admin.add_argument("--email")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(run=_create_admin)
    users_cmd.add_parser("list", help="list accounts").set_defaults(run=_list_users)

    ingest_cmd = commands.add_parser("ingest", help="load data").add_subparsers(
        dest="ingest_command", required=True
    )
    _ingest_arguments(ingest_cmd.add_parser("kpi", help="load a CSV or Excel file into a KPI"))
    _log_arguments(ingest_cmd)

    sync_cmd = commands.add_parser("sync", help="pull KPI values from the SQL sources (for cron)")
    sync_cmd.add_argument("--kpi", help="only this KPI's query (its key)")
    sync_cmd.set_defaults(run=_sync)

    alerts_cmd = commands.add_parser("alerts", help="alerts").add_subparsers(
        dest="alerts_command", required=True
    )
    alerts_cmd.add_parser("deliver", help="send pending webhook notifications").set_defaults(
        run=_deliver_alerts
    )
    alerts_cmd.add_parser(
        "evaluate", help="check drift, performance, refresh and impact alerts of production models (for cron)"
    ).set_defaults(run=_evaluate_alerts)
    readiness_cmd = commands.add_parser("readiness", help="operational readiness").add_subparsers(
        dest="readiness_command", required=True
    )
    readiness_cmd.add_parser(
        "refresh", help="re-check time-driven evidence (stale logs, refresh due) for every version (cron)"
    ).set_defaults(run=_refresh_readiness)

    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    wiring.wire()
    db = Database(load_settings())
    try:
        code = args.run(db, args)  # commands that can fail without an error return 1
    except FlightdeckError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return code or 0


if __name__ == "__main__":
    raise SystemExit(main())
