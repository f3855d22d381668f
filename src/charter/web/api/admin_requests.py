"""Staff operations on requests, with the controller's secret key (the admin console will call the same
services): list and inspect, approve, refuse with a ground, record HK's written reason, complete manual tasks,
retry, decide appeals, and the per-controller settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from charter.requests.automated import AutomatedDecisions
from charter.requests.services import RequestService
from charter.requests.staff import StaffDesk
from charter.requests.status import RequestStatus, describe
from charter.web.deps import DbSession, SecretKey, get_keyring

router = APIRouter(prefix="/v1/admin", tags=["admin: requests"])


class RefuseIn(BaseModel):
    ground: str | None = None
    note: str | None = Field(default=None, max_length=4000)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=4000)


class ManualDoneIn(BaseModel):
    rows_affected: int = 0


class AppealDecisionIn(BaseModel):
    outcome: str
    note: str = Field(max_length=4000)


class SettingsIn(BaseModel):
    needs_approval: bool | None = None
    login_webhook_url: str | None = None
    remove_login_webhook: bool = False


def _desk(request: Request, session: DbSession) -> StaffDesk:
    return StaffDesk(session, get_keyring(request), queue=request.app.state.request_queue)


def _actor(key: Any) -> str:
    return f"api_key:{key.key_id}"


@router.get("/requests", response_model=list[RequestStatus])
def list_requests(request: Request, session: DbSession, key: SecretKey, only_open: bool = False) -> Any:
    service = RequestService(session, get_keyring(request))
    rows = service.open_requests(key.controller_id) if only_open else service.list(key.controller_id)
    return [describe(session, get_keyring(request), r, for_staff=True) for r in rows]


@router.get("/requests/{request_id}", response_model=RequestStatus)
def get_request(request_id: str, request: Request, session: DbSession, key: SecretKey) -> Any:
    found = RequestService(session, get_keyring(request)).get(key.controller_id, request_id)
    return describe(session, get_keyring(request), found, for_staff=True)


@router.post("/requests/{request_id}/approve", response_model=RequestStatus)
def approve(request_id: str, request: Request, session: DbSession, key: SecretKey) -> Any:
    found = _desk(request, session).requests.approve(key.controller_id, request_id, actor=_actor(key))
    return describe(session, get_keyring(request), found, for_staff=True)


@router.post("/requests/{request_id}/refuse", response_model=RequestStatus)
def refuse(request_id: str, body: RefuseIn, request: Request, session: DbSession, key: SecretKey) -> Any:
    found = _desk(request, session).requests.refuse(key.controller_id, request_id, ground=body.ground,
                                                    note=body.note, actor=_actor(key))
    return describe(session, get_keyring(request), found, for_staff=True)


@router.post("/requests/{request_id}/late-reason", response_model=RequestStatus)
def late_reason(request_id: str, body: ReasonIn, request: Request, session: DbSession, key: SecretKey) -> Any:
    found = _desk(request, session).requests.record_late_reason(key.controller_id, request_id, body.reason,
                                                                actor=_actor(key))
    return describe(session, get_keyring(request), found, for_staff=True)


@router.post("/requests/{request_id}/retry", response_model=RequestStatus)
def retry(request_id: str, request: Request, session: DbSession, key: SecretKey) -> Any:
    found = _desk(request, session).retry(key.controller_id, request_id, actor=_actor(key))
    return describe(session, get_keyring(request), found, for_staff=True)


@router.get("/manual-tasks")
def manual_tasks(request: Request, session: DbSession, key: SecretKey) -> list[dict[str, Any]]:
    return [{"id": m.id, "request_id": m.request_id, "collection": m.collection, "operation": m.operation,
             "instructions": m.instructions, "fields": m.fields, "status": m.status, "created_at": m.created_at}
            for m in _desk(request, session).manual_tasks(key.controller_id)]


@router.post("/manual-tasks/{manual_id}/complete")
def complete_manual(manual_id: int, body: ManualDoneIn, request: Request, session: DbSession,
                    key: SecretKey) -> dict[str, Any]:
    done = _desk(request, session).complete_manual_task(key.controller_id, manual_id,
                                                         rows_affected=body.rows_affected, actor=_actor(key))
    return {"id": done.id, "status": done.status}


@router.get("/appeals")
def appeals(request: Request, session: DbSession, key: SecretKey) -> list[dict[str, Any]]:
    decisions = AutomatedDecisions(session, get_keyring(request))
    return [{"id": a.id, "request_id": a.request_id, "decision_id": a.decision_id, "status": a.status,
             "statement": decisions.statement(a), "created_at": a.created_at}
            for a in decisions.appeals(key.controller_id)]


@router.post("/appeals/{appeal_id}/decide")
def decide_appeal(appeal_id: int, body: AppealDecisionIn, request: Request, session: DbSession,
                  key: SecretKey) -> dict[str, Any]:
    row = AutomatedDecisions(session, get_keyring(request)).resolve(key.controller_id, appeal_id,
                                                                    outcome=body.outcome, note=body.note,
                                                                    actor=_actor(key))
    return {"id": row.id, "status": row.status, "resolved_at": row.resolved_at}


@router.get("/request-settings")
def get_settings(request: Request, session: DbSession, key: SecretKey) -> dict[str, Any]:
    row = RequestService(session, get_keyring(request)).settings(key.controller_id)
    return {"needs_approval": row.needs_approval, "has_assertion_key": row.assertion_key_encrypted is not None,
            "login_webhook_url": row.login_webhook_url}


@router.put("/request-settings")
def put_settings(body: SettingsIn, request: Request, session: DbSession, key: SecretKey) -> dict[str, Any]:
    desk = _desk(request, session)
    out: dict[str, Any] = {}
    if body.needs_approval is not None:
        desk.set_needs_approval(key.controller_id, body.needs_approval, actor=_actor(key))
    if body.remove_login_webhook:
        desk.set_login_webhook(key.controller_id, None, actor=_actor(key))
    elif body.login_webhook_url is not None:
        issued = desk.set_login_webhook(key.controller_id, body.login_webhook_url, actor=_actor(key))
        out["login_webhook_key"] = issued.value if issued else None
    return {**get_settings(request, session, key), **out}


@router.post("/request-settings/assertion-key", status_code=201)
def issue_assertion_key(request: Request, session: DbSession, key: SecretKey) -> dict[str, str]:
    """A new key for signing host assertions, shown once (the previous one stops working)."""
    return {"assertion_key": _desk(request, session).issue_assertion_key(key.controller_id, actor=_actor(key)).value}


@router.get("/requests-overdue", response_model=list[RequestStatus])
def overdue(request: Request, session: DbSession, key: SecretKey, today: dt.date | None = None) -> Any:
    keyring = get_keyring(request)
    rows = RequestService(session, keyring).open_requests(key.controller_id)
    described = [describe(session, keyring, r, for_staff=True, today=today) for r in rows]
    return [d for d in described if d.is_overdue or d.needs_late_reason]
