"""The audit log, newest first, a page at a time, and a button that verifies the whole hash chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from charter.accounts.services import ControllerService
from charter.audit.chain import Verification
from charter.audit.services import AuditLog
from charter.web.admin.session import PrivacyOfficer, Staff
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()

PAGE_SIZE = 50


def _page(request: Request, db: Session, staff: Staff, *, before: int | None,
          verification: Verification | None = None) -> Response:
    events = AuditLog(db).events(staff.controller_id, limit=PAGE_SIZE, before_seq=before)
    older = events[-1].seq if events and events[-1].seq > 1 else None
    total = ControllerService(db).get(staff.controller_id).audit_head_seq
    return render(request, "admin/audit.html", {
        "events": events, "older": older, "before": before, "total": total,
        "verification": verification,
    })


@router.get("/audit")
def audit_log(request: Request, db: PageSession, staff: PrivacyOfficer, before: int | None = None) -> Response:
    return _page(request, db, staff, before=before)


@router.post("/audit/verify")
def verify(request: Request, db: PageSession, staff: PrivacyOfficer) -> Response:
    result = AuditLog(db).verify(staff.controller_id)
    return _page(request, db, staff, before=None, verification=result)
