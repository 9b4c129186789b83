from tests.app.conftest import page, texts


def test_anonymous_visitors_see_the_sign_in_form_and_demo_logins(app) -> None:
    at = app(None)
    assert not at.exception
    assert "Sign in to Flightdeck" in texts(at)
    assert at.text_input[0].label == "Username"
    assert "victor" in at.dataframe[0].value["Username"].tolist()


def test_a_signed_in_owner_sees_the_goals(app) -> None:
    at = page(app("bianca"), "home")
    assert not at.exception
    assert "Reduce loyalty" in texts(at)
