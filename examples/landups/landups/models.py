"""Every Landups table. Columns holding personal data say which policy category they hold (`# cat: …`);
`examples/landups/datamap.yaml` describes the same to Charter.

Sensitive categories (account.id_number, account.bank_account) are stored sealed (`*_sealed`, AES-GCM); ID
photos live in files sealed with the file key, this table holding only a random file name.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Engine, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from landups.db import Base, Timestamp, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 80, not 20: erasure replaces it with a keyed hash (`hmac:…`), which must fit.
    account_id: Mapped[str] = mapped_column(String(80), unique=True)          # cat: account.user_id
    email: Mapped[str] = mapped_column(String(254), unique=True)              # cat: account.email
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))                            # cat: account.name
    phone: Mapped[str | None] = mapped_column(String(20))                     # cat: account.phone
    qq: Mapped[str | None] = mapped_column(String(12))                        # cat: account.qq
    address: Mapped[str | None] = mapped_column(String(300))                  # cat: account.address
    account_type: Mapped[str] = mapped_column(String(10), default="personal")
    language: Mapped[str] = mapped_column(String(8), default="en")            # cat: settings.preferences
    membership_level: Mapped[str] = mapped_column(String(12), default="standard")
    policy_version: Mapped[str] = mapped_column(String(40))   # the version the person accepted at registration
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class StaffMember(Base):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12), default="support")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class WebSession(Base):
    """A browser session: the cookie holds a random token, this table its SHA-256 only."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)


class LoginEvent(Base):
    """LAN-COLLECT-USAGE: each login attempt on an account, with what the policy (2.2) says is recorded."""

    __tablename__ = "login_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # account.user_id
    outcome: Mapped[str] = mapped_column(String(10))              # success | failure | locked
    ip: Mapped[str] = mapped_column(String(45))                   # cat: usage.ip
    browser: Mapped[str] = mapped_column(String(60))              # cat: usage.browser
    language: Mapped[str] = mapped_column(String(64))             # cat: usage.language
    os: Mapped[str] = mapped_column(String(60))                   # cat: usage.device
    device: Mapped[str] = mapped_column(String(20))               # cat: usage.device
    user_agent: Mapped[str] = mapped_column(String(512))          # cat: usage.device
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)  # usage.access_time


class PageView(Base):
    """LAN-COLLECT-USAGE browsing records: the page (path only, never a query string) a signed-in user opened."""

    __tablename__ = "page_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # account.user_id
    path: Mapped[str] = mapped_column(String(200))                # cat: usage.browsing
    ip: Mapped[str] = mapped_column(String(45))                   # cat: usage.ip
    browser: Mapped[str] = mapped_column(String(60))              # cat: usage.browser
    language: Mapped[str] = mapped_column(String(64))             # cat: usage.language
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)  # usage.access_time


class IdPhoto(Base):
    """An uploaded ID photo; the image itself is a sealed file named `stored_name` in the photo directory."""

    __tablename__ = "id_photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))              # real_name | website_filing
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # cat: account.id_photo (the sealed file)
    content_type: Mapped[str] = mapped_column(String(20))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class DataRead(Base):
    """LAN-SECURITY: every read of an ID photo (owner or staff) and every staff read of a user's data."""

    __tablename__ = "data_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # whose data
    reader: Mapped[str] = mapped_column(String(10))               # owner | staff
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    record: Mapped[str] = mapped_column(String(80))               # "id_photo:<id>", "user:<id>"
    reason: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class RealNameRecord(Base):
    """LAN-COLLECT-ACCOUNT real-name authentication; for a company also its business registration."""

    __tablename__ = "real_name_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))           # cat: account.name
    id_type: Mapped[str] = mapped_column(String(8))               # cn_ric | hkid
    id_number_sealed: Mapped[str] = mapped_column(Text)           # cat: account.id_number (AES-GCM)
    photo_id: Mapped[str] = mapped_column(ForeignKey("id_photos.id"))  # cat: account.id_photo
    company_name: Mapped[str | None] = mapped_column(String(200))  # cat: account.business_registration
    uscc: Mapped[str | None] = mapped_column(String(18))          # cat: account.business_registration
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | verified | rejected
    submitted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))


