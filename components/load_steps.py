"""Checking and loading one KPI file, and what came of it. The outcome is kept in the session with
the file's hash, so it stays on screen across reruns until another file is chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from components import kpi_data
from components.navigation import BY_KEY
from components.problem_report import problem_report
from components.text import md
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import User
from flightdeck.kpis import ingest, validation
from flightdeck.kpis.entities import Kpi
from flightdeck.tabular import formats

OUTCOME = "ingest_outcome"  # the last load's Outcome, kept across reruns


@dataclass(frozen=True)
class Outcome:
    digest: str  # of the file it belongs to: choosing another file hides it
    kind: str  # loaded, checked, duplicate, rejected
    payload: Any
    file_name: str


def show_outcome(digest: str, loadable: list[Kpi]) -> None:
    """The outcome of the last check or load of this file, if it was this file."""
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
    db: Database,
    user: User,
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
    """Check every row (`dry_run`) or load them, with a progress bar; keep the outcome."""
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
