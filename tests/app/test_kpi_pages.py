"""The KPI pages for every role: KPIs and trees, business context, load data, KPI monitoring,
alerts and SQL sources. Each page is opened as a typed URL would open it."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from flightdeck.alerts import inbox
from flightdeck.business import dictionary, hierarchies
from flightdeck.core.db import Database
from flightdeck.kpis import definitions, sources
from flightdeck.kpis.series_reader import MAX_POINTS
from tests.app.conftest import click, events, labels, only_main_element, page, select_row, texts, widget

DEMO_USERS = ["ada", "bianca", "bruno", "fatima", "dana", "kenji", "rita", "victor"]
OWNERS = {"bianca", "bruno", "fatima"}
EVERYONE_PAGES = ["kpis", "context", "monitor", "alerts"]


def may_open(username: str, key: str) -> bool:
    """Stated independently of the permission map: loading data is for owners and admins,
    SQL connections for admins, the rest for everyone."""
    if key == "ingest":
        return username in OWNERS or username == "ada"
    if key == "admin_sources":
        return username == "ada"
    return True


@pytest.mark.parametrize("key", [*EVERYONE_PAGES, "ingest", "admin_sources"])
@pytest.mark.parametrize("username", DEMO_USERS)
def test_each_role_opens_the_kpi_pages_it_may_and_is_refused_the_others(
    app, demo_db: Database, username: str, key: str
) -> None:
    at = page(app(username), key)
    assert not at.exception
    if may_open(username, key):
        assert not at.error
        assert at.title[0].value
        assert not events(demo_db, "permission.denied")
    else:
        refusal = only_main_element(at)
        assert refusal.type == "error"
        assert refusal.value.startswith("**Not permitted.**")
        assert not at.dataframe
        [event] = events(demo_db, "permission.denied")
        assert event.entity_id == ("kpi.ingest" if key == "ingest" else "source.manage")


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


# -- KPI monitoring ----------------------------------------------------------------------------------


def test_the_invoice_owner_sees_her_kpi_off_track_with_the_rule_and_the_chart(app) -> None:
    at = page(app("fatima"), "monitor")
    assert widget(at, "selectbox", "KPI").value == "stp_rate"
    shown = texts(at)
    assert "Straight-through processing" in shown
    assert "is past the critical threshold 33.00%" in shown
    assert "Off track" in shown
    assert "behind the target trajectory" in shown
    assert "Off track**: past the critical threshold" in at.expander[0].markdown[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Latest 28 days"].endswith("%")
    assert metrics["Gap (EUR a year)"].startswith("−")
    [main, *others] = plotly_specs(at)
    assert main["layout"]["title"]["text"].endswith("actual against baseline and target trajectory")
    assert main["layout"]["yaxis"]["title"]["text"] == "Straight-through processing (%)"
    names = [trace["name"] for trace in main["data"]]
    assert any(n.startswith("Target trajectory to 60.00%") for n in names)
    assert "Critical threshold 33.00%" in names
    for spec in [main, *others]:
        assert all(len(trace["x"]) <= MAX_POINTS for trace in spec["data"])
    assert others[0]["layout"]["title"]["text"] == "Straight-through processing by region"
    assert len(at.get("graphviz_chart")) == 1


def test_the_churn_kpi_compares_its_experiment_arms(app) -> None:
    at = app("bianca")
    at.query_params["kpi"] = "member_churn_rate"
    at = page(at, "monitor")
    titles = [spec["layout"]["title"]["text"] for spec in plotly_specs(at)]
    assert "Experiment arms" in titles
    assert "Treatment minus control" in titles
    arms = next(s for s in plotly_specs(at) if s["layout"]["title"]["text"] == "Experiment arms")
    assert {t["name"] for t in arms["data"] if t.get("mode") == "lines"} == {"Treatment", "Control"}


def test_drilling_down_opens_a_region_and_returns(app) -> None:
    at = app("bruno")
    at.query_params["kpi"] = "fresh_waste_rate"
    at = page(at, "monitor")
    assert at.dataframe[0].value["Region"].tolist() == ["East", "North", "South", "West"]
    at = widget(at, "selectbox", "Open a region").set_value("N").run()
    assert at.dataframe[0].value["Store"].tolist()[0].startswith("N101")
    assert "All → N" in texts(at)
    at = click(at, "Up one level")
    assert at.dataframe[0].value["Region"].tolist()[0] == "East"


def test_grain_and_period_change_the_chart_and_live_mode_says_so(app) -> None:
    at = app("bruno")
    at.query_params["kpi"] = "fresh_waste_rate"
    at = page(at, "monitor")
    at = widget(at, "selectbox", "Grain").set_value("month").run()
    main = plotly_specs(at)[0]
    assert main["data"][0]["name"] == "Actual (monthly)"
    assert main["layout"]["xaxis"]["title"]["text"] == "Month"
    at = widget(at, "toggle", "Live").set_value(True).run()
    assert not at.exception
    assert "Live: checks for new values every 5 s" in texts(at)


def test_a_kpi_without_data_says_how_to_load_it(app) -> None:
    at = app("bianca")
    at.query_params["kpi"] = "member_basket_value"
    at = page(at, "monitor")
    assert "has no data yet" in texts(at)
    assert "python -m flightdeck ingest kpi member_basket_value FILE" in texts(at)
    assert not plotly_specs(at)


# -- KPIs and trees -------------------------------------------------------------------------------------


def test_an_owner_defines_a_kpi_on_her_goal(app, demo_db: Database) -> None:
    at = page(app("bianca"), "kpis")
    assert labels(at, "tabs") == ["KPI trees", "New KPI"]
    new = at.tabs[1]
    widget(new, "text_input", "Name").set_value("Coupon usage")
    widget(new, "text_input", "Key").set_value("coupon_usage")
    widget(new, "text_input", "Unit").set_value("%")
    at = click(at, "Create KPI")
    assert not at.exception
    assert "KPI “Coupon usage” created." in texts(at)
    created = definitions.get_kpi_by_key(demo_db, "coupon_usage")
    assert (created.owner_name, created.goal_title) == ("Bianca Romero", "Reduce loyalty-member churn")
    assert "Coupon usage" in at.dataframe[0].value["KPI"].str.strip().tolist()


def test_a_bad_kpi_is_explained_field_by_field_and_not_created(app, demo_db: Database) -> None:
    before = len(definitions.list_kpis(demo_db))
    at = page(app("bianca"), "kpis")
    widget(at.tabs[1], "text_input", "Key").set_value("Coupon Usage")
    at = click(at, "Create KPI")
    shown = texts(at)
    assert "Key must be snake_case" in shown
    assert "Name is required." in shown
    assert "Unit is required" in shown
    assert len(definitions.list_kpis(demo_db)) == before


def test_the_tree_table_opens_a_kpi_and_its_owner_edits_it(app, demo_db: Database) -> None:
    at = page(app("bruno"), "kpis")
    assert widget(at, "selectbox", "Goal").value == next(
        k.goal_id for k in definitions.list_kpis(demo_db) if k.key == "fresh_waste_rate"
    )
    table = at.dataframe[0].value
    assert table["KPI"].tolist()[0] == "Fresh waste rate"
    assert table["Status"].tolist()[0] == "On track"
    at = select_row(at, "kpi_table_" + str(widget(at, "selectbox", "Goal").value), 0)
    assert "Written-off value of fresh produce" in texts(at)
    assert "**Baseline** 4.80% in" in texts(at)
    form = at.expander[0]
    assert form.label == "Edit this KPI"
    widget(form, "number_input", "Target value").set_value(4.1)
    at = click(at, "Save changes")
    assert "saved" in texts(at)
    assert definitions.get_kpi_by_key(demo_db, "fresh_waste_rate").target_value == 4.1


def test_readers_see_the_trees_but_no_forms(app) -> None:
    at = page(app("victor"), "kpis")
    assert labels(at, "tabs") == ["KPI trees"]
    at = select_row(at, "kpi_table_" + str(widget(at, "selectbox", "Goal").value), 0)
    assert not [e for e in at.expander if e.label == "Edit this KPI"]
    assert not at.get("form")


# -- business context -----------------------------------------------------------------------------


def test_the_dictionary_is_searchable_and_an_owner_adds_a_field(app, demo_db: Database) -> None:
    at = page(app("bianca"), "context")
    assert "member_id" in at.dataframe[0].value["Key"].tolist()
    at = widget(at, "toggle", "Personal data only").set_value(True).run()
    assert at.dataframe[0].value["Key"].tolist() == ["member_id"]
    at = widget(at, "toggle", "Personal data only").set_value(False).run()
    adding = next(e for e in at.expander if e.label == "Add a field")
    widget(adding, "text_input", "Key").set_value("loyalty_tier")
    widget(adding, "text_input", "Label").set_value("Loyalty tier")
    widget(adding, "selectbox", "Type").set_value("code")
    widget(adding, "text_area", "Allowed codes").set_value("G=Gold\nS=Silver")
    at = click(at, "Add field")
    assert "Field loyalty_tier added." in texts(at)
    field = dictionary.get_field_by_key(demo_db, "loyalty_tier")
    assert [c.code for c in field.allowed_codes] == ["G", "S"]


def test_personal_data_without_a_lawful_basis_is_refused_in_the_form(app, demo_db: Database) -> None:
    at = page(app("bianca"), "context")
    adding = next(e for e in at.expander if e.label == "Add a field")
    widget(adding, "text_input", "Key").set_value("email")
    widget(adding, "text_input", "Label").set_value("E-mail")
    widget(adding, "checkbox", "Personal data").check()
    at = click(at, "Add field")
    assert "Personal data needs its lawful basis (GDPR Art. 6)." in texts(at)
    assert "email" not in [f.key for f in dictionary.list_fields(demo_db)]


def test_a_hierarchy_owner_moves_a_store(app, demo_db: Database) -> None:
    region_store = next(h for h in hierarchies.list_hierarchies(demo_db) if h.key == "region_store")
    at = page(app("bruno"), "context")
    at = widget(at, "selectbox", "Hierarchy").set_value(region_store.id).run()
    nodes = at.dataframe[1].value
    assert nodes["Level"].tolist()[:2] == ["Region", "Store"]
    editing = next(e for e in at.expander if e.label == "Add or change a node")
    widget(editing, "text_input", "Code").set_value("N106")
    widget(editing, "text_input", "Label").set_value("N106 Fairholt")
    widget(editing, "selectbox", "Parent").set_value("S")
    at = click(at, "Save node")
    assert "Node N106 saved." in texts(at)
    assert hierarchies.get_hierarchy(demo_db, region_store.id).node("N106").parent_code == "S"


def test_readers_get_no_context_forms(app) -> None:
    at = page(app("dana"), "context")
    assert not [
        e for e in at.expander if e.label in {"Add a field", "Import fields from CSV", "New hierarchy"}
    ]


# -- load data ---------------------------------------------------------------------------------------


def test_sync_now_pulls_todays_invoices_from_the_demo_erp(app, demo_db: Database) -> None:
    at = app("fatima")
    at.query_params["kpi"] = "invoices_received"
    at = page(at, "ingest")
    assert labels(at, "tabs") == ["Upload a file", "Enter values", "SQL sources", "Load history"]
    [queries] = [d.value for d in at.dataframe if "Connection" in d.value.columns]
    assert queries["Connection"].tolist() == ["greenway_erp", "greenway_erp"]
    at = click(at, "Sync now")
    assert not at.exception
    assert "4 rows checked: 4 new" in texts(at)
    [query] = [q for q in sources.list_queries(demo_db) if q.kpi_name == "Invoices received"]
    assert query.last_sync_ok


def test_a_query_that_writes_is_refused_in_the_form(app, demo_db: Database) -> None:
    at = app("fatima")
    at.query_params["kpi"] = "invoices_received"
    at = page(at, "ingest")
    widget(at, "text_area", "SELECT returning period, value and (optionally) segment").set_value(
        "DELETE FROM ap_invoices_daily"
    )
    at = click(at, "Save query")
    assert "sources are read-only" in texts(at)
    received = definitions.get_kpi_by_key(demo_db, "invoices_received")
    assert sources.get_query(demo_db, received.id).query.startswith("SELECT")


def test_an_owner_may_only_load_into_her_own_kpis(app) -> None:
    at = page(app("bruno"), "ingest")
    options = at.selectbox(key="upload_kpi").options
    assert len(options) == 4  # rate, written-off value, sales, stock corrections
    assert all(o.startswith("Cut fresh-produce waste") for o in options)


def test_the_load_history_lists_the_demo_loads(app) -> None:
    at = page(app("ada"), "ingest")
    history = at.dataframe[-1].value
    assert {"Demo"} == set(history["How"])
    assert "Fresh waste rate" in history["KPI"].tolist()


# -- alerts -------------------------------------------------------------------------------------------


def test_the_invoice_owner_acknowledges_her_alerts(app, demo_db: Database) -> None:
    at = page(app("fatima"), "alerts")
    table = at.dataframe[0].value
    assert table["Severity"].tolist() == ["Critical", "Critical"]
    assert all(m.startswith("Straight-through processing:") for m in table["Alert"])
    assert {m.label: m.value for m in at.metric}["Open"] == "2"
    at.session_state["alerts_table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at = at.run()
    at = click(at, "Acknowledge 2 alert(s)")
    assert "2 alert(s) acknowledged." in texts(at)
    assert {a.state for a in inbox.list_alerts(demo_db) if a.entity_type == "kpi"} == {"acknowledged"}
    assert len(events(demo_db, "alert.acknowledge")) == 2


def test_others_see_all_alerts_but_cannot_acknowledge_them(app, demo_db: Database) -> None:
    at = page(app("bruno"), "alerts")
    mine = at.dataframe[0].value  # "My goals" is an owner's default: his forecast's alerts, no invoices
    assert set(mine["Goal"]) == {"Cut fresh-produce waste"}
    victor = page(app("victor"), "alerts")
    every = victor.dataframe[0].value  # a viewer owns no goal: all goals
    assert len(every) > len(mine)
    assert "Automate supplier invoice processing" in set(every["Goal"])
    victor = select_row(victor, "alerts_table", 0)
    assert "Acknowledge" not in [b.label for b in victor.button]
    assert {a.state for a in inbox.list_alerts(demo_db)} == {"open"}


def test_admins_see_where_webhook_deliveries_stand(app) -> None:
    at = page(app("ada"), "alerts")
    webhook = next(e for e in at.expander if e.label == "Webhook delivery")
    assert "No webhook is configured" in webhook.markdown[0].value


# -- SQL sources ----------------------------------------------------------------------------------------


def test_an_admin_tests_and_adds_connections_without_ever_typing_a_url(app, demo_db: Database) -> None:
    at = page(app("ada"), "admin_sources")
    assert at.dataframe[0].value["URL"].tolist() == ["configured"]
    at = click(at, "Test connection")
    assert "Connected to sqlite read-only" in texts(at)
    adding = next(e for e in at.expander if e.label == "Add a connection")
    assert not [w for w in adding.text_input if "url" in w.label.lower()]
    widget(adding, "text_input", "Name").set_value("crm")
    at = click(at, "Add connection")
    assert "Configure its URL: FLIGHTDECK_SOURCE_CRM_URL." in texts(at)
    assert [c.name for c in sources.list_connections(demo_db)] == ["crm", "greenway_erp"]
    assert "NOT configured" in at.dataframe[0].value["URL"].tolist()
