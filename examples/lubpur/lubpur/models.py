"""Every table Lubpur keeps. Columns holding personal data are listed in `examples/lubpur/datamap.yaml`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lubpur.db import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str] = mapped_column(String(200), default="")
    company_address: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    wechat: Mapped[str] = mapped_column(String(64), default="")
    qq: Mapped[str] = mapped_column(String(20), default="")
    avatar: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    avatar_type: Mapped[str] = mapped_column(String(32), default="")
    # "adult" or "minor" (under the policy's age threshold). Only a minor's birth date is kept: it says when the
    # guardian's consent stops being needed. An adult's birth date is checked at registration and not stored.
    age_band: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # active | pending_guardian | suspended | cancelled (Charter closed the login: lubpur.closures)
    status: Mapped[str] = mapped_column(String(20), default="active")
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    policy_version: Mapped[str] = mapped_column(String(40))
    policy_accepted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    lang: Mapped[str] = mapped_column(String(8), default="zh-CN")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Charter's id for this person, set when the registration is delivered (lubpur.reports).
    charter_subject_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class GuardianConsent(Base):
    __tablename__ = "guardian_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    guardian_name: Mapped[str] = mapped_column(String(100))
    relationship: Mapped[str] = mapped_column(String(20))
    guardian_email: Mapped[str] = mapped_column(String(254), index=True)
    guardian_phone: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    confirm_ip: Mapped[str] = mapped_column(String(64), default="")
    confirm_user_agent: Mapped[str] = mapped_column(String(300), default="")


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginRecord(Base):
    __tablename__ = "login_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    brand: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(40))
    grade_system: Mapped[str] = mapped_column(String(16))
    base_oil: Mapped[str] = mapped_column(String(32))
    specs: Mapped[list[str]] = mapped_column(JSON)
    applications_zh: Mapped[str] = mapped_column(Text)
    applications_en: Mapped[str] = mapped_column(Text)
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    packaging: Mapped[list[str]] = mapped_column(JSON)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text)


class Favourite(Base):
    __tablename__ = "favourites"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Footprint(Base):
    """我的足迹: one row per person and product, with the last view and how many views."""

    __tablename__ = "footprints"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    views: Mapped[int] = mapped_column(Integer, default=1)
    last_viewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Download(Base):
    """A data-sheet download; anonymous downloads carry no user (they are only counted)."""

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PurchaseRequest(Base):
    """采购留言. The contact may be someone other than the user (LUB-THIRD-PARTY-INFO): then the user's
    attestation that the person authorised it is recorded, and the contact's email and phone stay searchable so
    that person can reach this record through their own request."""

    __tablename__ = "purchase_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), nullable=True)
    product_text: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    delivery_city: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32), index=True)
    contact_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    contact_company: Mapped[str] = mapped_column(String(200), default="")
    is_contact_third_party: Mapped[bool] = mapped_column(Boolean, default=False)
    third_party_attested_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # submitted | quoted | closed
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    staff_reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    # open | answered | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ConsultationMessage(Base):
    __tablename__ = "consultation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    # "user" or "staff"
    sender: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PointsTransaction(Base):
    """积分流水: every change to a user's points, with the balance after it."""

    __tablename__ = "points_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Subscription(Base):
    """An email subscription: pending until the address confirms (double opt-in). Deleted on unsubscribe."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    lang: Mapped[str] = mapped_column(String(8))
    # pending | active
    status: Mapped[str] = mapped_column(String(16), default="pending")
    confirm_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Carried in every newsletter's unsubscribe and stop-tracking links (it can do nothing else), so kept as is.
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Newsletter(Base):
    __tablename__ = "newsletters"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_zh: Mapped[str] = mapped_column(String(200))
    subject_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    # Paths on this site the issue links to (product pages, the catalogue); each becomes a click-tracked link only
    # for readers who allow tracking.
    links: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class NewsletterDelivery(Base):
    __tablename__ = "newsletter_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    # Set only when tracking was allowed for this delivery: the pixel and redirect links carry it.
    tracking_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EmailTrackingEvent(Base):
    __tablename__ = "email_tracking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("newsletter_deliveries.id", ondelete="CASCADE"), index=True)
    # open | click
    kind: Mapped[str] = mapped_column(String(8))
    link: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ConsentChoice(Base):
    """What a person said on this platform about a purpose (append-only). Delivered to Charter's ledger after
    commit (`reported_at`); without Charter (LocalPrivacy) the latest row is the platform's own record of consent,
    and nothing non-essential happens without a "yes"."""

    __tablename__ = "consent_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    is_granted: Mapped[bool] = mapped_column(Boolean)
    # grant | withdraw | guardian_grant
    kind: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reported_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class CharterReport(Base):
    """Something Charter must be told (acceptance, automated decision, suspension, login), written in the same
    transaction as the change it reports; `lubpur.reports` delivers each through the SDK and stamps
    `delivered_at`."""

    __tablename__ = "charter_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class PageViewCount(Base):
    """Analytics, aggregated at once: a path and a day, never a person."""

    __tablename__ = "page_view_counts"
    __table_args__ = (UniqueConstraint("day", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=0)
