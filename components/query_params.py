"""Ids in the address: links and bookmarks carry them (?model=3&version=2), and an unknown or
mistyped one falls back to the page's default instead of failing."""

from __future__ import annotations

from collections.abc import Container

import streamlit as st


def query_id(name: str, known: Container[int]) -> int | None:
    """The whole number in query parameter `name` when it is one of `known`, else None."""
    value = st.query_params.get(name)
    return int(value) if value and value.isdigit() and int(value) in known else None
