"""Who is signed in to the admin console, and what their role lets them do.

Every admin route takes one of `Viewer`, `Operator`, `PrivacyOfficer` or `Admin`: the signed-in staff member,
checked to hold at least that role (`Role.allows`), else a 403 page. Without a full session (password *and*
second factor) the visitor is sent to sign in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from charter.accounts.models import Role, StaffUser
from charter.audit.services import AuditLog
from charter.core.errors import Forbidden
from charter.core.models import Controller
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.web.admin.labels import ROLES
from charter.web.admin.nav import ADMIN_NAV
from charter.web.deps import PageSession
from charter.web.ui import SignInRequired, page_context, visible
from charter.web.ui.cookies import read_token, session_cookie

COOKIE = session_cookie("charter_staff", "/admin")
KIND = "staff"
SIGN_IN = "/admin/sign-in"

FULL = "full"
"""Password and second factor both passed."""
NEEDS_CODE = "code"
NEEDS_ENROLMENT = "enrol"

SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(minutes=30)
PENDING_LIFETIME = dt.timedelta(minutes=10)
"""Between the password and the second factor."""


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of one controller; everything they see is that controller's.

    Plain values, not database rows, so an error page can still show who is signed in after a rollback.
    """

    id: int
    email: str
    role: Role
    controller_id: str
    controller_name: str

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"

    def can(self, role: Role | str) -> bool:
        return self.role.allows(Role(role))

    def audit_read(self, db: Session, *, target: str, fields: Sequence[str]) -> None:
        """Record that this staff member was shown personal data (LAN-SECURITY). Call it on every such page.

        Example: `staff.audit_read(db, target="subject:42", fields=["email", "orders"])`
        """
        AuditLog(db).record_read(self.controller_id, actor=self.actor, target=target, fields=fields)


def session_record(request: Request, db: Session, *, max_age: dt.timedelta) -> WebSession | None:
    token = read_token(request, COOKIE, max_age=int(max_age.total_seconds()))
    return SessionStore(db).find(token, kind=KIND) if token else None


def current_staff(request: Request, db: PageSession) -> Staff:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is None or record.stage != FULL:
        raise SignInRequired(SIGN_IN)
    user = db.get(StaffUser, int(record.principal.removeprefix("staff:")))
    controller = db.get(Controller, record.controller_id)
    if user is None or controller is None or not user.is_active or user.controller_id != record.controller_id:
        SessionStore(db).close(record)
        raise SignInRequired(SIGN_IN)
    SessionStore(db).touch(record)
    staff = Staff(user.id, user.email, Role(user.role), controller.id, controller.name)
    page_context(request).update(staff=staff, nav=visible(ADMIN_NAV, staff.role), role_labels=ROLES)
    return staff


def require(role: Role) -> Callable[[Staff], Staff]:
    """A dependency: the signed-in staff member, if their role allows `role`; else 403."""

    def check(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.can(role):
            raise Forbidden(f"this needs the {role.value} role", fix="Ask an administrator.")
        return staff

    return check


Viewer = Annotated[Staff, Depends(require(Role.VIEWER))]
Operator = Annotated[Staff, Depends(require(Role.OPERATOR))]
PrivacyOfficer = Annotated[Staff, Depends(require(Role.PRIVACY_OFFICER))]
Admin = Annotated[Staff, Depends(require(Role.ADMIN))]
