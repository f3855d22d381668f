"""Legal holds and the record of each retention sweep."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class LegalHold(Base):
    """Deletion of what the hold covers is suspended until it expires or is released (LAN-RETENTION).

    It covers a dataset of the data map, or one collection of it, and optionally only one person's rows there.
    """

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_controller_id_expires_at", "controller_id", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    dataset: Mapped[str] = mapped_column(String(64))
    collection: Mapped[str | None] = mapped_column(String(64), default=None)
    # Not a foreign key: erasing the person must not silently lift a hold placed on their data.
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    released_by: Mapped[str | None] = mapped_column(String(200), default=None)


class RetentionRun(Base):
    """One sweep of one controller: what it erased per collection, what holds kept, what it could not do."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_controller_id_started_at", "controller_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    kind: Mapped[str] = mapped_column(String(16), default="sweep")
    """`sweep` (retention rules) or `shutdown` (every row of every dataset, on ceasing operations)."""
    is_dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    datamap_version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rows_deleted: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # Per collection: rule, status, counts, hold ids. Never personal data.
    outcomes: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(200))
