"""Public announcements: one page per controller for notices that cannot reach everyone individually."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class AnnouncementKind(StrEnum):
    INCIDENT = "incident"
    POLICY_CHANGE = "policy_change"
    TRANSFER = "transfer"
    SHUTDOWN = "shutdown"
    NOTICE = "notice"


class Announcement(Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_controller_id_published_at", "controller_id", "published_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # {"zh": …, "en": …, "zh_tw": …}: published text, meant for everyone to read.
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[dict[str, str]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(100), default=None)
    """What it announces, e.g. `incident:<id>`."""
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200), default=None)
