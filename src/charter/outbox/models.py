from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


class OutboxMessage(Base):
    """One message to one person. Recipient and content are encrypted; `last_error` never holds personal data."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("controller_id", "idempotency_key"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True,
                                                   default=None)
    channel: Mapped[str] = mapped_column(String(16))
    recipient_encrypted: Mapped[str] = mapped_column(Text)
    # Blind index of the normalised address: finds an address's messages and suppression without decrypting.
    recipient_index: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    # JSON of subject, text, html and headers; they carry codes, names and personal links.
    content_encrypted: Mapped[str] = mapped_column(Text)
    is_marketing: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # Keyed hash of what was asked for, so reusing a key for a different message is caught.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SuppressedAddress(Base):
    """An address that bounced: nothing more is sent to it until the suppression is cleared."""

    __tablename__ = "outbox_suppressions"
    __table_args__ = (UniqueConstraint("controller_id", "channel", "recipient_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient_index: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookEndpoint(Base):
    """Where a controller's SMS or push messages are POSTed, HMAC-signed with its own secret."""

    __tablename__ = "outbox_webhooks"

    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
