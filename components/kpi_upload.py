"""Uploading a KPI file: read it as declared, preview the first rows, say which column holds what,
then check every row or load it. The size is checked before a byte is parsed."""

from __future__ import annotations

import numpy as np
import streamlit as st

from components.load_steps import run_load, show_outcome
from components.problem_report import problem_report
from components.source_format import declared_format
from components.text import md, when
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import User
from flightdeck.kpis import ingest, validation
from flightdeck.kpis.entities import Kpi
from flightdeck.tabular import formats, uploads


def upload_file(db: Database, user: User, kpi: Kpi, loadable: list[Kpi]) -> None:
    """The "Upload a file" tab below the KPI choice; `loadable` are the KPIs this user loads."""
    cap_mb = uploads.max_upload_bytes(db) / 1024 / 1024
    upload = st.file_uploader(
        "CSV or Excel file",
        type=["csv", "txt", "xlsx"],
        max_upload_size=max(1, int(np.ceil(cap_mb))),
        help=f"At most {cap_mb:.0f} MB. Try the files in data/samples/.",
    )
    fmt = declared_format("upload")
    if upload is None:
        st.caption(
            "Files are read in the declared format: `DD.MM.YYYY`, `YYYYMMDD`, ISO or fiscal `YYYY/PPP` "
            "dates; decimal point or comma; thousands separators; trailing minus; UTF-8 (with or without "
            "BOM) or Latin-1; `;` or `,`. Row numbers in reports count the header as row 1, as a "
            "spreadsheet does."
        )
        return
    try:
        uploads.check_size(db, upload.size, upload.name)  # before a byte is parsed
        data = upload.getvalue()
        preview = ingest.preview(db, kpi.id, data, upload.name, fmt)
    except InvalidInput as invalid:
        problem_report(invalid, upload.name, "preview")
        return
    how = (
        "Excel workbook, first sheet"
        if preview.kind == "excel"
        else (
            f"{formats.ENCODINGS.get(preview.encoding, preview.encoding)}, "
            f"{formats.DELIMITERS.get(preview.delimiter, repr(preview.delimiter))}-separated"
        )
    )
    st.caption(f"**{md(upload.name)}** · {preview.size / 1024:,.0f} KB · {how} · the first rows as read:")
    st.dataframe(preview.head, hide_index=True, width="stretch", height=250)
    if preview.prior is not None:
        st.warning(
            f"This exact file was loaded into {md(kpi.name)} on {when(preview.prior.loaded_at)} by "
            f"{md(preview.prior.loaded_by_name)} (batch #{preview.prior.batch_id}).",
            icon=":material/content_copy:",
        )
    mapping = column_mapping(preview)
    left, middle, right = st.columns([1, 1, 2])
    if left.button("Check every row", icon=":material/fact_check:"):
        run_load(db, user, kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=True)
    if middle.button(
        "Load the file",
        type="primary",
        icon=":material/upload:",
        disabled=preview.prior is not None,
    ):
        run_load(db, user, kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=False)
    if preview.prior is not None and right.button("Load it again anyway", icon=":material/replay:"):
        run_load(db, user, kpi, data, upload.name, fmt, mapping, preview.sha256, dry_run=False, force=True)
    show_outcome(preview.sha256, loadable)


def column_mapping(preview: ingest.Preview) -> validation.ColumnMapping:
    """Which column holds what, starting from the suggested mapping."""
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
    return validation.ColumnMapping(period, value, segment, unit)
