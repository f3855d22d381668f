"""The console's front page: the controller, its policy in force, and where to go next."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.accounts.services import ControllerService
from charter.core.errors import NotFound
from charter.policy.services import PolicyStore
from charter.web.admin.session import Viewer
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()


@router.get("")
def dashboard(request: Request, db: PageSession, staff: Viewer) -> Response:
    store = PolicyStore(db)
    versions = store.list(staff.controller_id)
    try:
        in_force = store.in_force(staff.controller_id)
    except NotFound:
        in_force = None
    upcoming = [v for v in versions if in_force is None or v.effective > in_force.effective]
    return render(request, "admin/dashboard.html", {
        "versions": versions, "in_force": in_force, "upcoming": upcoming,
        "audit_events": ControllerService(db).get(staff.controller_id).audit_head_seq,
    })
