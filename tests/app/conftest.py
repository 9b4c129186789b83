"""AppTest fixtures: the real app against a copy of a seeded demo database, signed in by role.

The demo is seeded once per test session (with cheap password hashing) and copied per test, so
tests may write freely. Streamlit's caches outlive an AppTest, so they are cleared around each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from flightdeck import auth, demo
from flightdeck.config import PROJECT_ROOT
from flightdeck.db import Database
from tests.conftest import settings_for

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 30


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "flightdeck.db"
    db = Database(settings_for(f"sqlite:///{path}", path.parent))
    db.upgrade()
    demo.seed(db)
    db.dispose()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A private copy of the demo workspace, which the app under test also opens."""
    path = tmp_path / "flightdeck.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FLIGHTDECK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FLIGHTDECK_DEMO", "1")
    st.cache_data.clear()
    st.cache_resource.clear()
    db = Database(settings_for(url, tmp_path))
    yield db
    db.dispose()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app(demo_db: Database) -> Callable[[str | None], AppTest]:
    """`app("bianca")` is the app, run once, with that demo user signed in; `app(None)` is anonymous."""

    def open_as(username: str | None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        if username is not None:
            at.session_state["fd_token"] = auth.login(demo_db, username, demo.DEMO_PASSWORD).token
        return at.run()

    return open_as


def page(at: AppTest, key: str) -> AppTest:
    """Open the page with this key in an already-run app."""
    return at.switch_page(f"pages/{key}.py").run()


def texts(at: AppTest) -> str:
    """Everything readable on the page, for 'is it shown' assertions."""
    parts = [
        e.value for kind in ("title", "header", "subheader", "markdown", "caption") for e in at.get(kind)
    ]
    parts += [e.value for kind in ("error", "warning", "info", "success") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)
