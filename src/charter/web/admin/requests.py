"""The request queue: filter by kind, state, due date and lateness; a request's plan and task log; approve, refuse
with one of the enumerated grounds, complete manual tasks. Viewers read; operators act."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.core.db import utcnow
from charter.requests.services import RequestService, local_date
from charter.requests.staff import StaffDesk
from charter.requests.status import describe
from charter.web.admin.session import Operator, Viewer
from charter.web.center.labels import REQUEST_KINDS, REQUEST_STATES
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()


def _service(request: Request, db: Session) -> RequestService:
    return RequestService(db, request.app.state.keyring, queue=request.app.state.request_queue,
                          notify=request.app.state.wake_outbox)


@router.get("/requests")
def queue(request: Request, db: PageSession, staff: Viewer, *,
          kind: Annotated[str, Query(max_length=32)] = "", status: Annotated[str, Query(max_length=32)] = "",
          due: dt.date | None = None, overdue: bool = False) -> Response:
    found = _service(request, db).search(staff.controller_id, kind=kind or None, status=status or None, due_by=due,
                                         is_open=overdue)
    if overdue:
        found = [r for r in found if r.due_on < local_date(utcnow(), r.jurisdictions)]
    staff.audit_read(db, target="requests:queue", fields=["kind", "status", "due_on"])
    return render(request, "admin/requests.html", {
        "rows": found, "kinds": REQUEST_KINDS, "states": REQUEST_STATES,
        "filters": {"kind": kind, "status": status, "due": due.isoformat() if due else "", "overdue": overdue},
    })


@router.get("/requests/{request_id}")
def detail(request: Request, db: PageSession, staff: Viewer, request_id: str) -> Response:
    service = _service(request, db)
    found = service.get(staff.controller_id, request_id)
    manual = [m for m in StaffDesk(db, request.app.state.keyring).manual_tasks(staff.controller_id)
              if m.request_id == found.id]
    staff.audit_read(db, target=f"request:{found.id}", fields=["status", "tasks", "held_items"])
    return render(request, "admin/request.html", {
        "r": found, "status": describe(db, request.app.state.keyring, found, for_staff=True),
        "grounds": service.allowed_grounds(found), "manual": manual, "kinds": REQUEST_KINDS,
        "states": REQUEST_STATES, "can_act": staff.can("operator"),
    })


@router.post("/requests/{request_id}/approve")
def approve(request: Request, db: PageSession, staff: Operator, request_id: str) -> Response:
    _service(request, db).approve(staff.controller_id, request_id, actor=staff.actor)
    return RedirectResponse(f"/admin/requests/{request_id}", status_code=303)


@router.post("/requests/{request_id}/refuse")
def refuse(request: Request, db: PageSession, staff: Operator, request_id: str,
           ground: Annotated[str, Form()] = "") -> Response:
    _service(request, db).refuse(staff.controller_id, request_id, ground=ground or None, actor=staff.actor)
    return RedirectResponse(f"/admin/requests/{request_id}", status_code=303)


@router.post("/requests/manual/{manual_id}/complete")
def complete_manual(request: Request, db: PageSession, staff: Operator, manual_id: int,
                    rows_affected: Annotated[int, Form()] = 0) -> Response:
    desk = StaffDesk(db, request.app.state.keyring, queue=request.app.state.request_queue)
    manual = desk.complete_manual_task(staff.controller_id, manual_id, rows_affected=rows_affected, actor=staff.actor)
    return RedirectResponse(f"/admin/requests/{manual.request_id}", status_code=303)
