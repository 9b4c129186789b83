"""Showing user-written text and times safely and consistently."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")
# The renderer turns bare addresses into links whatever is escaped (www.x, a@b.c, http://x), so
# an invisible word joiner (U+2060) goes where it would match.
_AUTOLINKS = re.compile(r"(?i)(@|://|(?<=www)\.)")
WORD_JOINER = "\u2060"


def md(text: str) -> str:
    """Escape user text for st.markdown, so it shows literally: no formatting, links, images or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _AUTOLINKS.sub(WORD_JOINER + r"\1", text))


def _zone() -> ZoneInfo | None:
    name = st.context.timezone
    try:
        return ZoneInfo(name) if name else None
    except ZoneInfoNotFoundError:
        return None


def when(moment: datetime | None) -> str:
    """A stored UTC time in the viewer's browser time zone, or in UTC when it is unknown."""
    if moment is None:
        return "—"
    zone = _zone()
    if zone is None:
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return "—" if value is None else f"{value:%d %b %Y}"
