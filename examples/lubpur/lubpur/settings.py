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
    # Charter, for step 2 (the SDK): where it runs and the controller's keys. Empty means "not connected".
    charter_url: str = ""
    charter_secret_key: str = ""
    charter_publishable_key: str = ""

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
        )
