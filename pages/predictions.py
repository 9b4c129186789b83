"""Prediction logs: what production models were asked and answered, the outcomes that followed, and
how the live inputs compare with the training data."""

import pandas as pd
import streamlit as st

from components import model_data, session
from components.guard import guard
from components.log_upload import upload_outcomes, upload_predictions
from components.prediction_overview import overview
from components.query_params import query_id
from components.runtime import database
from components.text import when
from flightdeck.core.permissions import can
from flightdeck.models import log_reports

user = guard("predictions")
db = database()
st.title("Prediction logs", anchor=False)
st.caption(
    "Logs of what production models predicted, and the outcomes that followed. Subject keys are "
    "pseudonymised (keyed HMAC-SHA256) before anything is stored."
)
session.show_flash()

registry_stamp = model_data.stamp()
models = [m for m in model_data.models(registry_stamp) if m.versions]
if not models:
    st.info("No model has a version yet.", icon=":material/model_training:")
    st.stop()
ids = [m.id for m in models]
by_id = {m.id: m for m in models}
start = query_id("model", ids) or next((m.id for m in models if m.production_number), ids[0])
model_id = st.selectbox(
    "Model",
    ids,
    index=ids.index(start),
    format_func=lambda i: (
        by_id[i].name
        + (f" · v{by_id[i].production_number} in production" if by_id[i].production_number else "")
    ),
)
st.query_params["model"] = str(model_id)
model = by_id[model_id]
versions = model_data.versions(model_id, registry_stamp)
stamp = model_data.log_stamp(model_id)
may_load = can(user, "prediction.ingest", model)
names = ["Overview", "Loads"] + (["Upload predictions", "Upload outcomes"] if may_load else [])
tabs = dict(zip(names, st.tabs(names, key="predictions_tab", on_change="rerun"), strict=True))

with tabs["Overview"]:
    overview(model, versions, stamp)

with tabs["Loads"]:
    batches = log_reports.list_batches(db, model_id)
    if not batches:
        st.caption("Nothing loaded yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [b.id for b in batches],
                    "Kind": [b.kind for b in batches],
                    "Version": [f"v{b.version_number}" if b.version_number else "" for b in batches],
                    "File": [b.file_name for b in batches],
                    "Rows": [b.rows for b in batches],
                    "Joined": [b.matched if b.kind == "outcomes" else None for b in batches],
                    "From": [when(b.first_at) for b in batches],
                    "To": [when(b.last_at) for b in batches],
                    "Loaded by": [b.loaded_by_name for b in batches],
                    "Loaded": [when(b.loaded_at) for b in batches],
                }
            ),
            hide_index=True,
            width="stretch",
        )

if "Upload predictions" in tabs:
    with tabs["Upload predictions"]:
        upload_predictions(db, user, model, versions)
    with tabs["Upload outcomes"]:
        upload_outcomes(db, user, model)
elif not may_load:
    st.caption("Authors of this model (and admins) load its prediction logs and outcomes.")
