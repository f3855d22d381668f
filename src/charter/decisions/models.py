from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base
from charter.subjects.models import BigId


class DecisionRecord(Base):
    """Decisions that allowed non-essential processing (or relied on a legal exception), written in batches off
    the request path. Identical decisions within one flush are one row with a count."""

    __tablename__ = "decision_log"
    __table_args__ = (Index("ix_decision_log_controller_id_last_at", "controller_id", "last_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    subject_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(100))
    recipient: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(16))
    exception: Mapped[str | None] = mapped_column(String(64))
    consent_record_id: Mapped[str | None] = mapped_column(String(36))
    """The ledger event the decision rested on: what proves it was lawful, even after erasure."""
    policy_hash: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
