"""Settings from the environment (LUBPUR_*), with defaults that run on one machine with nothing else started."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy.yaml"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./lubpur.db"
    base_url: str = "http://127.0.0.1:8100"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    mail_from: str = "Lubpur 超润 <no-reply@lubpur.com>"
    # Signs nothing secret-bearing in cookies (session tokens are random and stored hashed); it keys the CSRF MAC.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    policy_file: Path = POLICY_FILE
    # Charter: where this server reaches it and the controller's keys. Empty `charter_url` means "not connected"
    # (LocalPrivacy). `charter_public_url` is where browsers reach it (banner, privacy centre) if that differs.
    charter_url: str = ""
    charter_secret_key: str = ""
    charter_publishable_key: str = ""
    charter_public_url: str = ""
    # The controller id in Charter; the policy's own by default.
    charter_controller: str = ""
    # The key Charter issued when its login webhook was pointed at `/charter/account-closed` (request settings);
    # empty: the webhook refuses every call and cancelled accounts are found by polling (lubpur.closures).
    charter_login_webhook_key: str = ""

    @property
    def is_charter_connected(self) -> bool:
        return bool(self.charter_url and self.charter_secret_key)

    @property
    def is_cookie_secure(self) -> bool:
        """Secure cookies everywhere but plain-http loopback development and tests."""
        return not self.base_url.startswith(("http://127.0.0.1", "http://localhost"))

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=_env("LUBPUR_DATABASE_URL", cls.database_url),
            base_url=_env("LUBPUR_BASE_URL", cls.base_url).rstrip("/"),
            smtp_host=_env("LUBPUR_SMTP_HOST", cls.smtp_host),
            smtp_port=int(_env("LUBPUR_SMTP_PORT", str(cls.smtp_port))),
            mail_from=_env("LUBPUR_MAIL_FROM", cls.mail_from),
            secret_key=_env("LUBPUR_SECRET_KEY", "") or secrets.token_hex(32),
            policy_file=Path(_env("LUBPUR_POLICY_FILE", str(POLICY_FILE))),
            charter_url=_env("LUBPUR_CHARTER_URL", ""),
            charter_secret_key=_env("LUBPUR_CHARTER_SECRET_KEY", ""),
            charter_publishable_key=_env("LUBPUR_CHARTER_PUBLISHABLE_KEY", ""),
            charter_public_url=_env("LUBPUR_CHARTER_PUBLIC_URL", ""),
            charter_controller=_env("LUBPUR_CHARTER_CONTROLLER", ""),
            charter_login_webhook_key=_env("LUBPUR_CHARTER_LOGIN_WEBHOOK_KEY", ""),
        )
