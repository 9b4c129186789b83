import io
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from flightdeck import __main__ as cli
from flightdeck.accounts import sessions, users
from flightdeck.business import goals
from flightdeck.core import workspace
from flightdeck.core.db import Database, alembic_config
from flightdeck.core.roles import Role
from flightdeck.demo import seed, story
from tests.conftest import settings_for

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def content(db: Database) -> tuple[list[tuple], list[tuple]]:
    people = [(a.username, a.display_name, a.email, sorted(a.roles)) for a in users.list_accounts(db)]
    stated = [
        (g.title, g.owner_name, g.status, g.target_date, g.value_statement) for g in goals.list_goals(db)
    ]
    return people, stated


def test_the_demo_is_the_same_every_time(db: Database, tmp_path: Path) -> None:
    seed.seed(db)
    other = Database(settings_for(f"sqlite:///{tmp_path / 'again.db'}", tmp_path))
    other.upgrade()
    seed.seed(other)
    assert content(db) == content(other)
    other.dispose()


def test_the_demo_has_every_role_and_working_logins(db: Database) -> None:
    seed.seed(db)
    roles = set().union(*(a.roles for a in users.list_accounts(db)))
    assert roles == set(Role)
    assert workspace.is_demo(db)
    assert sessions.login(db, "victor", story.DEMO_PASSWORD).user.roles == {Role.VIEWER}
    assert len(goals.list_goals(db)) >= 3


def test_demo_mode_off_hides_the_demo_logins(db: Database) -> None:
    seed.seed(db)
    from dataclasses import replace

    db.settings = replace(db.settings, demo=False)
    assert not workspace.is_demo(db)


def test_demo_reset_rebuilds_from_scratch(db: Database) -> None:
    seed.seed(db)
    admin = sessions.login(db, "ada", story.DEMO_PASSWORD).user
    goals.create_goal(
        db,
        admin,
        goals.GoalDraft(title="Extra", owner_id=users.users_with_role(db, Role.BUSINESS_OWNER)[0].id),
    )
    seed.reset(db)
    assert [g.title for g in goals.list_goals(db)] == sorted(g.draft.title for g in story.DEMO_GOALS)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FLIGHTDECK_DATA_DIR", str(tmp_path))  # the demo writes its ERP file there
    return tmp_path


def test_command_line_upgrade_demo_and_users(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "upgrade"]) == 0
    assert f"revision {HEAD}" in capsys.readouterr().out
    assert cli.main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo"]) == 0
    assert "already has users" in capsys.readouterr().out
    assert cli.main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "victor" in listing
    assert "viewer" in listing


def test_create_admin_for_an_empty_production_start(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert (
        cli.main(
            ["users", "create-admin", "--username", "root", "--email", "r@x.example", "--password-stdin"]
        )
        == 0
    )
    db = Database(settings_for(f"sqlite:///{cli_env / 'cli.db'}", cli_env))
    assert sessions.login(db, "root", "a long enough secret").user.roles == {Role.ADMIN}
    db.dispose()
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["users", "create-admin", "--username", "root2", "--password-stdin"]) == 1
    assert "at least 10" in capsys.readouterr().err
