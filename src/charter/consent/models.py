from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow
from charter.subjects.models import BigId


class EventAction(StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    GUARDIAN_GRANT = "guardian_grant"
    SUPERSEDE = "supersede"
    """A policy version needing fresh consent for the purpose took effect."""
    ACCEPT = "accept"
    """The person accepted the policy as a whole (LUB-ACCEPT), recorded under the purpose `WHOLE_POLICY`."""


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    ACCEPTED = "accepted"


STATUS_AFTER: dict[EventAction, ConsentStatus] = {
    EventAction.GRANT: ConsentStatus.GRANTED,
    EventAction.GUARDIAN_GRANT: ConsentStatus.GRANTED,
    EventAction.REFUSE: ConsentStatus.REFUSED,
    EventAction.WITHDRAW: ConsentStatus.WITHDRAWN,
    EventAction.EXPIRE: ConsentStatus.EXPIRED,
    EventAction.SUPERSEDE: ConsentStatus.SUPERSEDED,
    EventAction.ACCEPT: ConsentStatus.ACCEPTED,
}


class ConsentEvent(Base):
    """One entry of the consent ledger (ISO/IEC TS 27560 record fields). Inserted, never updated, except that
    erasing the subject clears `subject_id`, `salt`, `evidence_encrypted` and sets `erased_at`: the hash chain
    covers salted commitments of those, so the anonymised tombstone still verifies."""

    __tablename__ = "consent_events"
    __table_args__ = (
        UniqueConstraint("controller_id", "seq"),
        Index("ix_consent_events_controller_id_subject_id", "controller_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[str | None] = mapped_column(String(36))
    salt: Mapped[str | None] = mapped_column(String(32))
    subject_commitment: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64))
    consent_kind: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_hash: Mapped[str] = mapped_column(String(80))
    notice: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    gpc: Mapped[bool] = mapped_column(Boolean)
    request_id: Mapped[str | None] = mapped_column(String(100))
    evidence_encrypted: Mapped[str | None] = mapped_column(Text)
    evidence_commitment: Mapped[str] = mapped_column(String(80))
    guardian_record_id: Mapped[str | None] = mapped_column(String(36))
    guardian_commitment: Mapped[str | None] = mapped_column(String(80))
    linked_from: Mapped[str | None] = mapped_column(String(36))
    """The record this one carries over (a banner choice linked to the account at login)."""
    actor: Mapped[str] = mapped_column(String(200))
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(80))
    hash: Mapped[str] = mapped_column(String(80))


class ConsentState(Base):
    """The current state per (subject, purpose): a projection of the ledger, written with each event. Every event
    rewrites its row, so on PostgreSQL 30% of each page stays free for the new version (a HOT update: no new index
    entry; migration 0010)."""

    __tablename__ = "consent_states"
    __table_args__ = ({"postgresql_with": {"fillfactor": 70}},)

    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    consent_kind: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_hash: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    by_guardian: Mapped[bool] = mapped_column(Boolean)
    gpc: Mapped[bool] = mapped_column(Boolean)


class ConsentChainHead(Base):
    """The last event of each controller's ledger chain; appends lock it so the chain never forks."""

    __tablename__ = "consent_chain_heads"

    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(80))


class GuardianRecord(Base):
    """Who consented for a minor, how it was verified, and which rules were shown (PIPL art. 31; LUB-MINORS)."""

    __tablename__ = "guardian_records"
    __table_args__ = (
        Index("ix_guardian_records_controller_id_subject_id", "controller_id", "subject_id"),
        Index("ix_guardian_records_controller_id_contact_index", "controller_id", "contact_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    subject_id: Mapped[str | None] = mapped_column(String(36))
    # The guardian's name and contact, encrypted: personal data of an adult.
    details_encrypted: Mapped[str | None] = mapped_column(Text)
    relationship: Mapped[str] = mapped_column(String(32))
    verification_method: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rules_version: Mapped[str] = mapped_column(String(64))
    rules_hash: Mapped[str] = mapped_column(String(80))
    commitment: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    contact_index: Mapped[str | None] = mapped_column(String(64), default=None)
    """A keyed hash of the guardian's contact (email or phone), so a guardian signing in to the privacy centre
    finds the records naming them while the contact stays encrypted (`charter.consent.guardians`)."""
