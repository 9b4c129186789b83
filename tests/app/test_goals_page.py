"""The goals page: creating, listing, editing by owner and admin, bad input and stale edits."""

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from components.text import md
from flightdeck.business import goals
from flightdeck.business.goals import GoalStatus
from flightdeck.core.db import Database
from tests.app.conftest import (
    account,
    assert_shown_literally,
    click,
    events,
    labels,
    page,
    plain,
    texts,
    widget,
)

CHURN = "Reduce loyalty-member churn"  # Bianca's
WASTE = "Cut fresh-produce waste"  # Bruno's


def goal_named(db: Database, title: str) -> goals.Goal:
    [goal] = [g for g in goals.list_goals(db) if g.title == title]
    return goal


def open_goal(at: AppTest, goal: goals.Goal) -> AppTest:
    """The goals page with this goal's details open, as its 'Details' link opens it."""
    at.query_params["goal"] = str(goal.id)
    return page(at, "goals")


FIELD_KINDS = {
    "Title": "text_input",
    "Value statement": "text_area",
    "Description": "text_area",
    "Business unit": "text_input",
    "Target date": "date_input",
    "Status": "selectbox",
    "Owner": "selectbox",
}


def fill_new_goal(at: AppTest, fields: dict[str, object]) -> AppTest:
    """Fill in the "New goal" tab's form (by field label); submit it with `click`."""
    new_goal = at.tabs[1]
    assert new_goal.label == "New goal"
    for label, value in fields.items():
        widget(new_goal, FIELD_KINDS[label], label).set_value(value)
    return at


