"""st.login (OIDC): the identity provider vouches for an e-mail; Flightdeck maps it to an account."""

from streamlit.testing.v1 import AppTest

from flightdeck.core.db import Database
from tests.app.conftest import APP, TIMEOUT, events, texts


def signed_in_by_provider(email: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "email": email, "name": "From the provider"}
    return at.run()


def test_a_provider_login_with_a_known_e_mail_opens_that_account(demo_db: Database) -> None:
    at = signed_in_by_provider("Bianca@Greenway.example")
    assert not at.exception
    assert "Workspace overview" in texts(at)
    assert "Bianca Romero" in texts(at)
    assert "fd_token" in at.session_state
    [login] = events(demo_db, "auth.login")
    assert login.after == {"method": "sso"}


def test_a_provider_login_without_an_account_is_refused_with_the_reason(demo_db: Database) -> None:
    at = signed_in_by_provider("stranger@example.com")
    assert not at.exception
    assert "no active Flightdeck account uses that e-mail" in texts(at)
    assert "Workspace overview" not in texts(at)
    assert "fd_token" not in at.session_state
    at.run()  # the refusal is not retried on every rerun
    assert len(events(demo_db, "auth.login_failed")) == 1
