"""Settings, read from the environment (`CHARTER_…`) each time they are asked for: no global config."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from charter.core.errors import CharterError

_OWN_DATABASES = ("sqlite", "postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_", extra="ignore")

    database_url: str = "sqlite:///./charter.db"
    """Charter's own records: SQLite or PostgreSQL (MariaDB and MySQL are for the host's datasets only)."""
    keyring_file: Path = Path("./charter-keys.json")
    keyring: str | None = None
    """The keyring as JSON, for deployments that keep secrets in the environment instead of a file."""
    base_url: str = "http://127.0.0.1:8000"

    # Outgoing email. The defaults reach `charter devmail`, so a fresh checkout sends somewhere readable.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "no-reply@charter.localhost"
    """The envelope sender and From address; the display name is the controller's name."""
    outbox_worker: bool = True
    """Whether `charter serve` drains the outbox in-process."""
    outbox_interval: float = 2.0
    """Seconds between the in-process sender's passes over the outbox."""
    scheduler: bool = True
    """Whether `charter serve` runs the periodic jobs in-process: retention sweeps and notices that fall due."""
    retention_interval: float = 3600.0
    """Seconds between retention sweeps of every controller."""
    notices_interval: float = 60.0
    """Seconds between checks for notices that have fallen due (lifted disclosure restrictions, policy changes)."""

    # Data-subject request tasks.
    request_worker: bool = True
    """Whether `charter serve` runs request tasks in-process (ignored when a broker is configured)."""
    broker_url: str | None = None
    """`amqp://…` (RabbitMQ) or `redis://…`: `charter serve` sends tasks there, `charter worker` runs them."""
    queue_name: str = "charter"
    task_lease: float = 60.0
    """Seconds a running task is leased to its worker before the sweeper hands it out again."""
    sweep_interval: float = 5.0


    @field_validator("database_url")
    @classmethod
    def _own_database(cls, url: str) -> str:
        kind = url.split(":", 1)[0].split("+", 1)[0].lower()
        if kind not in _OWN_DATABASES:
            raise ValueError(
                f"it names a {kind!r} database, but Charter keeps its own records only in SQLite or PostgreSQL "
                "(MariaDB and MySQL serve the host's datasets in a data map, not Charter's own database)")
        return url


def load_settings() -> Settings:
    """The settings, or a `CharterError` naming the variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CHARTER_" + str(first["loc"][0]).upper() if first["loc"] else "CHARTER_…"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise CharterError(f"{name} is not usable: {reason}", field=name,
                           fix=_FIXES.get(name, f"Set {name} as the configuration table in README.md says.")) from None


_FIXES = {"CHARTER_DATABASE_URL": "Use sqlite:///./charter.db (the default) or postgresql://user@host/dbname."}
