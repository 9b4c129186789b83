"""Load data: KPI values from CSV or Excel files in their production formats, typed in by hand, or
pulled from SQL sources; and the history of every load. One validation path for all of them:
every bad row is reported and nothing of a rejected load is stored."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.feedback import show_problems
from components.guard import guard
from components.navigation import BY_KEY
from components.problem_report import problem_report
from components.runtime import database
from components.text import md, when
from flightdeck.business.hierarchies import EXPERIMENT_ARMS
from flightdeck.core.errors import FlightdeckError, InvalidInput
from flightdeck.core.permissions import can
from flightdeck.kpis import ingest, sources, validation
from flightdeck.kpis.entities import LABELS, Kpi
from flightdeck.tabular import formats, uploads

OUTCOME = "ingest_outcome"  # the last load's Outcome, kept across reruns
EXAMPLE_QUERY = "SELECT day AS period, store AS segment, amount AS value\nFROM sales\nWHERE day > :since"
SOURCE_LABELS = {
    "upload": "Upload",
    "cli": "Command line",
    "sql": "SQL source",
    "manual": "By hand",
    "demo": "Demo",
}

user = guard("ingest")
db = database()
st.title("Load data", anchor=False)
st.caption(
    "Load KPI values as your systems export them. Each load is checked row by row and stored all or "
    "nothing; loading the same rows again changes nothing."
)
session.show_flash()

stamp = kpi_data.stamp()
loadable = [k for k in kpi_data.all_kpis(stamp) if not k.is_computed and can(user, "kpi.ingest", k)]
hierarchies = {h.id: h for h in kpi_data.hierarchies(stamp)}
cap_mb = uploads.max_upload_bytes(db) / 1024 / 1024
if not loadable:
    st.info(
        "You own no KPI that takes data. Define one on the KPIs page first.", icon=":material/account_tree:"
    )
    st.stop()
by_key = {k.key: k for k in loadable}


def choose_kpi(key: str) -> Kpi:
    keys = list(by_key)
    wanted = st.query_params.get("kpi")
    chosen = st.selectbox(
        "KPI",
        keys,
        index=keys.index(wanted) if wanted in by_key else 0,
        format_func=lambda k: f"{by_key[k].goal_title} · {by_key[k].name}",
        key=key,
    )
    kpi = by_key[chosen]
    hierarchy = hierarchies.get(kpi.hierarchy_id or 0)
    segments = (
        f"segments from {md(hierarchy.name)} or experiment arms"
        if hierarchy
        else "no segments but experiment arms"
    )
    st.caption(
        f"Unit **{md(kpi.unit)}** · {LABELS[kpi.frequency].lower()} (dates are moved to the start of their "
        f"{kpi.frequency}) · {segments} · combines as {LABELS[kpi.aggregation].lower()}"
    )
    return kpi


def declared_format(key: str) -> formats.SourceFormat:
    presets = list(formats.PRESETS)
    preset = st.selectbox(
        "Source format",
        presets,
        format_func=lambda p: formats.PRESETS[p][0],
        key=f"{key}_preset",
        help="How the source writes dates and numbers. Adjust the details below if it differs.",
    )
    base = formats.PRESETS[preset][1]
    with st.expander("Declared format", icon=":material/tune:"):
        a, b, c = st.columns(3)
        dates = list(formats.DATE_FORMATS)
        date_format = a.selectbox(
            "Dates",
            dates,
            index=dates.index(base.date_format),
            format_func=formats.DATE_FORMATS.get,
            key=f"{key}_d_{preset}",
        )
        decimals = list(formats.DECIMALS)
        decimal = b.selectbox(
            "Decimal separator",
            decimals,
            index=decimals.index(base.decimal),
            format_func=formats.DECIMALS.get,
            key=f"{key}_dec_{preset}",
        )
        thousands_options = list(formats.THOUSANDS)
        thousands = c.selectbox(
            "Thousands separator",
            thousands_options,
            index=thousands_options.index(base.thousands),
            format_func=lambda t: formats.THOUSANDS[t] if t else "none",
            key=f"{key}_th_{preset}",
        )
        d, e, f = st.columns(3)
        delimiters = list(formats.DELIMITERS)
        delimiter = d.selectbox(
            "Delimiter",
            delimiters,
            index=delimiters.index(base.delimiter),
            format_func=formats.DELIMITERS.get,
            key=f"{key}_del_{preset}",
        )
        encodings = list(formats.ENCODINGS)
        encoding = e.selectbox(
            "Encoding",
            encodings,
            index=encodings.index(base.encoding),
            format_func=formats.ENCODINGS.get,
            key=f"{key}_enc_{preset}",
        )
        fiscal = f.number_input(
            "Fiscal year starts in month", 1, 12, value=base.fiscal_year_start, key=f"{key}_fy_{preset}"
        )
        st.caption("Negative numbers may carry a leading minus or SAP's trailing minus (1.234,50-).")
    return formats.SourceFormat(date_format, decimal, thousands, encoding, delimiter, int(fiscal))


@dataclass(frozen=True)
class Outcome:
    digest: str  # of the file it belongs to: choosing another file hides it
    kind: str  # loaded, checked, duplicate, rejected
    payload: Any
    file_name: str


def show_outcome(digest: str) -> None:
    outcome: Outcome | None = st.session_state.get(OUTCOME)
    if outcome is None or outcome.digest != digest:
        return
    kind, payload = outcome.kind, outcome.payload
    if kind == "loaded":
        result: ingest.LoadResult = payload
        st.success(md(result.summary()), icon=":material/check_circle:")
        for alert in result.alerts:
            st.warning(md(alert), icon=":material/notifications_active:")
        key = next((k.key for k in loadable if k.id == result.kpi_id), None)
        if key:
            st.page_link(
                BY_KEY["monitor"].path,
                label="See it on KPI monitoring",
                icon=":material/monitoring:",
                query_params={"kpi": key},
            )
    elif kind == "checked":
        st.info(md(payload.summary()) + " Nothing was stored yet.", icon=":material/fact_check:")
    elif kind == "duplicate":
        st.warning(md(payload), icon=":material/content_copy:")
    else:
        problem_report(payload, outcome.file_name, "upload")


def run_load(
    kpi: Kpi,
    data: bytes,
    name: str,
    fmt: formats.SourceFormat,
    mapping: validation.ColumnMapping,
    digest: str,
    *,
    dry_run: bool,
    force: bool = False,
) -> None:
    verb = "Checking" if dry_run else "Loading"
    with st.status(f"{verb} {name}…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            result = ingest.load_file(
                db,
                user,
                kpi.id,
                data,
                name,
                fmt,
                mapping,
                dry_run=dry_run,
                force=force,
                progress=lambda fraction, message: bar.progress(min(fraction, 1.0), text=message),
            )
        except ingest.DuplicateFile as duplicate:
            st.session_state[OUTCOME] = Outcome(digest, "duplicate", str(duplicate), name)
            status.update(label="Already loaded", state="error", expanded=False)
        except InvalidInput as invalid:
            st.session_state[OUTCOME] = Outcome(digest, "rejected", invalid, name)
            status.update(label="Nothing was stored", state="error", expanded=False)
        else:
            st.session_state[OUTCOME] = Outcome(digest, "checked" if dry_run else "loaded", result, name)
            status.update(label="Checked" if dry_run else "Loaded", state="complete", expanded=False)
            if not dry_run:
                kpi_data.clear()


upload_tab, hand_tab, sql_tab, history_tab = st.tabs(
    ["Upload a file", "Enter values", "SQL sources", "Load history"]
)

with upload_tab:
    kpi = choose_kpi("upload_kpi")
    upload = st.file_uploader(
        "CSV or Excel file",
        type=["csv", "txt", "xlsx"],
        max_upload_size=max(1, int(np.ceil(cap_mb))),
        help=f"At most {cap_mb:.0f} MB. Try the files in data/samples/.",
    )
    fmt = declared_format("upload")
    if upload is not None:
        try:
            uploads.check_size(db, upload.size, upload.name)  # before a byte is parsed
            data = upload.getvalue()
            preview = ingest.preview(db, kpi.id, data, upload.name, fmt)
        except InvalidInput as invalid:
            problem_report(invalid, upload.name, "preview")
        else:
            how = (
                "Excel workbook, first sheet"
                if preview.kind == "excel"
                else (
                    f"{formats.ENCODINGS.get(preview.encoding, preview.encoding)}, "
                    f"{formats.DELIMITERS.get(preview.delimiter, repr(preview.delimiter))}-separated"
                )
            )
            st.caption(
                f"**{md(upload.name)}** · {preview.size / 1024:,.0f} KB · {how} · the first rows as read:"
            )
            st.dataframe(preview.head, hide_index=True, width="stretch", height=250)
            if preview.prior is not None:
                st.warning(
                    f"This exact file was loaded into {md(kpi.name)} on {when(preview.prior.loaded_at)} by "
                    f"{md(preview.prior.loaded_by_name)} (batch #{preview.prior.batch_id}).",
                    icon=":material/content_copy:",
                )
            columns = preview.columns
            optional = ["", *columns]
            # Widgets keyed by the file and how it was read: a new reading starts from new guesses.
            layout = uploads.sha256("\x1f".join([preview.sha256, *columns]).encode())[:16]
            st.markdown("**Which column holds what**")
            a, b, c, d = st.columns(4)
            period = a.selectbox(
                "Period", columns, index=columns.index(preview.mapping.period), key=f"map_p_{layout}"
            )
            value = b.selectbox(
                "Value",
                columns,
                index=columns.index(preview.mapping.value) if preview.mapping.value in columns else 0,
                key=f"map_v_{layout}",
            )
            segment = c.selectbox(
                "Segment (optional)",
                optional,
                index=optional.index(preview.mapping.segment),
                format_func=lambda x: x or "— whole business",
                key=f"map_s_{layout}",
            )
            unit = d.selectbox(
                "Unit (optional)",
                optional,
                index=optional.index(preview.mapping.unit),
                format_func=lambda x: x or "— not in the file",
                key=f"map_u_{layout}",
            )
            mapping = validation.ColumnMapping(period, value, segment, unit)
            left, middle, right = st.columns([1, 1, 2])
            if left.button("Check every row", icon=":material/fact_check:"):
                run_load(kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=True)
            if middle.button(
                "Load the file",
                type="primary",
                icon=":material/upload:",
                disabled=preview.prior is not None,
            ):
                run_load(kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=False)
            if preview.prior is not None and right.button("Load it again anyway", icon=":material/replay:"):
                run_load(kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=False, force=True)
            show_outcome(preview.sha256)
    else:
        st.caption(
            "Files are read in the declared format: `DD.MM.YYYY`, `YYYYMMDD`, ISO or fiscal `YYYY/PPP` "
            "dates; decimal point or comma; thousands separators; trailing minus; UTF-8 (with or without "
            "BOM) or Latin-1; `;` or `,`. Row numbers in reports count the header as row 1, as a "
            "spreadsheet does."
        )

with hand_tab:
    kpi = choose_kpi("hand_kpi")
    hierarchy = hierarchies.get(kpi.hierarchy_id or 0)
    codes = (
        ["", *EXPERIMENT_ARMS, *(n.code for n in hierarchy.nodes)] if hierarchy else ["", *EXPERIMENT_ARMS]
    )
    yesterday = date.today() - timedelta(days=1)
    edited = st.data_editor(
        pd.DataFrame({"Period": [yesterday], "Segment": [""], "Value": [None]}).astype({"Value": "float"}),
        num_rows="dynamic",
        width="stretch",
        key=f"hand_{kpi.id}",
        column_config={
            "Period": st.column_config.DateColumn(required=True, format="YYYY-MM-DD"),
            "Segment": st.column_config.SelectboxColumn(options=codes, help="Blank for the whole business."),
            "Value": st.column_config.NumberColumn(help=f"In {kpi.unit}."),
        },
    )
    st.caption(
        "One row per value; leave the segment empty for the whole business. Values go through the same "
        "checks as a file, and saving the same values again changes nothing."
    )
    if st.button("Save values", type="primary", icon=":material/save:", key="hand_save"):
        frame = edited.astype({"Period": object, "Segment": object, "Value": object}).reset_index(drop=True)
        frame["Segment"] = frame["Segment"].fillna("")
        try:
            mapping = validation.ColumnMapping("Period", "Value", "Segment")
            rows = np.arange(1, len(frame) + 1)
            origin = ingest.Origin("manual", "entered by hand")
            result = ingest.load_frame(db, user, kpi.id, frame, rows, mapping, formats.SourceFormat(), origin)
        except InvalidInput as invalid:
            problem_report(invalid, "entered values", "hand")
        else:
            kpi_data.clear()
            session.flash("success", result.summary())
            st.rerun()

with sql_tab:
    connections = sources.list_connections(db)
    queries = {q.kpi_id: q for q in sources.list_queries(db)}
    if queries:
        st.dataframe(
            pd.DataFrame(
                {
                    "KPI": [q.kpi_name for q in queries.values()],
                    "Connection": [q.connection_name for q in queries.values()],
                    "Last sync": [when(q.last_sync_at) for q in queries.values()],
                    "Outcome": [
                        ("✅ " if q.last_sync_ok else "❌ ") + q.last_sync_message
                        if q.last_sync_at
                        else "never synced"
                        for q in queries.values()
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption("`python -m flightdeck sync` pulls them all, e.g. from cron every hour.")
    kpi = choose_kpi("sql_kpi")
    query = queries.get(kpi.id)
    if not connections:
        st.info(
            "No SQL connection is named yet: an admin adds them on the SQL sources page.",
            icon=":material/database:",
        )
    else:
        ids = [c.id for c in connections]
        names = {c.id: c.name + ("" if c.configured else " (no URL configured)") for c in connections}
        with st.form(f"query_{kpi.id}_v{query.version if query else 0}", border=False):
            connection_id = st.selectbox(
                "Connection",
                ids,
                index=ids.index(query.connection_id) if query else 0,
                format_func=names.__getitem__,
            )
            text = st.text_area(
                "SELECT returning period, value and (optionally) segment",
                value=query.query if query else EXAMPLE_QUERY,
                height=140,
                help="Read-only, with the connection's timeout and row cap. `:since` is the latest period "
                "already loaded.",
            )
            dates = list(formats.DATE_FORMATS)
            current = query.fmt if query else formats.SourceFormat()
            date_format = st.selectbox(
                "If the period comes back as text, it is written as",
                dates,
                index=dates.index(current.date_format),
                format_func=formats.DATE_FORMATS.get,
            )
            if st.form_submit_button("Save query", icon=":material/save:"):
                try:
                    sources.attach_query(
                        db,
                        user,
                        kpi.id,
                        connection_id,
                        text,
                        current.with_(date_format=date_format),
                        query.version if query else None,
                    )
                except InvalidInput as invalid:
                    show_problems(invalid)
                except FlightdeckError as error:
                    st.error(md(str(error)), icon=":material/error:")
                else:
                    session.flash("success", f"Query saved for {kpi.name}.")
                    st.rerun()
        if query is not None and st.button("Sync now", type="primary", icon=":material/sync:"):
            failure = None
            with st.status(f"Syncing {kpi.name}…", expanded=True) as status:
                bar = st.progress(0.0)
                try:
                    outcome = sources.sync(
                        db, user, kpi.id, progress=lambda f, m: bar.progress(min(f, 1.0), text=m)
                    )
                except InvalidInput as invalid:
                    status.update(label="Nothing was stored", state="error", expanded=False)
                    failure = invalid
            if failure is None:
                kpi_data.clear()
                session.flash("success", f"{kpi.name}: {outcome.message}")
                st.rerun()
            problem_report(failure, f"{kpi.name} query", "sync")

with history_tab:
    batches = ingest.list_batches(db)
    if not batches:
        st.caption("Nothing has been loaded yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [b.id for b in batches],
                    "When": [when(b.loaded_at) for b in batches],
                    "KPI": [b.kpi_name for b in batches],
                    "How": [SOURCE_LABELS.get(b.source, b.source) for b in batches],
                    "File or query": [b.file_name for b in batches],
                    "Rows": [b.rows_total for b in batches],
                    "New": [b.rows_new for b in batches],
                    "Changed": [b.rows_changed for b in batches],
                    "Unchanged": [b.rows_unchanged for b in batches],
                    "Periods": [f"{b.period_min} – {b.period_max}" if b.period_min else "" for b in batches],
                    "By": [b.loaded_by_name for b in batches],
                }
            ),
            hide_index=True,
            width="stretch",
        )
