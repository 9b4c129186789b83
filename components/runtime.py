"""Process-wide resources, built once per app process."""

from __future__ import annotations

import streamlit as st

from flightdeck.bootstrap import prepare
from flightdeck.core.config import load_settings
from flightdeck.core.db import Database


@st.cache_resource(show_spinner="Preparing the workspace…")
def database() -> Database:
    """Migrate (and on first start, seed the demo) once per process, then share the engine."""
    return prepare(load_settings())
