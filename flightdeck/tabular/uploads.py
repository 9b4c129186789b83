"""Uploaded files before they are parsed: the size cap every upload meets first, and the sha256
that identifies a file loaded before."""

from __future__ import annotations

import hashlib
import os

from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, Problem

MAX_UPLOAD_ENV = "FLIGHTDECK_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 20


def max_upload_bytes(db: Database) -> int:
    """`FLIGHTDECK_MAX_UPLOAD_MB`, else `[ingest] max_upload_mb` in the secrets file, else 20 MB."""
    configured = os.environ.get(MAX_UPLOAD_ENV) or db.settings.secrets.get("ingest", {}).get("max_upload_mb")
    return int(float(configured or DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024)


def check_size(db: Database, size: int, file_name: str) -> None:
    """Refuse an oversized file before a byte of it is parsed."""
    cap = max_upload_bytes(db)
    if size > cap:
        raise InvalidInput(
            Problem(
                "file",
                f"'{file_name}' is {size / 1024 / 1024:.1f} MB; files are limited to "
                f"{cap / 1024 / 1024:.0f} MB. "
                "Split it by period, or load it with `python -m flightdeck ingest kpi` after raising "
                f"{MAX_UPLOAD_ENV}.",
            )
        )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
