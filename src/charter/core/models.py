"""The tenant root. Every other row belongs to exactly one controller."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class Controller(Base):
    __tablename__ = "controllers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The audit chain's head, so a deleted tail is detected as surely as a deleted middle.
    audit_head_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hash: Mapped[str] = mapped_column(String(80), default="")
    # Set when the controller ceases operations (LUB-SHUTDOWN): no new personal data is collected after it.
    collection_stopped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
