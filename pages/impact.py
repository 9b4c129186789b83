"""Business impact: is each production model moving its KPIs, by how much, and what is that worth?
One model at a time (the verdict, the KPI against what stands for 'without the model', the value
to date), then the money rolled up per goal and for the portfolio. Live: new KPI values or a new
deployment show up without a reload."""

import streamlit as st

from components import impact_data
from components import impact_views as views
from components.guard import guard
from components.query_params import query_id
from components.text import md

LIVE_SECONDS = 30

user = guard("impact")
st.title("Business impact", anchor=False)
st.caption(
    "Is the model moving the KPI, by how much, and what is it worth? Estimates come with 95% intervals; "
    "'inconclusive' means the data cannot yet tell an effect from noise."
)


found = impact_data.portfolio()
models = {i.model_id: i.model_name for g in found.goals for i in g.kpis}
if not models:
    st.info(
        "No model is in production yet: impact is measured from a model's go-live.",
        icon=":material/rocket_launch:",
    )
    st.stop()
ids = list(models)
start = query_id("model", models) or ids[0]
model_id = st.selectbox("Model", ids, index=ids.index(start), format_func=models.__getitem__)
st.query_params["model"] = str(model_id)


@st.fragment(run_every=LIVE_SECONDS)
def live(model_id: int) -> None:
    """Re-reads the stamp every LIVE_SECONDS: new observations redraw this part only."""
    items = [i for g in impact_data.portfolio().goals for i in g.kpis if i.model_id == model_id]
    if not items:
        st.info("This model left production.", icon=":material/archive:")
        return
    st.caption(f"{md(items[0].goal_title)} · {views.since_label(items[0].go_live)}")
    tabs = st.tabs([i.kpi_name for i in items]) if len(items) > 1 else [st.container()]
    for tab, item in zip(tabs, items, strict=True):
        with tab:
            views.kpi_section(item)
    with st.expander("Version changes", icon=":material/history:"):
        views.changes_table(items[0])


live(model_id)

st.subheader("Money by goal and for the portfolio", anchor=False)
views.portfolio_table(found)