def markdown_bodies(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


# -- creating ---------------------------------------------------------------------------------


def test_a_business_owner_creates_a_goal_that_is_listed_and_on_home(app, demo_db: Database) -> None:
    at = page(app("bianca"), "goals")
    assert labels(at, "tabs") == ["All goals", "New goal"]
    fill_new_goal(
        at,
        {
            "Title": "Grow basket size online",
            "Value statement": "Each euro of basket is worth 28 cents of margin.",
            "Business unit": "E-commerce",
            "Target date": date(2027, 9, 30),
            "Status": GoalStatus.ACTIVE,
        },
    )
    at = click(at, "Create goal")
    assert not at.exception
    assert not at.error
    assert at.success[0].value.startswith("Goal “Grow basket size online” created")

    stored = goal_named(demo_db, "Grow basket size online")
    assert stored.owner_id == account(demo_db, "bianca").id
    assert (stored.status, stored.business_unit, stored.target_date) == (
        GoalStatus.ACTIVE,
        "E-commerce",
        date(2027, 9, 30),
    )
    assert "Grow basket size online" in at.dataframe[0].value["Goal"].tolist()
    assert at.subheader[0].value == md("Grow basket size online")  # its details are opened
    assert events(demo_db, "goal.create")[0].entity_id == str(stored.id)

    home = page(at, "home")
    assert f"**{md('Grow basket size online')}**" in markdown_bodies(home)
    assert home.metric[0].value == "4"
    assert ":material/person: Bianca Romero · E-commerce" in texts(home)


def test_an_admin_creates_a_goal_for_the_owner_they_choose(app, demo_db: Database) -> None:
    at = page(app("ada"), "goals")
    owner = widget(at.tabs[1], "selectbox", "Owner")
    assert owner.options == ["Bianca Romero", "Bruno Fischer", "Fatima Haddad"]  # business owners only
    fill_new_goal(at, {"Title": "Shorten checkout queues", "Owner": account(demo_db, "bruno").id})
    at = click(at, "Create goal")
    assert not at.exception
    assert goal_named(demo_db, "Shorten checkout queues").owner_name == "Bruno Fischer"


# -- bad input --------------------------------------------------------------------------------


def test_an_empty_title_is_refused_naming_the_field_and_the_draft_is_kept(app, demo_db: Database) -> None:
    at = page(app("bianca"), "goals")
    fill_new_goal(at, {"Title": "   ", "Value statement": "Worth a lot."})
    at = click(at, "Create goal")
    assert not at.exception
    assert [plain(e.value) for e in at.error] == ["Title is required."]
    assert len(goals.list_goals(demo_db)) == 3
    assert len(events(demo_db, "goal.create")) == 3  # the demo's own
    assert widget(at.tabs[1], "text_area", "Value statement").value == "Worth a lot."


def test_markup_and_script_in_a_title_are_shown_literally(app, demo_db: Database) -> None:
    title = '<script>alert("x")</script> <img src=x onerror=alert(1)> **big** [go](javascript:alert(1))'
    owner = account(demo_db, "bianca")
    goal = goals.create_goal(demo_db, owner, goals.GoalDraft(title=title))

    at = open_goal(app("bianca"), goal)
    assert not at.exception
    assert at.dataframe[0].value["Goal"].tolist().count(title) == 1  # verbatim in the table
    assert_shown_literally(at.subheader[0].value, title)  # escaped in the details
    home = page(at, "home")
    [card] = [m for m in home.markdown if "script" in m.value]
    assert_shown_literally(card.value, title)
    assert not any(m.proto.allow_html for m in (*at.markdown, *home.markdown))


def test_the_creation_notice_shows_the_title_literally(app) -> None:
    title = "**Win big** [claim](javascript:alert(1))"
    at = click(fill_new_goal(page(app("bianca"), "goals"), {"Title": title}), "Create goal")
    assert not at.exception
    assert_shown_literally(at.success[0].value, title)


def test_entity_references_in_a_title_are_shown_literally(app, demo_db: Database) -> None:
    title = "R&amp;D budget &lt;2 M"
    goal = goals.create_goal(demo_db, account(demo_db, "bianca"), goals.GoalDraft(title=title))
    at = open_goal(app("victor"), goal)
    assert_shown_literally(at.subheader[0].value, title)


def test_web_and_mail_addresses_in_a_goal_are_not_made_links(app, demo_db: Database) -> None:
    statement = "Sign up at www.greenway-offers.example or write to prizes@greenway-offers.example"
    draft = goals.GoalDraft(title="Phishing test", value_statement=statement)
    goal = goals.create_goal(demo_db, account(demo_db, "bianca"), draft)
    at = open_goal(app("victor"), goal)
    [shown] = [m.value for m in at.markdown if "Sign up" in m.value]
    assert_shown_literally(shown, statement)


# -- who may edit -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["victor", "dana", "kenji", "rita"])
def test_roles_without_goal_rights_read_goals_but_get_no_form(app, demo_db: Database, username: str) -> None:
    at = open_goal(app(username), goal_named(demo_db, CHURN))
    assert not at.exception
    assert labels(at, "tabs") == ["All goals"]
    assert at.subheader[0].value == md(CHURN)  # the details are there ...
    assert not at.expander  # ... but no "Edit this goal"
    assert "Title" not in labels(at, "text_input")
    assert not at.get("form")
    assert not labels(at, "button")


def test_a_business_owner_edits_their_own_goal(app, demo_db: Database) -> None:
    at = open_goal(app("bianca"), goal_named(demo_db, CHURN))
    [edit] = at.expander
    assert edit.label == "Edit this goal"
    assert "Owner" not in labels(edit, "selectbox")  # only admins reassign goals
    widget(edit, "text_input", "Title").set_value("Reduce loyalty churn by a point")
    widget(edit, "selectbox", "Status").set_value(GoalStatus.ON_HOLD)
    at = click(at, "Save changes")
    assert not at.exception
    assert "Goal saved." in [plain(s.value) for s in at.success]
    stored = goals.get_goal(demo_db, goal_named(demo_db, "Reduce loyalty churn by a point").id)
    assert (stored.status, stored.version, stored.updated_by_name) == (GoalStatus.ON_HOLD, 2, "Bianca Romero")
    assert at.subheader[0].value == md("Reduce loyalty churn by a point")


def test_a_business_owner_gets_no_form_for_another_owners_goal(app, demo_db: Database) -> None:
    at = open_goal(app("bianca"), goal_named(demo_db, WASTE))
    assert not at.exception
    assert at.subheader[0].value == md(WASTE)
    assert not at.expander
    assert "Save changes" not in labels(at, "button")


def test_an_admin_edits_any_goal_and_reassigns_it(app, demo_db: Database) -> None:
    at = open_goal(app("ada"), goal_named(demo_db, WASTE))
    [edit] = at.expander
    owner = widget(edit, "selectbox", "Owner")
    assert owner.value == account(demo_db, "bruno").id
    owner.set_value(account(demo_db, "fatima").id)
    widget(edit, "text_input", "Business unit").set_value("Finance · Shrinkage")
    at = click(at, "Save changes")
    assert not at.exception
    stored = goal_named(demo_db, WASTE)
    assert (stored.owner_name, stored.business_unit) == ("Fatima Haddad", "Finance · Shrinkage")
    [change] = events(demo_db, "goal.update")
    assert change.before == {
        "business_unit": "Fresh · Supply chain",
        "owner_id": account(demo_db, "bruno").id,
    }


def test_a_stale_edit_is_refused_and_the_other_change_survives(app, demo_db: Database) -> None:
    goal = goal_named(demo_db, CHURN)
    at = open_goal(app("bianca"), goal)  # Bianca opens the edit form at version 1 ...
    ada = account(demo_db, "ada")
    draft = goals.GoalDraft(title="Reduce churn (Ada's wording)", status=GoalStatus.ACTIVE)
    goals.update_goal(demo_db, ada, goal.id, goal.version, draft)  # ... Ada saves first

    widget(at.expander[0], "text_input", "Title").set_value("Reduce churn (Bianca's wording)")
    at = click(at, "Save changes")
    assert not at.exception
    [refusal] = at.expander[0].error  # shown in the edit form, beside the draft
    assert "changed by Ada Lindqvist at" in refusal.value
    assert "Nothing was saved" in refusal.value
    stored = goals.get_goal(demo_db, goal.id)
    assert (stored.title, stored.version) == ("Reduce churn (Ada's wording)", 2)

    at = click(at, "Load the latest version")
    assert not at.exception
    assert not at.error
    assert widget(at.expander[0], "text_input", "Title").value == "Reduce churn (Ada's wording)"
    widget(at.expander[0], "text_input", "Title").set_value("Reduce churn (agreed wording)")
    at = click(at, "Save changes")
    assert goals.get_goal(demo_db, goal.id).title == "Reduce churn (agreed wording)"


def test_a_refused_draft_stays_in_the_form_to_apply_again(app, demo_db: Database) -> None:
    """The refusal says "apply your change again": the change must still be there to apply."""
    goal = goal_named(demo_db, CHURN)
    at = open_goal(app("bianca"), goal)
    goals.update_goal(demo_db, account(demo_db, "ada"), goal.id, goal.version, goals.GoalDraft(title="Ada's"))
    widget(at.expander[0], "text_input", "Title").set_value("Bianca's")
    at = click(at, "Save changes")
    assert "changed by Ada Lindqvist" in at.expander[0].error[0].value
    assert widget(at.expander[0], "text_input", "Title").value == "Bianca's"


# -- browsing ---------------------------------------------------------------------------------


def test_search_and_status_filters_narrow_the_list(app) -> None:
    at = page(app("victor"), "goals")
    assert len(at.dataframe[0].value) == 3
    at = widget(at, "text_input", "Search").set_value("FRESH").run()
    assert at.dataframe[0].value["Goal"].tolist() == [WASTE]
    at = widget(at, "text_input", "Search").set_value("").run()
    at = widget(at, "multiselect", "Status").set_value([GoalStatus.DRAFT]).run()
    assert at.dataframe[0].value["Goal"].tolist() == ["Automate supplier invoice processing"]
    at = widget(at, "text_input", "Search").set_value("no such goal").run()
    assert at.dataframe[0].value.empty
    assert "No goal matches these filters." in texts(at)
