"""The disclosure log: which recipient received which categories of a person's data, and when (LAN-SHARE,
LAN-SCOPE). Erasure and rectification notify every recipient found here; access exports list them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class Disclosure(Base):
    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_controller_id_subject_id", "controller_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    subject_id: Mapped[str] = mapped_column(String(36))
    recipient_id: Mapped[str] = mapped_column(String(64))
    """A recipient of the policy in force when the disclosure was reported."""
    categories: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(64), default=None)
    policy_version: Mapped[str] = mapped_column(String(64))
    is_compelled: Mapped[bool] = mapped_column(Boolean, default=False)
    """Compelled by law, a court or an authority (LAN-LEGAL-DISCLOSURE)."""
    disclosed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(200))
