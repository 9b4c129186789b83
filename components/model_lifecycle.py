"""The four-eyes lifecycle of a model: what this user may do with a version now (and why not when
they may not), which version served when, rolling back, and every stage change on the record."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from components import model_data
from components import model_views as views
from components.feedback import act
from components.text import day, md, when
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, can
from flightdeck.models import lifecycle
from flightdeck.models.records import STAGE_LABELS, Model, ModelVersion


def lifecycle_actions(db: Database, user: User, model: Model, v: ModelVersion) -> None:
    """Request review, approve or reject, promote, retire: as the stage and the user's roles allow."""
    author = user.id in v.author_ids
    if v.stage == "draft":
        if can(user, "model.evidence", v):
            with st.form(f"request_review_{v.id}", border=False):
                note = st.text_input("Note for the reviewer (optional)", max_chars=4000)
                if st.form_submit_button("Request review", type="primary", icon=":material/rate_review:"):
                    act(
                        lambda: lifecycle.request_review(db, user, v.id, note),
                        f"Review of v{v.number} requested.",
                        after=model_data.clear,
                    )
        else:
            st.caption("An author of this model requests review once the version is ready.")
    elif v.stage == "in_review":
        if can(user, "model.review") and author:
            st.warning(
                "You are an author of this model, so another reviewer must decide on it (four eyes).",
                icon=":material/group:",
            )
        elif can(user, "model.review"):
            with st.form(f"decide_{v.id}", border=False):
                rationale = st.text_area(
                    "Rationale", max_chars=4000, help="Required: it goes on the record with your decision."
                )
                left, right = st.columns(2)
                approve = left.form_submit_button("Approve", type="primary", icon=":material/task_alt:")
                reject = right.form_submit_button("Reject", icon=":material/undo:")
            if approve:
                act(
                    lambda: lifecycle.approve(db, user, v.id, rationale),
                    f"v{v.number} approved.",
                    after=model_data.clear,
                )
            if reject:
                act(
                    lambda: lifecycle.reject(db, user, v.id, rationale),
                    f"v{v.number} sent back to draft.",
                    after=model_data.clear,
                )
        else:
            st.caption("Waiting for a reviewer who is not an author of this model.")
    elif v.stage == "approved":
        if can(user, "model.deploy", v):
            with st.form(f"promote_{v.id}", border=False):
                scope = st.text_input("Scope", max_chars=120, placeholder="e.g. All regions, or Pilot: North")
                note = st.text_input("Note (optional)", max_chars=4000)
                live = model.production_number
                label = f"Promote to production (retires v{live})" if live else "Promote to production"
                if st.form_submit_button(label, type="primary", icon=":material/rocket_launch:"):
                    act(
                        lambda: lifecycle.promote(db, user, v.id, scope, note),
                        f"v{v.number} is in production.",
                        after=model_data.clear,
                    )
        else:
            st.caption("Approved. An author of the model (or an admin) promotes it to production.")
        st.caption(
            "Promotion needs the version to be Production-ready, or a reviewer's override recorded on its "
            "readiness page."
        )
    if v.stage in ("approved", "production") and can(user, "model.deploy", v):
        with (
            st.popover("Retire this version", icon=":material/archive:"),
            st.form(f"retire_{v.id}", border=False),
        ):
            why = st.text_area("Why", max_chars=4000)
            if st.form_submit_button("Retire", icon=":material/archive:"):
                act(
                    lambda: lifecycle.retire(db, user, v.id, why),
                    f"v{v.number} retired.",
                    after=model_data.clear,
                )


def production_history(db: Database, user: User, model: Model) -> None:
    """The Lifecycle tab: which version served when (asked for any day), rollback, stage history."""
    history = lifecycle.production_history(db, model.id)
    if history:
        views.timeline_chart(history, utcnow())
        ask = st.date_input("Which version was in production on", value=utcnow().date(), format="YYYY-MM-DD")
        if isinstance(ask, date):
            serving = next((d for d in reversed(history) if d.serving_at(lifecycle.end_of(ask))), None)
            if serving is None:
                st.markdown(f"On **{day(ask)}** no version of this model was in production.")
            else:
                scope = f" ({md(serving.scope)})" if serving.scope else ""
                st.markdown(
                    f"On **{day(ask)}**, **v{serving.version_number}** was in production{scope}, promoted by "
                    f"{md(serving.started_by_name)} on {when(serving.started_at)}."
                )
        if len(history) > 1 or any(d.ended_at for d in history):
            current = next((d for d in history if d.ended_at is None), None)
            earlier = [
                d
                for d in history
                if d.ended_at is not None and (current is None or d.version_id != current.version_id)
            ]
            if current and earlier and can(user, "model.deploy", model):
                with (
                    st.popover(f"Roll back to v{earlier[-1].version_number}", icon=":material/history:"),
                    st.form("rollback", border=False),
                ):
                    why = st.text_area("Why", max_chars=4000)
                    if st.form_submit_button("Roll back", type="primary"):
                        act(
                            lambda: lifecycle.rollback(db, user, model.id, why),
                            "Rolled back.",
                            after=model_data.clear,
                        )
    else:
        st.info("No version of this model has been in production yet.", icon=":material/rocket:")
    st.subheader("Stage history", anchor=False)
    events = lifecycle.stage_history(db, model.id)
    st.dataframe(
        pd.DataFrame(
            {
                "When": [when(e.at) for e in events],
                "Version": [f"v{e.version_number}" for e in events],
                "Change": [
                    f"{STAGE_LABELS.get(e.from_stage, 'Uploaded')} → {STAGE_LABELS[e.to_stage]}"
                    for e in events
                ],
                "By": [e.actor_name for e in events],
                "Rationale": [e.rationale for e in events],
            }
        ),
        hide_index=True,
        width="stretch",
    )
