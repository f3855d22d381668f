"""Staff accounts (admins only): list, create, change a role, deactivate. Every change is audited by
`StaffService`; showing the list (staff emails are personal data) is audited as a staff read."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.accounts.models import Role
from charter.accounts.services import StaffService
from charter.core.errors import CharterError, Conflict, Forbidden
from charter.sessions.services import SessionStore
from charter.web.admin import labels
from charter.web.admin.session import Admin, Staff
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

NOT_AN_EMAIL = N_("That is not an email address.")
EMAIL_TAKEN = N_("A staff account with that email already exists.")
LAST_ADMIN = N_("This is the last active administrator. Make someone else administrator first.")
NOT_YOURSELF = N_("You cannot change your own role or deactivate yourself; ask another administrator.")
UNKNOWN_ROLE = N_("Choose one of the roles listed.")

Field = Annotated[str, Form()]


def _page(request: Request, db: Session, staff: Staff, *, error: str | None = None,
          created: dict[str, str] | None = None, status: int = 200) -> Response:
    people = StaffService(db).list(staff.controller_id)
    staff.audit_read(db, target="staff:list", fields=["email", "role", "is_active"])
    return render(request, "admin/staff.html", {
        "people": people, "roles": labels.ROLES, "error": error, "created": created,
        "open_sessions": {p.id: SessionStore(db).open_count(staff.controller_id, f"staff:{p.id}") for p in people},
    }, status=status)


@router.get("/staff")
def staff_list(request: Request, db: PageSession, staff: Admin) -> Response:
    return _page(request, db, staff)


@router.post("/staff")
def create(request: Request, db: PageSession, staff: Admin, email: Field, role: Field) -> Response:
    if role not in labels.ROLES:
        return _page(request, db, staff, error=UNKNOWN_ROLE, status=400)
    password = secrets.token_urlsafe(12)
    try:
        user = StaffService(db).create(staff.controller_id, email, password, role, actor=staff.actor)
    except Conflict:
        return _page(request, db, staff, error=EMAIL_TAKEN, status=409)
    except CharterError:
        return _page(request, db, staff, error=NOT_AN_EMAIL, status=400)
    return _page(request, db, staff, created={"email": user.email, "password": password}, status=201)


@router.post("/staff/{staff_id}/role")
def change_role(request: Request, db: PageSession, staff: Admin, staff_id: int, role: Field) -> Response:
    if role not in labels.ROLES:
        return _page(request, db, staff, error=UNKNOWN_ROLE, status=400)
    if staff_id == staff.id:
        return _page(request, db, staff, error=NOT_YOURSELF, status=403)
    try:
        StaffService(db).change_role(staff.controller_id, staff_id, Role(role), actor=staff.actor)
    except Forbidden:
        return _page(request, db, staff, error=LAST_ADMIN, status=403)
    return RedirectResponse("/admin/staff", status_code=303)


@router.post("/staff/{staff_id}/deactivate")
def deactivate(request: Request, db: PageSession, staff: Admin, staff_id: int) -> Response:
    if staff_id == staff.id:
        return _page(request, db, staff, error=NOT_YOURSELF, status=403)
    try:
        user = StaffService(db).deactivate(staff.controller_id, staff_id, actor=staff.actor)
    except Forbidden:
        return _page(request, db, staff, error=LAST_ADMIN, status=403)
    SessionStore(db).close_all(staff.controller_id, f"staff:{user.id}")
    return RedirectResponse("/admin/staff", status_code=303)
