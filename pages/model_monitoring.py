"""Model monitoring: is a production model still seeing what it was trained on, and is it still as
good as on its holdout? Drift is computed from counts kept at ingest, so a window of a million
logged predictions reads as fast as one of a thousand."""

import streamlit as st

from components import drift_views as views
from components import model_data
from components.guard import guard
from components.model_views import PLOT_CONFIG
from components.query_params import query_id
from components.runtime import database
from components.text import day, md
from flightdeck.models import monitoring

user = guard("model_monitoring")
st.title("Model monitoring", anchor=False)
db = database()


models = dict(monitoring.monitored_models(db))
if not models:
    st.info("No model is in production yet.", icon=":material/rocket_launch:")
    st.stop()
ids = list(models)
start = query_id("model", models) or ids[0]
left, right = st.columns([2, 1])
model_id = left.selectbox("Model", ids, index=ids.index(start), format_func=models.__getitem__)
st.query_params["model"] = str(model_id)
windows = monitoring.WINDOWS
window_days = (
    right.segmented_control(
        "Window", list(windows), default=30, format_func=windows.__getitem__, key="drift_window"
    )
    or 30
)
found = model_data.monitored(model_id, int(window_days), model_data.log_stamp(model_id))

drift = found.drift
if drift is None:
    st.info(
        f"{md(found.model_name)} {found.version_label} has no logged predictions yet.",
        icon=":material/query_stats:",
    )
else:
    st.caption(
        f"{md(found.model_name)} {found.version_label} · {windows[found.window_days].lower()} of logs, "
        f"{day(drift.window_start)} to {day(drift.window_end)}"
    )
    worst = drift.drifted
    if worst:
        names = ", ".join(f.feature for f in worst)
        st.error(f"Major drift in {md(names)}: the model sees inputs unlike its training data.",
                 icon=":material/warning:")  # fmt: skip
    else:
        st.success(
            "No feature has drifted past the major band in this window.", icon=":material/check_circle:"
        )
    st.subheader("Feature drift", anchor=False)
    views.drift_table(drift.features, drift.prediction)
    reference = model_data.profile(found.version_id) if found.version_id else {}
    choices = [f for f in drift.features if f.n and f.feature in reference]
    if choices:
        ranked = sorted(choices, key=lambda f: -f.psi.value)
        picked = st.selectbox("Feature to compare with the training data", [f.feature for f in ranked])
        entry = next(f for f in ranked if f.feature == picked)
        st.plotly_chart(views.shares_chart(entry, reference[picked]), width="stretch", config=PLOT_CONFIG)
    if not found.over_time.empty:
        st.plotly_chart(
            views.over_time_chart(found.over_time, found.window_days), width="stretch", config=PLOT_CONFIG
        )
        st.caption("The prediction line is the model's own output against its output on the holdout.")

st.subheader("Live performance against the holdout", anchor=False)
views.performance(found)
