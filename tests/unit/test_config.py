from pathlib import Path

from flightdeck.core.config import load_settings, normalise_database_url


def test_defaults_to_sqlite_under_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings({"FLIGHTDECK_DATA_DIR": str(tmp_path)}, secrets_path=tmp_path / "none.toml")
    assert settings.database_url == f"sqlite:///{tmp_path / 'flightdeck.db'}"
    assert settings.is_sqlite
    assert settings.demo


def test_secrets_file_names_the_database_and_environment_wins(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[database]\nurl = "postgresql://app@db:5432/flightdeck"\n')
    from_file = load_settings({}, secrets_path=secrets)
    assert from_file.database_url == "postgresql+psycopg://app@db:5432/flightdeck"
    from_env = load_settings({"DATABASE_URL": "sqlite:////tmp/other.db"}, secrets_path=secrets)
    assert from_env.database_url == "sqlite:////tmp/other.db"


def test_demo_can_be_switched_off_for_production(tmp_path: Path) -> None:
    for off in ("0", "false", "no"):
        assert not load_settings({"FLIGHTDECK_DEMO": off}, secrets_path=tmp_path / "x").demo


def test_provider_style_postgres_urls_use_psycopg() -> None:
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"


def test_sso_is_offered_only_with_an_auth_section(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    assert not load_settings({}, secrets_path=secrets).sso_configured
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    assert load_settings({}, secrets_path=secrets).sso_configured
