"""AppTest fixtures: the real app against a copy of a seeded demo database, signed in by role.

The demo is seeded once per test session (with cheap password hashing) and copied per test, so
tests may write freely. Streamlit's caches outlive an AppTest, so they are cleared around each test.
"""

from __future__ import annotations

import re
import shutil
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, DownloadButton, Node

from flightdeck.accounts import audit_trail, sessions
from flightdeck.core.config import PROJECT_ROOT
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, user_view
from flightdeck.demo import seed, story
from flightdeck.models import registry
from flightdeck.orm import UserRow
from tests.conftest import settings_for

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 30


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "flightdeck.db"
    db = Database(settings_for(f"sqlite:///{path}", path.parent))
    db.upgrade()
    seed.seed(db)
    db.dispose()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A private copy of the demo workspace, which the app under test also opens."""
    path = tmp_path / "flightdeck.db"
    shutil.copy(demo_template, path)
    for extra in demo_template.parent.glob("*.sqlite"):  # the demo's own source databases (its ERP)
        shutil.copy(extra, tmp_path / extra.name)
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
def app(demo_db: Database) -> Callable[..., AppTest]:
    """`app("bianca")` is the app, run once, with that demo user signed in; `app(None)` is anonymous.
    `app("bianca", password=...)` signs in with another password (after a reset or a change)."""

    def open_as(username: str | None, password: str = story.DEMO_PASSWORD) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        if username is not None:
            at.session_state["fd_token"] = sessions.login(demo_db, username, password).token
        return at.run()

    return open_as


def page(at: AppTest, key: str) -> AppTest:
    """Open the page with this key in an already-run app."""
    return at.switch_page(f"pages/{key}.py").run()


def model_page(at: AppTest, db: Database, key: str, page_key: str) -> AppTest:
    """Open a page about one model (model, impact, monitoring), which names it in the `model` query
    parameter, as the links between those pages do."""
    at.query_params["model"] = str(registry.get_model_by_key(db, key).id)
    return page(at, page_key)


def plain(markdown: str) -> str:
    """Markdown source as a reader sees it: `md()`'s escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def only_demo_logins(at: AppTest) -> bool:
    """The one table on a signed-out page is the demo accounts list: no workspace data leaks."""
    return [list(d.value.columns) for d in at.dataframe] == [["Username", "Name", "Job", "Roles"]]


def texts(at: AppTest) -> str:
    """Everything readable on the page as a reader sees it (markdown escapes and the invisible
    word joiners that `md()` adds removed), for 'is it shown' assertions."""
    parts = [
        e.value for kind in ("title", "header", "subheader", "markdown", "caption") for e in at.get(kind)
    ]
    parts += [e.value for kind in ("error", "warning", "info", "success") for e in at.get(kind)]
    return plain("\n".join(str(p) for p in parts))


def widget(where: AppTest | Block, kind: str, label: str) -> Any:
    """The one widget of this kind with this label, e.g. `widget(at, "text_input", "Title")`."""
    found = [w for w in getattr(where, kind) if w.label == label]
    assert len(found) == 1, f"expected one {kind} {label!r}, found {len(found)}"
    return found[0]


def labels(where: AppTest | Block, kind: str) -> list[str]:
    return [w.label for w in getattr(where, kind)]


def click(at: AppTest, label: str) -> AppTest:
    """Click the button (or form submit button) with this label and run."""
    return widget(at, "button", label).click().run()


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    """Fill in and submit the sign-in form on the current page."""
    widget(at, "text_input", "Username").set_value(username)
    widget(at, "text_input", "Password").set_value(password)
    return click(at, "Sign in")


def select_row(at: AppTest, table_key: str, row: int) -> AppTest:
    """Select one row of a selectable st.dataframe (AppTest has no click for it) and run."""
    at.session_state[table_key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


def only_main_element(at: AppTest) -> Node:
    """The single element in the page body, for "this and nothing else is shown" assertions."""
    children = list(at.main.children.values())
    assert len(children) == 1, f"expected one element in the page body, found {children}"
    return children[0]


def events(db: Database, *actions: str) -> list[audit_trail.AuditEvent]:
    """Audit events with these actions, newest first."""
    return audit_trail.list_events(db, audit_trail.AuditFilter(actions=actions))[0]


def account(db: Database, username: str) -> User:
    with db.read() as session:
        return user_view(session.scalars(select(UserRow).where(UserRow.username == username)).one())


@pytest.fixture
def download(monkeypatch: pytest.MonkeyPatch) -> Callable[[DownloadButton], bytes]:
    """`download(button)` is the file a deferred st.download_button would hand the browser:
    AppTest keeps only a placeholder id, so the callables are captured as they are registered."""
    registered: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def capture(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any, **kwargs: Any) -> str:
        file_id = original(self, data_callable, *args, **kwargs)
        registered[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)

    def fetch(button: DownloadButton) -> bytes:
        data = registered[button.proto.deferred_file_id]()
        return data.encode() if isinstance(data, str) else data

    return fetch


# Characters that open markup anywhere in Streamlit's markdown: emphasis, code, links, images,
# HTML, entity references (&lt;), tables, strikethrough, math and :material/icons: or :red[colour].
MARKUP = set("\\`*_[]<>!&|~$:")
# GFM turns these into links even when their punctuation is backslash-escaped (checked in Chromium).
AUTOLINK = re.compile(r"www\.|://|[\w.+-]@[\w-]+\.\w", re.IGNORECASE)


def assert_shown_literally(body: str, text: str) -> None:
    """`text` appears in the markdown `body` so that Streamlit's CommonMark + GFM renderer shows
    it verbatim: every markup character backslash-escaped, and no web or e-mail address left for
    GFM to link (an invisible U+2060 word joiner inside one is accepted as the way to break it)."""
    pattern = "".join(
        ("\\\\" if c in MARKUP else "\\\\?" if c in string.punctuation else "") + re.escape(c) + "\u2060?"
        for c in text
    )
    found = re.search(pattern, body)
    assert found, f"{text!r} is not shown literally in the markdown {body!r}"
    unescaped = re.sub(r"\\(.)", r"\1", found.group())
    assert not AUTOLINK.search(unescaped), f"{body!r} leaves a link in {text!r} for GFM to render"
