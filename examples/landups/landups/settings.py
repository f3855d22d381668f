"""Settings from the environment (`LANDUPS_*`), read once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_POLICY = HERE.parent / "policy.yaml"


def normalise_database_url(url: str) -> str:
    """`mysql://` and `mariadb://` use the bundled PyMySQL driver and utf8mb4, so Chinese text round-trips."""
    for prefix in ("mysql://", "mariadb://", "mariadb+pymysql://"):
        if url.startswith(prefix):
            url = "mysql+pymysql://" + url[len(prefix):]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./landups.db"
    data_dir: Path = Path("landups-data")
    file_key: str | None = None
    field_key: str | None = None
    cookie_secure: bool = True
    max_photo_bytes: int = 5 * 1024 * 1024
    policy_path: Path = DEFAULT_POLICY
    charter_url: str | None = None
    charter_secret_key: str | None = None
    charter_publishable_key: str | None = None
    charter_controller: str = "landups"
    charter_webhook_key: str | None = None
    charter_delivery_seconds: float = 30.0
    base_url: str = "http://127.0.0.1:8200"
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "surveys@landups.example"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "landups-keys.json"

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "id-photos"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=normalise_database_url(env.get("LANDUPS_DATABASE_URL") or cls.database_url),
            data_dir=Path(env.get("LANDUPS_DATA_DIR") or cls.data_dir),
            file_key=env.get("LANDUPS_FILE_KEY") or None,
            field_key=env.get("LANDUPS_FIELD_KEY") or None,
            cookie_secure=_flag(env.get("LANDUPS_COOKIE_SECURE"), default=True),
            max_photo_bytes=int(env.get("LANDUPS_MAX_PHOTO_BYTES") or cls.max_photo_bytes),
            policy_path=Path(env.get("LANDUPS_POLICY") or DEFAULT_POLICY),
            charter_url=env.get("LANDUPS_CHARTER_URL") or None,
            charter_secret_key=env.get("LANDUPS_CHARTER_SECRET_KEY") or None,
            charter_publishable_key=env.get("LANDUPS_CHARTER_PUBLISHABLE_KEY") or None,
            charter_controller=env.get("LANDUPS_CHARTER_CONTROLLER") or cls.charter_controller,
            charter_webhook_key=env.get("LANDUPS_CHARTER_WEBHOOK_KEY") or None,
            charter_delivery_seconds=float(env.get("LANDUPS_CHARTER_DELIVERY_SECONDS") or cls.charter_delivery_seconds),
            base_url=(env.get("LANDUPS_BASE_URL") or cls.base_url).rstrip("/"),
            smtp_host=env.get("LANDUPS_SMTP_HOST") or None,
            smtp_port=int(env.get("LANDUPS_SMTP_PORT") or cls.smtp_port),
            mail_from=env.get("LANDUPS_MAIL_FROM") or cls.mail_from,
        )
