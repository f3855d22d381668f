"""Settings, read from the environment (`CHARTER_…`) each time they are asked for: no global config."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_", extra="ignore")

    database_url: str = "sqlite:///./charter.db"
    keyring_file: Path = Path("./charter-keys.json")
    keyring: str | None = None
    """The keyring as JSON, for deployments that keep secrets in the environment instead of a file."""
    base_url: str = "http://127.0.0.1:8000"


def load_settings() -> Settings:
    return Settings()
