"""`python -m flightdeck ...`: the command line for operators and cron."""

from __future__ import annotations

import argparse
import getpass
import sys

from flightdeck import demo, users
from flightdeck.config import load_settings
from flightdeck.db import Database
from flightdeck.errors import FlightdeckError
from flightdeck.roles import Role


def _db_upgrade(db: Database, _args: argparse.Namespace) -> None:
    with db.startup_lock():
        db.upgrade()
    print(f"Database at revision {db.current_revision()}.")


def _db_current(db: Database, _args: argparse.Namespace) -> None:
    state = "up to date" if db.is_current() else "behind: run `python -m flightdeck db upgrade`"
    print(f"Revision {db.current_revision() or '(empty database)'}, {state}.")


def _demo(db: Database, args: argparse.Namespace) -> None:
    if args.reset:
        demo.reset(db)
        print(
            "Demo workspace rebuilt. Sign in as ada, bianca, dana, rita or victor "
            f"with '{demo.DEMO_PASSWORD}'."
        )
        return
    with db.startup_lock():
        db.upgrade()
        if users.count_users(db):
            print("The database already has users; use --reset to replace everything with the demo.")
            return
        demo.seed(db)
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    db = Database(load_settings())
    try:
        args.run(db, args)
    except FlightdeckError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
