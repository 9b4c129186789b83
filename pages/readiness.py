"""Readiness of one model version (?version=ID): the headline and level, the six dimensions, every
check with its evidence and who can fix it, next steps in plain words, attestations, the history of
the score, and the reviewer's override of the production gate."""

import streamlit as st

from components import feedback, session
from components import readiness_views as views
from components.guard import guard
from components.model_views import model_link, stage_badge
from components.navigation import BY_KEY
from components.runtime import database
from components.text import md, when
from flightdeck.core.errors import FlightdeckError
from flightdeck.core.permissions import can
from flightdeck.models import registry
from flightdeck.readiness import attestations, gate, snapshots
from flightdeck.readiness.rubric import CHECKS_BY_ID, NOT_APPLICABLE, PRODUCTION_READY, RUBRIC_VERSION

user = guard("readiness")
db = database()
st.page_link(BY_KEY["portfolio"].path, label="Readiness portfolio", icon=":material/arrow_back:")

wanted = st.query_params.get("version")
version_id = int(wanted) if wanted and wanted.isdigit() else None
try:
    r = snapshots.current(db, version_id) if version_id is not None else None
except FlightdeckError:
    r = None
if r is None:
    st.title("Readiness", anchor=False)
    if wanted:
        st.warning(f"There is no model version {md(wanted)}; choose one below.", icon=":material/search_off:")
    models = registry.list_models(db)
    names = {m.id: m.name for m in models}
    model_id = st.selectbox(
        "Model", list(names), index=None, format_func=names.__getitem__, placeholder="Choose a model"
    )
    if model_id is not None:
        versions = {
            v.id: f"v{v.number} · {v.stage.replace('_', ' ')}" for v in registry.list_versions(db, model_id)
        }
        picked = st.selectbox("Version", list(versions), index=None, format_func=versions.__getitem__)
        if picked is not None:
            st.query_params["version"] = str(picked)
            st.rerun()
    st.stop()

e = r.evidence
st.title(f"Readiness of {md(e.label)}", anchor=False)
st.caption(
    f":material/flag: {md(e.goal_title)} · business owner {md(e.goal_owner_name)} · "
    f"rubric {RUBRIC_VERSION} · the headline is the lowest of the six dimensions: the weakest area decides."
)
session.show_flash()
left, right = st.columns([2, 3])
with left:
    stage_badge(e.stage)
    views.level_badge(r.score.level)
    views.gauge(r)
    st.metric("Mean of the six dimensions", f"{r.score.mean:.0f} / 100")
    model_link(e.model_id, "Open the model", e.number)
with right:
    views.dimension_chart(r)

st.subheader("Next steps", anchor=False)
st.caption("Ordered by how much each raises the headline; blockers keep a version from any pilot.")
views.next_steps(r.next_steps)

st.subheader("Checks", anchor=False)
views.checks_by_dimension(r)


attestable = [
    c
    for c in CHECKS_BY_ID.values()
    if attestations.may_attest(user, c, e.owner_ids) and r.statuses[c.id] != NOT_APPLICABLE
]
if attestable:
    st.subheader("Attest a check", anchor=False)
    open_first = sorted(attestable, key=lambda c: r.statuses[c.id] == "pass")
    with st.form("attest", clear_on_submit=True):
        check_id = st.selectbox(
            "Check",
            [c.id for c in open_first],
            format_func=lambda c: f"{CHECKS_BY_ID[c].title} · now {r.statuses[c].replace('_', ' ')}",
        )
        note = st.text_area(
            "What you checked", max_chars=attestations.NOTE_LIMIT, help="Required: it goes on the record."
        )
        link = st.text_input("Link (optional)", max_chars=500, placeholder="https://…")
        st.caption(f"Attestations hold for {md(e.label)} only: a new version starts without them.")
        if st.form_submit_button("Attest", type="primary", icon=":material/verified:"):
            feedback.act(
                lambda: attestations.attest(db, user, e.version_id, check_id, note, link),
                f"“{CHECKS_BY_ID[check_id].title}” attested for {e.label}.",
            )

mine = [x.attestation for x in r.results if x.attestation is not None]
if mine:
    with st.expander(f"Attestations of this version ({len(mine)})", icon=":material/verified:"):
        for a in mine:
            cols = st.columns([5, 1], vertical_alignment="center")
            link = f" · {md(a.link)}" if a.link else ""
            title = md(CHECKS_BY_ID[a.check_id].title)
            cols[0].markdown(f"**{title}** — {md(a.by_name)}, {when(a.at)}: {md(a.note)}{link}")
            may = user.id == a.by_id or bool(user.roles & attestations.ANYWHERE)
            if may and cols[1].button("Withdraw", key=f"withdraw_{a.id}", icon=":material/undo:"):
                feedback.act(lambda a=a: attestations.withdraw(db, user, a.id), "Attestation withdrawn.")

if e.stage == "approved":
    st.subheader("Production gate", anchor=False)
    if r.score.level == PRODUCTION_READY:
        st.success(
            "Production-ready: an author can promote it on the model page.", icon=":material/rocket_launch:"
        )
    else:
        st.warning(
            f"{r.score.level_label}: promotion to production needs a reviewer's override with a reason.",
            icon=":material/gpp_maybe:",
        )
        if can(user, "readiness.override") and user.id not in e.owner_ids:
            with st.form("override"):
                reason = st.text_area("Reason for the override", max_chars=gate.REASON_LIMIT)
                if st.form_submit_button("Record override", icon=":material/gavel:"):
                    feedback.act(
                        lambda: gate.record_override(db, user, e.version_id, reason),
                        "Override recorded: an author can now promote this version once.",
                    )
for o in gate.overrides(db, e.version_id):
    used = f", used {when(o.used_at)}" if o.used_at else ", not used yet"
    st.info(
        f"Override by {md(o.by_name)} on {when(o.at)} at {o.headline:.0f}/100{used}: {md(o.reason)}",
        icon=":material/gavel:",
    )

st.subheader("History", anchor=False)
history = snapshots.history(db, e.version_id)
views.history_chart(history)
with st.expander("Every change of the score"):
    st.dataframe(views.history_table(history), hide_index=True, width="stretch")
