"""What a classifier's decisions are worth: the goal's business owner states the money value of a
correct and a wrong decision, and the holdout turns it into the best threshold and its value."""

from __future__ import annotations

import streamlit as st

from components import model_data
from components import model_views as views
from components.feedback import act
from components.text import md, when
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, can
from flightdeck.models import registry
from flightdeck.models.evaluation import ErrorValues, value_curve
from flightdeck.models.records import Model, ModelVersion


def value_of_errors(db: Database, user: User, model: Model, version: ModelVersion) -> None:
    """The Value of errors tab: the value curve of `version`, and the form that states the values."""
    values = model.error_values
    if values is None:
        st.info(
            "The goal's business owner has not stated yet what a correct or wrong decision is worth.",
            icon=":material/payments:",
        )
    else:
        curve = value_curve(version.evaluation["thresholds"], values)
        cols = st.columns(3)
        cols[0].metric(
            "Best threshold",
            f"{curve.best_threshold:.2f}",
            border=True,
            help="Act on everyone scoring at least this.",
        )
        cols[1].metric(
            "Value per 1,000 decisions",
            views.money(curve.best_value, values.currency),
            delta=f"{views.money(curve.gain_over_baseline, values.currency)} against the baseline",
            border=True,
        )
        cols[2].metric(
            "Baseline per 1,000 decisions",
            views.money(curve.baseline_value, values.currency),
            border=True,
            help=f"A model that only knows the base rate can at best {curve.baseline_policy}.",
        )
        views.value_chart(curve, values)
        st.caption(
            "From the holdout's confusion counts at each threshold. Values per decision: "
            f"true positive {values.tp:,.2f}, false positive {values.fp:,.2f}, "
            f"false negative {values.fn:,.2f}, true negative {values.tn:,.2f} {values.currency}; "
            f"stated by {md(model.value_set_by_name)} on "
            f"{when(model.value_set_at)}."
        )
        if model.value_note:
            st.markdown(f"> {md(model.value_note)}")
    if can(user, "model.value", model.value_owner):
        with (
            st.expander("State the value of each decision", icon=":material/edit:", expanded=values is None),
            st.form("error_values"),
        ):
            st.caption("Money per decision; a cost is negative. E.g. a false positive costs an offer.")
            c = st.columns(5)
            tp = c[0].number_input("True positive", value=values.tp if values else 0.0, step=1.0)
            fp = c[1].number_input("False positive", value=values.fp if values else 0.0, step=1.0)
            fn = c[2].number_input("False negative", value=values.fn if values else 0.0, step=1.0)
            tn = c[3].number_input("True negative", value=values.tn if values else 0.0, step=1.0)
            currency = c[4].text_input("Currency", value=values.currency if values else "EUR", max_chars=3)
            note = st.text_area("Where the numbers come from", value=model.value_note, max_chars=2000)
            if st.form_submit_button("Save values", type="primary", icon=":material/save:"):
                act(
                    lambda: registry.set_error_values(
                        db,
                        user,
                        model.id,
                        model.version,
                        ErrorValues(tp, fp, fn, tn, currency.strip().upper()),
                        note,
                    ),
                    "Values saved.",
                    after=model_data.clear,
                )
    elif values is None:
        st.caption("Only the business owner of the goal (or an admin) states these values.")
