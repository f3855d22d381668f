from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class PolicyVersionRecord(Base):
    """A published policy version. Immutable: rows are inserted, never updated."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("controller_id", "version"),
        UniqueConstraint("controller_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(80))
    effective: Mapped[dt.date] = mapped_column(Date)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200))
