"""The once-in-a-lifetime operations — a controller transfer, a compelled disclosure, ceasing operations, a
de-identified export — and the notices a policy change schedules. Each row is the operation's record: what was
decided, when each step happened, who did it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class ControllerTransfer(Base):
    """A merger, acquisition or asset transfer (LAN-MERGER, LUB-TRANSFER): people are told before the transfer,
    the new holder's undertaking is recorded, then the data is handed over — in that order."""

    __tablename__ = "controller_transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    new_holder: Mapped[str] = mapped_column(String(200))
    new_holder_contact: Mapped[str] = mapped_column(String(300))
    transfer_date: Mapped[dt.date] = mapped_column(Date)
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notice_counts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    announcement_id: Mapped[str | None] = mapped_column(String(36), default=None)
    undertaking: Mapped[str | None] = mapped_column(Text, default=None)
    undertaking_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    undertaking_signed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    undertaking_signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    handed_over_by: Mapped[str | None] = mapped_column(String(200), default=None)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CompelledDisclosure(Base):
    """Personal data given to an authority because the law compelled it (LAN-LEGAL-DISCLOSURE). The person is told
    promptly, unless a lawful restriction (with an expiry) defers the notice until it ends."""

    __tablename__ = "compelled_disclosures"
    __table_args__ = (Index("ix_compelled_disclosures_pending", "notified_at", "restricted_until"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(36))
    authority: Mapped[str] = mapped_column(String(200))
    grounds: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200), default=None)
    disclosed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    categories: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    restriction_basis: Mapped[str | None] = mapped_column(Text, default=None)
    restricted_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notice_counts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Shutdown(Base):
    """Ceasing operations (LUB-SHUTDOWN): collection stopped, everyone told or an announcement made, every dataset
    erased or anonymised, a closing report."""

    __tablename__ = "shutdowns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    stopped_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_day: Mapped[dt.date] = mapped_column(Date)
    """People are told their data is erased after this day."""
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notice_counts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    announcement_id: Mapped[str | None] = mapped_column(String(36), default=None)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    erasure_run_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_by: Mapped[str] = mapped_column(String(200))


class DeidentifiedExport(Base):
    """A de-identified export for analytics (LUB-USE, LUB-DEIDENTIFIED): which columns went, in what form."""

    __tablename__ = "deidentified_exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    collection: Mapped[str] = mapped_column(String(130))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    """Column → what was done to it: kept, dropped, generalised (how) or pseudonymised."""
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChangeStatus(StrEnum):
    SCHEDULED = "scheduled"
    NOTIFIED = "notified"
    EFFECTIVE = "effective"


class PolicyChange(Base):
    """A published version with a later effective date: people are told before it, consents renewed on it."""

    __tablename__ = "policy_changes"
    __table_args__ = (Index("ix_policy_changes_status_effective", "status", "effective"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    from_version: Mapped[str] = mapped_column(String(64))
    to_version: Mapped[str] = mapped_column(String(64))
    effective: Mapped[dt.date] = mapped_column(Date)
    is_material: Mapped[bool] = mapped_column(Boolean)
    needs_consent: Mapped[bool] = mapped_column(Boolean)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    """Purposes whose consents need renewal on the effective date."""
    summary: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    """The material changes, each {"zh", "en"}: what the email and the banner say."""
    status: Mapped[str] = mapped_column(String(16), default=ChangeStatus.SCHEDULED.value)
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notice_counts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    announcement_id: Mapped[str | None] = mapped_column(String(36), default=None)
    effective_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    renewals: Mapped[int | None] = mapped_column(Integer, default=None)
    """Consents moved to "needs re-consent" on the effective date."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
