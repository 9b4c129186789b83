"""The one clock: aware UTC. Times are stored in UTC and shown in UTC with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
