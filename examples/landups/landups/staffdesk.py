"""The support desk: staff accounts, recorded staff reads (LAN-SECURITY), and handing requests to the third
parties that carry them out (LAN-SHARE) — each handover asks Charter first and is reported as a disclosure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landups.accounts import clean_password, hash_password, password_matches
from landups.db import utcnow
from landups.forms import FieldErrors, ValidationFailed
from landups.identifiers import clean_email
from landups.links import subject_of
from landups.models import (
    CloudOrder,
    DataRead,
    MembershipApplication,
    OfflineDelivery,
    ProductTest,
    StaffMember,
    User,
    WebsiteFiling,
)
from landups.privacy import Decision, Privacy

_DUMMY = hash_password("no staff member has this password")


@dataclass(frozen=True)
class HandoverKind:
    """Who receives a kind of request, for which purpose, and the status it moves between."""

    model: Any
    recipient: str
    purpose: str
    waiting: str
    handed_over: str


HANDOVERS: dict[str, HandoverKind] = {
    "offline_deliveries": HandoverKind(OfflineDelivery, "contractor-example", "offline_delivery",
                                       "requested", "dispatched"),
    "product_tests": HandoverKind(ProductTest, "contractor-example", "product_testing", "requested", "dispatched"),
    "website_filings": HandoverKind(WebsiteFiling, "agent-example", "website_filing", "submitted", "with_agent"),
    "cloud_orders": HandoverKind(CloudOrder, "marketplace-provider-example", "share_third_parties",
                                 "awaiting_provider", "provisioning"),
}


@dataclass(frozen=True)
class Waiting:
    table: str
    record_id: int
    user_id: int
    account_id: str
    recipient: str
    purpose: str
    since: str


class StaffService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, email: str, name: str, password: str, role: str = "support") -> StaffMember:
        errors = FieldErrors()
        clean = errors.check("email", clean_email, email)
        clean_password(password, errors)
        if role not in ("support", "admin"):
            errors["role"] = "err.choice"
        errors.raise_if_any()
        member = StaffMember(email=clean, name=name, password_hash=hash_password(password), role=role)
        self.session.add(member)
        self.session.flush()
        return member

    def authenticate(self, email: str, password: str) -> StaffMember | None:
        member = self.session.scalar(
            select(StaffMember).where(func.lower(StaffMember.email) == email.strip().lower()))
        if member is None:
            password_matches(_DUMMY, password)
            return None
        return member if password_matches(member.password_hash, password) else None

    def find_user(self, staff: StaffMember, query: str, reason: str) -> User | None:
        """A user by account id or email; the read is recorded with the staff member and the reason given."""
        if len(reason.strip()) < 5:
            raise ValidationFailed({"reason": "err.reason"})
        text = query.strip()
        user = self.session.scalar(select(User).where(
            (User.account_id == text.upper()) | (func.lower(User.email) == text.lower())))
        if user is not None:
            self.record_read(staff, user.id, f"users:{user.id}", reason)
        return user

    def record_read(self, staff: StaffMember, user_id: int, record: str, reason: str) -> None:
        self.session.add(DataRead(user_id=user_id, reader="staff", staff_id=staff.id, record=record,
                                  reason=reason.strip()[:200], read_at=utcnow()))

    def reads_of(self, user: User) -> list[DataRead]:
        return list(self.session.scalars(
            select(DataRead).where(DataRead.user_id == user.id).order_by(DataRead.read_at.desc())))

    def open_upgrades(self) -> list[MembershipApplication]:
        return list(self.session.scalars(
            select(MembershipApplication).where(MembershipApplication.status == "submitted")
            .order_by(MembershipApplication.applied_at)))


class HandoverService:
    def __init__(self, session: Session, privacy: Privacy) -> None:
        self.session = session
        self.privacy = privacy

    def waiting(self) -> list[Waiting]:
        out: list[Waiting] = []
        for table, kind in HANDOVERS.items():
            rows = self.session.execute(
                select(kind.model, User.account_id).join(User, User.id == kind.model.user_id)
                .where(kind.model.status == kind.waiting).order_by(kind.model.id)).all()
            for row, account_id in rows:
                since = getattr(row, "requested_at", None) or getattr(row, "submitted_at", None) \
                    or getattr(row, "placed_at", None)
                out.append(Waiting(table, row.id, row.user_id, account_id, kind.recipient, kind.purpose,
                                   since.isoformat(timespec="minutes") if since else ""))
        return out

    def hand_over(self, table: str, record_id: int) -> Decision:
        """Ask Charter whether the recipient may have it; if so, move it on and report the disclosure."""
        kind = HANDOVERS.get(table)
        row = self.session.get(kind.model, record_id) if kind else None
        if kind is None or row is None or row.status != kind.waiting:
            raise ValidationFailed({"form": "err.choice"})
        user = self.session.get(User, row.user_id)
        if user is None:
            raise ValidationFailed({"form": "err.choice"})
        subject = subject_of(self.session, user)
        decision = self.privacy.may_share(subject, kind.recipient, kind.purpose)
        if decision.allowed:
            row.status = kind.handed_over
            self.privacy.report_disclosure(user, subject, kind.recipient, kind.purpose, f"{table}:{row.id}")
        return decision

    def complete(self, table: str, record_id: int) -> None:
        if table not in ("offline_deliveries", "product_tests"):
            raise ValidationFailed({"form": "err.choice"})
        row = self.session.get(HANDOVERS[table].model, record_id)
        if row is None or row.status != "dispatched":
            raise ValidationFailed({"form": "err.choice"})
        row.status = "delivered" if table == "offline_deliveries" else "completed"
        row.completed_at = utcnow()
