"""A version's features in business terms: each mapped to a confirmed field of the data dictionary
(personal data flagged with its lawful basis), and the training data's distribution per feature,
the reference drift is measured against."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import model_data
from components import model_views as views
from components.feedback import act
from components.text import md
from flightdeck.business import dictionary
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, can
from flightdeck.models import model_card, versioning
from flightdeck.models.records import ModelVersion


def features(db: Database, user: User, version: ModelVersion) -> None:
    """The Features tab: what is unmapped or personal, the mapping, and the form that confirms it."""
    unmapped = version.unmapped
    if unmapped:
        st.warning(
            f"**Not mapped to a confirmed business field:** {md(', '.join(unmapped))}.",
            icon=":material/link_off:",
        )
    else:
        st.success("Every feature is mapped to a confirmed business field.", icon=":material/link:")
    for item in version.personal:
        st.error(
            f"**{md(item.feature)} is personal data** ({md(item.field_label)}); lawful basis: "
            f"{md(item.lawful_basis or 'none stated')}.",
            icon=":material/shield_person:",
        )
    st.dataframe(views.feature_table(version), hide_index=True, width="stretch")
    if not can(user, "model.evidence", version):
        return
    fields = dictionary.list_fields(db)
    ids = [None, *[f.id for f in fields]]
    labels = {f.id: f"{f.label} ({f.key})" + (" · personal data" if f.personal_data else "") for f in fields}
    with (
        st.expander("Confirm the mapping", icon=":material/link:", expanded=bool(unmapped)),
        st.form(f"mapping_{version.id}_{version.version}"),
    ):
        st.caption("Suggested by name; choose the field each feature means, or leave it unmapped.")
        chosen: dict[str, int | None] = {}
        for item in version.feature_maps:
            chosen[item.feature] = st.selectbox(
                item.feature,
                ids,
                index=ids.index(item.field_id) if item.field_id in ids else 0,
                format_func=lambda i: "— unmapped —" if i is None else labels[i],
                key=f"map_{version.id}_{item.feature}",
            )
        if st.form_submit_button("Confirm mapping", type="primary", icon=":material/check:"):
            act(
                lambda: versioning.confirm_features(db, user, version.id, version.version, chosen),
                "Feature mapping confirmed.",
                after=model_data.clear,
            )


def training_data(version: ModelVersion) -> None:
    """The Training data tab: a summary per feature, and the distribution of one."""
    profile = model_data.profile(version.id)
    st.caption(f"Reference distribution per feature, from the {model_card.profile_source(version)}.")
    rows = []
    for feature, entry in profile.items():
        if entry.get("kind") == "numeric" and not entry.get("empty"):
            q = entry["quantiles"]
            summary = f"p05 {q['p05']:,.2f} · median {q['p50']:,.2f} · p95 {q['p95']:,.2f}"
        else:
            top = sorted(entry.get("frequencies", {}).items(), key=lambda kv: -kv[1])[:3]
            summary = ", ".join(f"{k} {v:.0%}" for k, v in top)
        rows.append(
            {
                "Feature": feature,
                "Kind": entry.get("kind"),
                "Missing": entry.get("missing_share"),
                "Distribution": summary,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Missing": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)
        },
    )
    if profile:
        feature = st.selectbox("Show the distribution of", list(profile), key=f"profile_{version.id}")
        views.profile_chart(feature, profile[feature])
