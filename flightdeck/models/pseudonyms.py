"""Pseudonymous subject keys: HMAC-SHA256 with a secret that never enters the database
(`[privacy] pseudonymisation_key` in the secrets file or FLIGHTDECK_PSEUDONYMISATION_KEY; otherwise
a random key created once in the data folder, readable by its owner only). Production must set the
secret, so that every app process and the command line derive the same pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from flightdeck.core.config import Settings

KEY_ENV = "FLIGHTDECK_PSEUDONYMISATION_KEY"
KEY_FILE = "pseudonymisation.key"


def pseudonymisation_key(settings: Settings) -> bytes:
    """The secret behind the pseudonyms: environment, then secrets file, then the data folder's
    key file, created on first use with owner-only permissions and reused ever after."""
    configured = os.environ.get(KEY_ENV) or settings.secrets.get("privacy", {}).get("pseudonymisation_key")
    if configured:
        return str(configured).encode()
    path = Path(settings.data_dir) / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it a moment ago
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    with os.fdopen(handle, "wb") as file:
        file.write(key)
    return key


def pseudonymise(secret: bytes, keys: Iterable[str]) -> list[str]:
    """HMAC-SHA256 of each subject key: stable for joining, meaningless without the secret."""
    return [hmac.new(secret, key.encode(), hashlib.sha256).hexdigest() for key in keys]
