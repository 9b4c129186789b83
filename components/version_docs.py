"""A version's documentation: what the reviewer reads. Its authors edit it while the version is a
draft, against a pinned base; once it leaves draft it is frozen."""

from __future__ import annotations

import streamlit as st

from components import model_data
from components import model_views as views
from components.edit_pin import EditPin
from components.text import day, md
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, can
from flightdeck.models import versioning
from flightdeck.models.records import ModelVersion

DOCS_PIN = EditPin("model_docs")


def documentation(db: Database, user: User, version: ModelVersion) -> None:
    """The Documentation tab: intended use, limitations, training facts, and the edit form."""
    st.markdown("**Intended use**")
    st.markdown(md(version.intended_use) if version.intended_use else "_Not written yet._")
    st.markdown("**Limitations**")
    st.markdown(md(version.limitations) if version.limitations else "_Not written yet._")
    cadence = f"every {version.refresh_days} days" if version.refresh_days else "not stated"
    st.markdown(
        f"**Training date** {day(version.training_date)}  \n**Refresh cadence** {cadence}  \n"
        f"**Training code and data** {md(version.training_reference or 'not stated')}  \n"
        f"**Target** {md(version.target)}"
        + (f" (positive class {md(version.positive_label)})" if version.positive_label else "")
    )
    if version.stage == "draft" and can(user, "model.evidence", version):
        base_doc = DOCS_PIN.base(version)
        with st.expander(
            "Edit the documentation", icon=":material/edit:", expanded=DOCS_PIN.is_stale(version.id)
        ):
            with st.form(DOCS_PIN.form_key(version)):
                docs = views.docs_form(DOCS_PIN.form_key(version), base_doc)
                saved = st.form_submit_button("Save documentation", type="primary", icon=":material/save:")
            if saved:
                DOCS_PIN.save(
                    version.id,
                    lambda: versioning.update_docs(db, user, version.id, base_doc.version, docs),
                    "Documentation saved.",
                    model_data.clear,
                )
            DOCS_PIN.show_refusal(version.id)
    elif version.stage != "draft":
        st.caption("The documentation is frozen since the version left draft: it is what the reviewer read.")
