"""Your requests: ask for a copy of your data, correction, deletion, restriction, account cancellation,
withdrawal, an explanation of an automated decision (and appeal it); follow each one's status, due date, held
items, reasons and the answer to an appeal; download the copy. Everything goes through `charter.requests`, already
verified by sign-in. A minor under the policy's threshold sees their requests; their guardian makes new ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.consent.guardians import Guardians, parse_contact
from charter.consent.terms import offers_consent
from charter.core.errors import CharterError, NotFound
from charter.jurisdictions import RequestKind
from charter.requests.appeals import AppealBook
from charter.requests.automated import AutomatedDecisions
from charter.requests.bundle import as_zip, collect
from charter.requests.lifecycle import Status
from charter.requests.models import DataRequest
from charter.requests.services import RequestService
from charter.requests.status import describe
from charter.subjects.services import SubjectDirectory
from charter.web.center.context import CenterPage
from charter.web.center.labels import REQUEST_KINDS, REQUEST_STATES
from charter.web.center.person import Person, PersonPage
from charter.web.deps import PageSession
from charter.web.ui import page_lang, render

router = APIRouter()

OFFERED = [RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.RECTIFICATION, RequestKind.ERASURE,
           RequestKind.RESTRICTION, RequestKind.WITHDRAWAL, RequestKind.CANCELLATION, RequestKind.EXPLANATION]
SIMPLE = [RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.ERASURE, RequestKind.RESTRICTION,
          RequestKind.CANCELLATION]
"""Kinds that need nothing but the person's say-so; the others have forms of their own."""
_DONE = (Status.COMPLETED, Status.COMPLETED_WITH_HELD_ITEMS)


def service(request: Request, db: Session) -> RequestService:
    return RequestService(db, request.app.state.keyring, queue=request.app.state.request_queue,
                          notify=request.app.state.wake_outbox)


def _own(request: Request, db: Session, person: Person, request_id: str) -> DataRequest:
    found = service(request, db).get(person.controller_id, request_id)
    if found.subject_id != person.subject_id:
        raise NotFound(f"no request {request_id!r}", field="request_id")
    return found


@router.get("/{controller}/requests")
def requests(request: Request, db: PageSession, center: CenterPage, person: PersonPage) -> Response:
    keyring = request.app.state.keyring
    mine = service(request, db).of_subject(center.controller_id, person.subject_id)
    person.audit_read(db, fields=["requests", "automated_decisions", "appeals"])
    cancelled = any(r.kind == RequestKind.CANCELLATION and r.status in _DONE for r in mine)
    return render(request, "center/requests.html", {
        "rows": [(r, describe(db, keyring, r, for_staff=False)) for r in mine],
        "decisions": AutomatedDecisions(db, keyring).of_subject(center.controller_id, person.subject_id),
        "appeals": AppealBook(db, keyring).of_subject(center.controller_id, person.subject_id),
        "simple": [k for k in SIMPLE if not (cancelled and k is RequestKind.CANCELLATION)], "cancelled": cancelled,
        "kinds": REQUEST_KINDS, "states": REQUEST_STATES,
        "purposes": [p for p in center.policy.purposes if offers_consent(p)],
        "categories": center.policy.categories,
    })


def _identity(request: Request, db: Session, person: Person) -> tuple[str, str]:
    known = SubjectDirectory(db, request.app.state.keyring).identities(person.controller_id, person.subject_id)
    ranked = sorted(known, key=lambda i: {"email": 0, "phone": 1}.get(i.kind.value, 2))
    if not ranked:
        raise NotFound("no identity is known for this person")
    return ranked[0].kind.value, ranked[0].value


def _guardian_contact(request: Request, db: Session, person: Person) -> str | None:
    """A guardian acting for a minor hears of the request at the contact they signed in with, not the minor."""
    if person.guardian_record_id is None:
        return None
    guardians = Guardians(db, request.app.state.keyring)
    record = guardians.get(person.controller_id, person.guardian_record_id, person.subject_id)
    contact = guardians.details(record).contact
    return contact if parse_contact(contact) is not None else None


@router.post("/{controller}/requests")
def submit(request: Request, *, db: PageSession, center: CenterPage, person: PersonPage,
           kind: Annotated[str, Form()], category: Annotated[str, Form()] = "",
           value: Annotated[str, Form()] = "", purposes: Annotated[list[str] | None, Form()] = None,
           decision_id: Annotated[str, Form()] = "") -> Response:
    if kind not in {k.value for k in OFFERED}:
        raise CharterError(f"unknown request kind {kind!r}", field="kind")
    person.refuse_if_minor("a request")
    params: dict[str, Any] = {"category": category, "value": value} if kind == RequestKind.RECTIFICATION else {}
    if kind == RequestKind.WITHDRAWAL:
        params = {"purposes": purposes or []}
    if kind == RequestKind.EXPLANATION:
        AutomatedDecisions(db, request.app.state.keyring).get(center.controller_id, decision_id, person.subject_id)
        params = {"decision_id": decision_id}
    identity_kind, identity_value = _identity(request, db, person)
    service(request, db).submit_for_subject(
        center.controller_id, person.subject_id, kind=kind, identity_kind=identity_kind,
        identity_value=identity_value, language=page_lang(request).value, params=params, verified_by=person.how,
        actor=person.actor, reply_to=_guardian_contact(request, db, person))
    return RedirectResponse(f"/center/{center.controller_id}/requests?sent={kind}", status_code=303)


@router.get("/{controller}/requests/{request_id}/bundle")
def bundle(request: Request, db: PageSession, center: CenterPage, person: PersonPage, request_id: str) -> Response:
    found = _own(request, db, person, request_id)
    content = as_zip(collect(db, request.app.state.keyring, found))
    person.audit_read(db, fields=["access_bundle"])
    return Response(content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="my-data-{found.reference}.zip"', "Cache-Control": "no-store"})


@router.post("/{controller}/requests/{request_id}/appeal")
def appeal(request: Request, *, db: PageSession, center: CenterPage, person: PersonPage, request_id: str,
           statement: Annotated[str, Form()]) -> Response:
    found = _own(request, db, person, request_id)
    person.refuse_if_minor("an appeal")
    if found.kind != RequestKind.EXPLANATION:
        raise CharterError("only an explanation request can be appealed", field="request_id")
    decision_id = str(service(request, db).params(found)["decision_id"])
    AutomatedDecisions(db, request.app.state.keyring).appeal(center.controller_id, found.id, decision_id, statement,
                                                            actor=person.actor)
    return RedirectResponse(f"/center/{center.controller_id}/requests?appealed=1", status_code=303)
