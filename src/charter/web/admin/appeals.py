"""Appeals of automated decisions (LUB-AUTOMATED, PIPL art. 24): the queue, and one appeal with the decision it
contests (its inputs, logic version, outcome and the host's explanation) and the person's statement, where an
operator or privacy officer records the human review: upheld or overturned, with the reasons the person reads in
the privacy centre. Viewers read; operators act. Showing an appeal is audited as a staff read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.accounts.models import Role
from charter.requests.appeals import OPEN, STATUSES, AppealBook
from charter.requests.automated import AppealOutcome, AutomatedDecisions
from charter.web.admin import labels
from charter.web.admin.session import Operator, Staff, Viewer
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

CHOOSE_OUTCOME = N_("Choose whether the decision is upheld or overturned.")
WRITE_REASONS = N_("Write the reasons for your review; the person reads them.")
ALL = "all"


def _book(request: Request, db: Session) -> AppealBook:
    return AppealBook(db, request.app.state.keyring)


@router.get("/appeals")
def queue(request: Request, db: PageSession, staff: Viewer,
          status: Annotated[str, Query(max_length=16)] = OPEN) -> Response:
    rows = _book(request, db).rows(staff.controller_id, status=None if status == ALL else status)
    staff.audit_read(db, target="appeals:queue", fields=["request", "decision.kind", "decision.outcome", "status"])
    return render(request, "admin/appeals.html", {"rows": rows, "status": status, "statuses": STATUSES,
                                                  "labels": labels.APPEAL_STATES})


def _case_page(request: Request, db: Session, staff: Staff, appeal_id: int, *, error: str | None = None,
               outcome: str = "", note: str = "", status: int = 200) -> Response:
    case = _book(request, db).case(staff.controller_id, appeal_id)
    staff.audit_read(db, target=f"appeal:{appeal_id}",
                     fields=["statement", "decision.inputs", "decision.explanation", "decision.outcome", "resolution"])
    return render(request, "admin/appeal.html", {
        "case": case, "labels": labels.APPEAL_STATES, "can_act": staff.can(Role.OPERATOR), "error": error,
        "outcome": outcome, "note": note, "outcomes": AppealOutcome.ALL,
    }, status=status)


@router.get("/appeals/{appeal_id}")
def case(request: Request, db: PageSession, staff: Viewer, appeal_id: int) -> Response:
    return _case_page(request, db, staff, appeal_id)


@router.post("/appeals/{appeal_id}/decide")
def decide(request: Request, *, db: PageSession, staff: Operator, appeal_id: int,
           outcome: Annotated[str, Form(max_length=16)] = "",
           note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    if outcome not in AppealOutcome.ALL or not note.strip():
        return _case_page(request, db, staff, appeal_id, error=CHOOSE_OUTCOME if outcome not in AppealOutcome.ALL
                          else WRITE_REASONS, outcome=outcome, note=note, status=400)
    AutomatedDecisions(db, request.app.state.keyring).resolve(staff.controller_id, appeal_id, outcome=outcome,
                                                              note=note, actor=staff.actor)
    return RedirectResponse(f"/admin/appeals/{appeal_id}", status_code=303)
