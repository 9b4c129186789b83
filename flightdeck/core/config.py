"""Settings from the environment and `.streamlit/secrets.toml`.

The domain layer never imports Streamlit, so it reads the secrets file itself; the environment wins
over the file so that deployments and tests can override anything without touching disk.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


def _truthy(value: str) -> bool:
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


def read_secrets(path: Path = SECRETS_FILE) -> dict[str, Any]:
    """The parsed secrets file, or an empty dict when there is none."""
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    demo: bool = True
    idle_timeout_minutes: int = 30
    session_lifetime_hours: int = 12
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    secrets: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sso_configured(self) -> bool:
        return bool(self.secrets.get("auth"))


def load_settings(environ: dict[str, str] | None = None, secrets_path: Path = SECRETS_FILE) -> Settings:
    env = dict(os.environ if environ is None else environ)
    secrets = read_secrets(secrets_path)
    data_dir = Path(env.get("FLIGHTDECK_DATA_DIR") or PROJECT_ROOT / "data")
    url = env.get("DATABASE_URL") or secrets.get("database", {}).get("url")
    if not url:
        url = f"sqlite:///{data_dir / 'flightdeck.db'}"
    return Settings(
        database_url=normalise_database_url(url),
        data_dir=data_dir,
        demo=_truthy(env.get("FLIGHTDECK_DEMO", "1")),
        idle_timeout_minutes=int(env.get("FLIGHTDECK_IDLE_TIMEOUT_MINUTES", "30")),
        session_lifetime_hours=int(env.get("FLIGHTDECK_SESSION_LIFETIME_HOURS", "12")),
        secrets=secrets,
    )


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` forms hosting providers hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
