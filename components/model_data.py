"""Cached read models of the model pages. The registry's views are keyed by its stamp, so a change
from any process (another browser, the command line) shows on the next rerun, and nothing else
(a sign-in, an alert) empties them; what is read from the logs is keyed by the model's newest log
batch; a version's profile never changes once stored."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.runtime import database
from flightdeck.models import lifecycle, log_reports, model_card, monitoring, registry
from flightdeck.models.records import Model, ModelVersion


def stamp() -> registry.Stamp:
    return registry.data_stamp(database())


def log_stamp(model_id: int) -> int:
    return log_reports.data_stamp(database(), model_id)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def models(stamp_key: registry.Stamp) -> list[Model]:
    return registry.list_models(database())


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def pending_reviews(stamp_key: registry.Stamp) -> list[ModelVersion]:
    return lifecycle.pending_reviews(database())


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def model(model_id: int, stamp_key: registry.Stamp) -> tuple[Model, list[ModelVersion]]:
    """One model with its versions, newest first."""
    return registry.get_model(database(), model_id), registry.list_versions(database(), model_id)


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def versions(model_id: int, stamp_key: registry.Stamp) -> list[ModelVersion]:
    return registry.list_versions(database(), model_id)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def profile(version_id: int) -> dict:
    return registry.get_profile(database(), version_id)


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def card(model_id: int, number: int, stamp_key: registry.Stamp) -> model_card.ModelCard:
    return model_card.build(database(), model_id, number)


@st.cache_data(ttl=300, max_entries=40, show_spinner=False)
def monitored(model_id: int, window_days: int, log_stamp_key: int) -> monitoring.ModelMonitoring:
    return monitoring.monitoring_view(database(), model_id, window_days)


@st.cache_data(ttl=300, max_entries=30, show_spinner=False)
def log_overview(model_id: int, log_stamp_key: int) -> tuple[pd.DataFrame, log_reports.LivePerformance]:
    """Predictions per day and version, and live performance on the outcomes joined so far."""
    return log_reports.daily_volume(database(), model_id), log_reports.live_performance(database(), model_id)


@st.cache_data(ttl=300, max_entries=60, show_spinner=False)
def feature_trend(model_id: int, feature: str, log_stamp_key: int) -> pd.DataFrame:
    return log_reports.feature_daily(database(), model_id, feature)


def clear() -> None:
    """After a write in this process: the stamps move too; this frees the memory at once."""
    for cached in (models, pending_reviews, model, versions, card, monitored, log_overview, feature_trend):
        cached.clear()
