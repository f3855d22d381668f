"""Data-subject requests and what carrying one out leaves behind: the persisted tasks, the verification
challenge, held items, manual tasks for staff, notices to recipients, automated decisions and appeals.

Personal data (the contact address, a rectified value, retrieved rows, an appeal's text) is stored encrypted;
everything else here holds ids, kinds, codes and counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class RequestSettings(Base):
    """Per-controller choices: staff approval, the key hosts sign identity assertions with, and the webhook the
    host is told on to disable a cancelled account's login."""

    __tablename__ = "request_settings"

    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), primary_key=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    assertion_key_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    login_webhook_url: Mapped[str | None] = mapped_column(String(500), default=None)
    login_webhook_key_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataRequest(Base):
    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("controller_id", "reference"),
        Index("ix_requests_controller_id_status", "controller_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    reference: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)
    """None when the identity given is unknown: the request is answered as any other, and can never verify."""
    identity_kind: Mapped[str] = mapped_column(String(16))
    contact_channel: Mapped[str] = mapped_column(String(8))
    contact_encrypted: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    params_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    jurisdictions: Mapped[list[str]] = mapped_column(JSON)
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_rule: Mapped[str] = mapped_column(String(300))
    is_calendar_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_version: Mapped[str | None] = mapped_column(String(64), default=None)
    datamap_version: Mapped[str | None] = mapped_column(String(64), default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the token the verified person reads status and the bundle with."""
    verified_by: Mapped[str | None] = mapped_column(String(16), default=None)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    refusal_ground: Mapped[str | None] = mapped_column(String(64), default=None)
    refusal_note_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    late_reason_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    late_reason_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VerificationChallenge(Base):
    """A six-digit code, stored as a keyed hash, with its expiry, attempts and lockout."""

    __tablename__ = "request_challenges"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    sends: Mapped[int] = mapped_column(Integer, default=1)


class UsedAssertion(Base):
    """A host assertion already accepted: each is single use."""

    __tablename__ = "request_used_assertions"

    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RequestTask(Base):
    """One persisted step of a request. `spec` is the plan's task (no personal data); `record` says what it did
    (counts and field names); `result_encrypted` keeps retrieved rows or the keys later lookups need."""

    __tablename__ = "request_tasks"
    __table_args__ = (
        UniqueConstraint("request_id", "position"),
        Index("ix_request_tasks_status_enqueued_at", "status", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    position: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(24))
    collection: Mapped[str | None] = mapped_column(String(200), default=None)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    result_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(String(1000), default=None)


TASKS = cast(Table, RequestTask.__table__)
"""The tasks' table, for the runner's Core statements (no ORM unit of work around them)."""
REQUESTS = cast(Table, DataRequest.__table__)
"""The requests' table, likewise (a request's completion)."""


class HeldItem(Base):
    """Something erasure kept (a retention lock, a legal hold), told to the person with its reason."""

    __tablename__ = "request_held_items"
    __table_args__ = (UniqueConstraint("request_id", "collection", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    collection: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[dict[str, str]] = mapped_column(JSON)
    """The retention rule's reason in every language (`{"zh": …, "en": …}`)."""


class ManualTask(Base):
    """A store Charter cannot reach: staff act on the instructions and record that they did."""

    __tablename__ = "request_manual_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("request_tasks.id", ondelete="CASCADE"), unique=True)
    collection: Mapped[str | None] = mapped_column(String(200), default=None)
    operation: Mapped[str] = mapped_column(String(24))
    instructions: Mapped[dict[str, str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    completed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    rows_affected: Mapped[int | None] = mapped_column(Integer, default=None)


class RecipientNotice(Base):
    """A recipient told to erase or correct what it received; its acknowledgement is tracked."""

    __tablename__ = "request_recipient_notices"
    __table_args__ = (UniqueConstraint("request_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    recipient_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    categories: Mapped[list[str]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AutomatedDecision(Base):
    """A decision the host's software made about a person (LUB-AUTOMATED), reported with its inputs, the version
    of the logic and the outcome, so the person can be given a plain explanation and appeal to a person."""

    __tablename__ = "automated_decisions"
    __table_args__ = (Index("ix_automated_decisions_controller_id_subject_id", "controller_id", "subject_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    subject_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(64))
    logic_version: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(64))
    is_significant: Mapped[bool] = mapped_column(Boolean, default=True)
    details_encrypted: Mapped[str] = mapped_column(Text)
    """The inputs and the host's explanation (zh and en), as JSON."""
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(200))


class Appeal(Base):
    """A person asked for a human to review an automated decision; staff decide."""

    __tablename__ = "request_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), unique=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("automated_decisions.id"))
    statement_encrypted: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    resolution_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
