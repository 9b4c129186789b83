"""Editing a model's name, description and the KPIs it should move, against a pinned base: a save
over someone else's keeps the draft and says who saved in between."""

from __future__ import annotations

import streamlit as st

from components import model_data
from components.edit_pin import EditPin
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.kpis import definitions
from flightdeck.models import records, registry

MODEL_PIN = EditPin("model")


def edit_model(db: Database, user: User, model: records.Model) -> None:
    """The "Edit model details" expander; the KPIs offered are those of the model's goal."""
    base = MODEL_PIN.base(model)
    with st.expander("Edit model details", icon=":material/edit:", expanded=MODEL_PIN.is_stale(model.id)):
        goal_kpis = {k.id: k.name for k in definitions.list_kpis(db) if k.goal_id == model.goal_id}
        with st.form(MODEL_PIN.form_key(model)):
            name = st.text_input("Name", value=base.name, max_chars=120)
            chosen_kpis = st.multiselect(
                "KPIs it should move",
                list(goal_kpis),
                default=[k for k in base.kpi_ids if k in goal_kpis],
                format_func=goal_kpis.__getitem__,
            )
            description = st.text_area("Description", value=base.description, max_chars=4000)
            saved = st.form_submit_button("Save model", type="primary", icon=":material/save:")
        if saved:
            draft = records.ModelDraft(
                base.key, name, base.goal_id, base.task, description, tuple(chosen_kpis)
            )
            MODEL_PIN.save(
                model.id,
                lambda: registry.update_model(db, user, model.id, base.version, draft),
                "Model saved.",
                model_data.clear,
            )
        MODEL_PIN.show_refusal(model.id)
