from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class WebSession(Base):
    """One signed-in browser. The cookie carries the token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """Whose session: `staff` (admin console); the privacy centre adds `person`."""
    principal: Mapped[str] = mapped_column(String(100), index=True)
    """Who, as an audit actor: `staff:12`."""
    stage: Mapped[str] = mapped_column(String(16))
    """How far sign-in got: a session is only trusted at `full`."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    idle_seconds: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
