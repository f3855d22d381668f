"""Data-subject requests over HTTP, for the person (through the host or the privacy centre).

Submitting needs any of the controller's keys. A request is read back — status, bundle, appeal — with the token
verification returned, sent in the `Charter-Request-Token` header: never in the URL, which holds only the
request's random id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from charter.core.errors import CharterError
from charter.jurisdictions import RequestKind
from charter.requests.automated import AutomatedDecisions
from charter.requests.bundle import as_html, as_json, as_portability, as_zip, collect
from charter.requests.services import RequestService
from charter.requests.staff import StaffDesk
from charter.requests.status import RequestStatus, describe
from charter.web.deps import AnyKey, DbSession, get_keyring
from charter.web.errors import error_body

router = APIRouter(prefix="/v1/requests", tags=["requests"])
acks = APIRouter(prefix="/v1/recipient-acks", tags=["requests"])

TokenHeader = Annotated[str | None, Header(alias="Charter-Request-Token")]


class IdentityIn(BaseModel):
    kind: str
    value: str


class SubmitIn(BaseModel):
    kind: str = Field(description="access, portability, rectification, erasure, restriction, withdrawal, "
                                  "cancellation or explanation")
    identity: IdentityIn | None = None
    assertion: str | None = Field(default=None, description="The host's signed assertion for a logged-in user")
    language: str = "zh-CN"
    params: dict[str, Any] | None = None


class SubmitOut(BaseModel):
    request_id: str
    reference: str
    status: str
    due_on: dt.date
    verification: Literal["code_sent", "verified"]
    token: str | None = None


class VerifyIn(BaseModel):
    code: str


class VerifyOut(BaseModel):
    status: str
    token: str


class AppealIn(BaseModel):
    statement: str = Field(min_length=1, max_length=4000)


def _service(request: Request, session: DbSession) -> RequestService:
    return RequestService(session, get_keyring(request), queue=request.app.state.request_queue,
                          notify=request.app.state.wake_outbox)


@router.post("", status_code=202, response_model=SubmitOut)
def submit(body: SubmitIn, request: Request, session: DbSession, key: AnyKey) -> SubmitOut:
    """Submit a request. With `assertion` the person is verified by the host; with `identity` a six-digit code is
    sent to it (the answer is the same whether or not the controller knows the person)."""
    identity = body.identity
    submitted = _service(request, session).submit(
        key.controller_id, kind=body.kind, identity_kind=identity.kind if identity else None,
        identity_value=identity.value if identity else None, language=body.language, params=body.params,
        assertion=body.assertion, actor=f"api_key:{key.key_id}")
    r = submitted.request
    return SubmitOut(request_id=r.id, reference=r.reference, status=r.status, due_on=r.due_on,
                     verification="verified" if submitted.token else "code_sent", token=submitted.token)


@router.post("/{request_id}/verify", response_model=VerifyOut)
def verify(request_id: str, body: VerifyIn, request: Request, session: DbSession, key: AnyKey) -> Any:
    service = _service(request, session)
    try:
        token = service.verify(key.controller_id, request_id, body.code, actor=f"api_key:{key.key_id}")
    except CharterError as exc:
        # A wrong try is counted even though the request fails: commit the count, then answer with the error.
        session.commit()
        return JSONResponse(error_body(exc), status_code=exc.status)
    return VerifyOut(status=service.get(key.controller_id, request_id).status, token=token)


@router.post("/{request_id}/resend", status_code=202)
def resend(request_id: str, request: Request, session: DbSession, key: AnyKey) -> dict[str, str]:
    _service(request, session).resend_code(key.controller_id, request_id, actor=f"api_key:{key.key_id}")
    return {"status": "code_sent"}


@router.get("/{request_id}", response_model=RequestStatus)
def status(request_id: str, request: Request, session: DbSession, key: AnyKey, token: TokenHeader = None) -> Any:
    found = _service(request, session).by_token(key.controller_id, request_id, token)
    return describe(session, get_keyring(request), found, for_staff=False)


@router.get("/{request_id}/bundle")
def bundle(request_id: str, request: Request, session: DbSession, key: AnyKey, *, token: TokenHeader = None,
           format: Literal["zip", "json", "html", "portability"] = "zip") -> Response:
    """The access (or portability) bundle of a completed request, for the verified person only."""
    found = _service(request, session).by_token(key.controller_id, request_id, token)
    data = collect(session, get_keyring(request), found)
    if format == "json":
        return JSONResponse(as_json(data))
    if format == "portability":
        return JSONResponse(as_portability(data))
    if format == "html":
        return HTMLResponse(as_html(data))
    return Response(as_zip(data), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{found.reference}.zip"'})


@router.post("/{request_id}/appeal", status_code=201)
def appeal(request_id: str, body: AppealIn, request: Request, session: DbSession, key: AnyKey, *,
           token: TokenHeader = None) -> dict[str, Any]:
    """Ask for a person to review the automated decision an explanation request was about."""
    service = _service(request, session)
    found = service.by_token(key.controller_id, request_id, token)
    if found.kind != RequestKind.EXPLANATION.value:
        raise CharterError("only an explanation request can be appealed", field="request_id")
    decision_id = str(service.params(found).get("decision_id"))
    row = AutomatedDecisions(session, get_keyring(request)).appeal(
        key.controller_id, found.id, decision_id, body.statement, actor="subject")
    return {"appeal_id": row.id, "status": row.status}


@acks.post("/{token}")
def acknowledge(token: str, request: Request, session: DbSession) -> dict[str, Any]:
    """A recipient confirms it erased or corrected what it received. The token comes from its notice."""
    notice = StaffDesk(session, get_keyring(request)).acknowledge(hashlib.sha256(token.encode()).hexdigest())
    return {"acknowledged_at": notice.acknowledged_at, "action": notice.action}
