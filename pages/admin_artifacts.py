"""Artifact allow-list: types trusted in model files beyond skops' defaults, and every stored
artifact with its integrity. Admins only; every change is audited."""

import pandas as pd
import streamlit as st

from components import session
from components.feedback import show_problems
from components.guard import guard
from components.row_picker import picked_row
from components.runtime import database
from components.text import md, when
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.models import artifacts

user = guard("admin_artifacts")
db = database()
st.title("Artifact allow-list", anchor=False)
st.caption(
    "Model files are loaded with skops: scikit-learn's own types are trusted by default, anything else "
    "only when it is listed here. A file with any other type is refused and the refusal names the type. "
    "Pickle and joblib files are never loaded."
)
session.show_flash()

trusted = artifacts.list_trusted_types(db)
st.subheader("Trusted types", anchor=False)
if trusted:
    row = picked_row(
        pd.DataFrame(
            {
                "Type": [t.type_name for t in trusted],
                "Why it is trusted": [t.reason for t in trusted],
                "Added by": [t.added_by_name for t in trusted],
                "Added": [when(t.added_at) for t in trusted],
            }
        ),
        "trusted_table",
    )
    if row is not None:
        chosen = trusted[row]
        st.warning(
            f"Withdrawing **{md(chosen.type_name)}** stops every model that needs it from loading "
            "until it is allowed again.",
            icon=":material/warning:",
        )
        if st.button("Withdraw this type", icon=":material/remove_moderator:"):
            try:
                artifacts.remove_trusted_type(db, user, chosen.id)
            except FlightdeckError as error:
                st.error(md(str(error)))
            else:
                session.flash("success", f"{chosen.type_name} withdrawn.")
                st.rerun()
else:
    st.info("Only scikit-learn's default types are trusted.", icon=":material/verified_user:")

with st.expander("Allow a type", icon=":material/add_moderator:", expanded=not trusted):
    with st.form("allow_type", clear_on_submit=False):
        type_name = st.text_input(
            "Fully qualified type",
            max_chars=255,
            placeholder="sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
            help="As the refusal message names it.",
        )
        reason = st.text_area("Why it is safe to load (your review)", max_chars=2000)
        submitted = st.form_submit_button("Allow", type="primary", icon=":material/add_moderator:")
    if submitted:
        try:
            added = artifacts.add_trusted_type(db, user, type_name, reason)
        except InvalidInput as invalid:
            show_problems(invalid)
        else:
            session.flash("success", f"{added.type_name} is now trusted.")
            st.rerun()

st.subheader("Stored artifacts", anchor=False)
stored = artifacts.list_artifacts(db)
st.caption(
    f"{len(stored)} artifacts, {artifacts.total_bytes(db) / 1024 / 1024:,.1f} MB, kept in the database by "
    f"sha256 so every app process reads the same bytes. Each load checks the hash again; "
    f"the upload limit is {artifacts.max_artifact_bytes(db) / 1024 / 1024:,.0f} MB."
)
if stored:
    checked = st.session_state.get("artifact_check")
    frame = pd.DataFrame(
        {
            "Used by": [", ".join(a.used_by) or "no version" for a in stored],
            "File": [a.file_name for a in stored],
            "Size (KB)": [round(a.size_bytes / 1024, 1) for a in stored],
            "Uploaded": [when(a.uploaded_at) for a in stored],
            "sha256": [a.sha256 for a in stored],
        }
    )
    if checked:
        frame["Integrity"] = ["intact" if checked.get(a.sha256) else "FAILED" for a in stored]
    st.dataframe(frame, hide_index=True, width="stretch")
    if st.button("Verify every artifact's hash", icon=":material/fact_check:"):
        with st.spinner("Hashing every stored artifact…"):
            st.session_state["artifact_check"] = {a.sha256: artifacts.verify(db, a.sha256) for a in stored}
        st.rerun()
    if checked and not all(checked.values()):
        st.error("Some artifacts no longer match their hash: they will not load.", icon=":material/gpp_bad:")
