"""Security incidents: the record, the people affected, the notices drafted and sent, the filings with
regulators (LAN-BREACH, LUB-BREACH; PIPL art. 57, GB/T 35273 §10, GDPR arts. 33-34)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key (millions of people).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class Incident(Base):
    """What GB/T 35273 §10 asks to record: who found it, when, where, what data, how many people, which systems."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("controller_id", "reference"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    found_by: Mapped[str] = mapped_column(String(200))
    discovered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    occurred_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    occurred_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    location: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    """The policy's data categories involved."""
    systems: Mapped[list[str]] = mapped_column(JSON)
    """Data map systems, datasets or `dataset.collection` keys involved."""
    people_estimate: Mapped[int] = mapped_column(Integer)
    police_informed: Mapped[bool] = mapped_column(Boolean)
    police_reference: Mapped[str | None] = mapped_column(String(200), default=None)
    is_significant: Mapped[bool] = mapped_column(Boolean, default=False)
    """A significant (较大) incident or worse under the CAC reporting measures: the 4-hour clock runs."""
    is_critical_infrastructure: Mapped[bool] = mapped_column(Boolean, default=False)
    jurisdictions: Mapped[list[str]] = mapped_column(JSON)
    """The policy's jurisdictions when the incident was recorded: they set the clocks and the notice's contents."""
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.OPEN.value)
    affected_count: Mapped[int | None] = mapped_column(Integer, default=None)
    affected_resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    resolution: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    """How the affected people were found: per collection, rows read and identities found; what needs staff."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AffectedPerson(Base):
    """One way to reach one affected person (an email, a phone, an account), found in the host's stores.

    The value is encrypted and found by blind index, like a subject's identity; `subject_id` links it to the
    person Charter knows, when it does.
    """

    __tablename__ = "incident_affected"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "index_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    controller_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    index_hash: Mapped[str] = mapped_column(String(64))
    value_encrypted: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)


class IncidentNotice(Base):
    """A notice to the people affected: every element the controller's jurisdictions require, in zh and en."""

    __tablename__ = "incident_notices"
    __table_args__ = (Index("ix_incident_notices_incident_id", "incident_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    elements: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    """Element code → {"zh", "en", "zh_tw"?}."""
    channels: Mapped[list[str]] = mapped_column(JSON)
    announce: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.DRAFT.value)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_by: Mapped[str | None] = mapped_column(String(200), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    counts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    announcement_id: Mapped[str | None] = mapped_column(String(36), default=None)


class IncidentFiling(Base):
    """A report made to an authority, stopping one of the incident's clocks."""

    __tablename__ = "incident_filings"
    __table_args__ = (UniqueConstraint("incident_id", "clock"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    clock: Mapped[str] = mapped_column(String(64))
    authority: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200), default=None)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    filed_by: Mapped[str] = mapped_column(String(200))
