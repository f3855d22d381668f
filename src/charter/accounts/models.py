from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class Role(StrEnum):
    """Least privilege first; each role can do everything the ones before it can."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class KeyKind(StrEnum):
    SECRET = "secret"  # noqa: S105 - a kind of key, not a key. Server side: full API for the controller
    PUBLISHABLE = "publishable"  # browser: the consent banner only


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("controller_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    totp_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    """The last TOTP time step accepted, so a code cannot be used twice."""
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AllowedOrigin(Base):
    """A web origin (`https://www.lubpur.com`) the controller's consent banner may call Charter from (CORS)."""

    __tablename__ = "allowed_origins"
    __table_args__ = (UniqueConstraint("controller_id", "origin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    origin: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