class WebsiteFiling(Base):
    """LAN-COLLECT-OPTIONAL website filing (purpose website_filing)."""

    __tablename__ = "website_filings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))              # cat: filing.details
    site_name: Mapped[str] = mapped_column(String(100))           # cat: filing.details
    site_category: Mapped[str] = mapped_column(String(20))        # cat: filing.details
    contact_person: Mapped[str] = mapped_column(String(100))      # cat: order.contact_person
    contact_info: Mapped[str] = mapped_column(String(254))        # cat: order.contact_info
    photo_id: Mapped[str] = mapped_column(ForeignKey("id_photos.id"))  # cat: account.id_photo (site principal)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class CloudOrder(Base):
    """LAN-COLLECT-OPTIONAL cloud market order (purpose cloud_market)."""

    __tablename__ = "cloud_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(40))                  # cat: order.details
    term_months: Mapped[int] = mapped_column(Integer)             # cat: order.details
    quantity: Mapped[int] = mapped_column(Integer)                # cat: order.details
    amount_cents: Mapped[int] = mapped_column(Integer)            # cat: order.details (HKD)
    provider: Mapped[str] = mapped_column(String(60))             # "landups" or the recipient id of 1.2
    contact_person: Mapped[str] = mapped_column(String(100))      # cat: order.contact_person
    contact_info: Mapped[str] = mapped_column(String(254))        # cat: order.contact_info
    status: Mapped[str] = mapped_column(String(20), default="placed")
    placed_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class MembershipApplication(Base):
    """LAN-COLLECT-OPTIONAL membership level upgrade (purpose membership)."""

    __tablename__ = "membership_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    from_level: Mapped[str] = mapped_column(String(12))           # cat: order.details
    to_level: Mapped[str] = mapped_column(String(12))             # cat: order.details
    contact_person: Mapped[str] = mapped_column(String(100))      # cat: order.contact_person
    contact_info: Mapped[str] = mapped_column(String(254))        # cat: order.contact_info
    status: Mapped[str] = mapped_column(String(20), default="submitted")  # submitted | approved
    applied_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class OfflineDelivery(Base):
    """LAN-COLLECT-OPTIONAL offline delivery of an order (purpose offline_delivery)."""

    __tablename__ = "offline_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("cloud_orders.id", ondelete="CASCADE"))
    contact_person: Mapped[str] = mapped_column(String(100))      # cat: order.contact_person
    contact_info: Mapped[str] = mapped_column(String(254))        # cat: order.contact_info
    address: Mapped[str] = mapped_column(String(300))             # cat: order.delivery_address
    preferred_date: Mapped[date] = mapped_column(Date)            # cat: order.details
    notes: Mapped[str] = mapped_column(String(500), default="")   # cat: order.details
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested | delivered
    requested_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ProductTest(Base):
    """LAN-COLLECT-OPTIONAL product testing request (purpose product_testing)."""

    __tablename__ = "product_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(40))                  # cat: order.details
    contact_person: Mapped[str] = mapped_column(String(100))      # cat: order.contact_person
    contact_info: Mapped[str] = mapped_column(String(254))        # cat: order.contact_info
    address: Mapped[str] = mapped_column(String(300))             # cat: order.delivery_address
    preferred_date: Mapped[date] = mapped_column(Date)            # cat: order.details
    description: Mapped[str] = mapped_column(String(1000))        # cat: order.details
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested | completed
    requested_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class BankAccount(Base):
    """LAN-COLLECT-ACCOUNT bank account for billing (purpose billing): holder and number sealed, never shown whole."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    bank_name: Mapped[str] = mapped_column(String(100))           # cat: account.bank_account
    holder_sealed: Mapped[str] = mapped_column(Text)              # cat: account.bank_account (AES-GCM)
    number_sealed: Mapped[str] = mapped_column(Text)              # cat: account.bank_account (AES-GCM)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class SiteAccount(Base):
    """An account on landups.com (the network's public site), which a console account may be linked to."""

    __tablename__ = "site_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)  # cat: account.user_id
    email: Mapped[str] = mapped_column(String(254))               # cat: account.email
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AccountLink(Base):
    """LAN-ACCOUNT-LINK: this console account and a landups.com account belong to one person."""

    __tablename__ = "account_links"
    __table_args__ = (UniqueConstraint("user_id", "site"), UniqueConstraint("site_account_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    site: Mapped[str] = mapped_column(String(40), default="landups.com")
    site_account_id: Mapped[int] = mapped_column(ForeignKey("site_accounts.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class SurveyInvitation(Base):
    """An invitation to a survey (purpose surveys), sent only while Charter allows it for the person."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("user_id", "survey"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    survey: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AnalyticsEvent(Base):
    """Service optimisation (purpose optimisation): which feature was used, recorded only where Charter allows.

    It carries none of the person's identifiers: the purpose's categories do not include one.
    """

    __tablename__ = "analytics_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature: Mapped[str] = mapped_column(String(60))
    browser: Mapped[str] = mapped_column(String(60))              # cat: usage.browser
    language: Mapped[str] = mapped_column(String(64))             # cat: usage.language
    device: Mapped[str] = mapped_column(String(20))               # cat: usage.device
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)  # cat: usage.access_time


class CharterCall(Base):
    """A report to Charter (consent, withdrawal, disclosure, login, linked identity), written in the same
    transaction as what it reports and delivered after commit; kept until Charter has taken it."""

    __tablename__ = "charter_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    payload: Mapped[str] = mapped_column(Text)                    # JSON: ids, purposes, categories; evidence
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))


def create_schema(engine: Engine) -> None:
    """Create every Landups table that does not exist yet."""
    Base.metadata.create_all(engine)
