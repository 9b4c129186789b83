"""The owner a form assigns, offered to admins only: they may hand a goal, KPI or field to any
business owner."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from flightdeck.core.permissions import User


def owner_choice(owners: Sequence[User], *preferred: int | None) -> int:
    """An "Owner" selectbox over `owners`, starting at the first of `preferred` among them."""
    ids = [o.id for o in owners]
    names = {o.id: o.display_name for o in owners}
    current = next((p for p in preferred if p in ids), ids[0])
    return st.selectbox("Owner", ids, index=ids.index(current), format_func=names.__getitem__)
