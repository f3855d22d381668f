from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class DataMapVersionRecord(Base):
    """A published data map version. Immutable: rows are inserted, never updated, so a request can name the exact
    map it ran against."""

    __tablename__ = "datamap_versions"
    __table_args__ = (
        UniqueConstraint("controller_id", "version"),
        UniqueConstraint("controller_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(80))
    policy_version: Mapped[str] = mapped_column(String(64))
    """The policy version the map was checked against when it was published."""
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200))
