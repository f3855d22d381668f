"""What the host reports to Charter with its secret key: disclosures to recipients and automated decisions; and
what it polls: accounts whose login it must disable after a cancellation request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from charter.core.i18n import Text
from charter.disclosures.services import DisclosureLog
from charter.requests.automated import AutomatedDecisions
from charter.requests.models import DataRequest
from charter.subjects.services import SubjectDirectory
from charter.web.deps import DbSession, SecretKey, get_keyring

router = APIRouter(prefix="/v1", tags=["host records"])


class DisclosureIn(BaseModel):
    subject_id: str
    recipient: str
    categories: list[str] = Field(min_length=1)
    purpose: str | None = None
    is_compelled: bool = False


class ExplanationIn(BaseModel):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    zh_tw: str | None = None


class AutomatedDecisionIn(BaseModel):
    subject_id: str
    kind: str
    logic_version: str
    outcome: str
    inputs: dict[str, Any]
    explanation: ExplanationIn
    is_significant: bool = True


@router.post("/disclosures", status_code=201)
def record_disclosure(body: DisclosureIn, request: Request, session: DbSession, key: SecretKey) -> dict[str, Any]:
    SubjectDirectory(session, get_keyring(request)).get(key.controller_id, body.subject_id)
    row = DisclosureLog(session).record(key.controller_id, body.subject_id, recipient_id=body.recipient,
                                        categories=body.categories, purpose=body.purpose,
                                        is_compelled=body.is_compelled, actor=f"api_key:{key.key_id}")
    return {"id": row.id, "disclosed_at": row.disclosed_at}


@router.post("/automated-decisions", status_code=201)
def record_decision(body: AutomatedDecisionIn, request: Request, session: DbSession,
                    key: SecretKey) -> dict[str, Any]:
    keyring = get_keyring(request)
    SubjectDirectory(session, keyring).get(key.controller_id, body.subject_id)
    e = body.explanation
    row = AutomatedDecisions(session, keyring).record(
        key.controller_id, body.subject_id, kind=body.kind, logic_version=body.logic_version, outcome=body.outcome,
        inputs=body.inputs, explanation=Text(zh=e.zh, en=e.en, zh_tw=e.zh_tw), is_significant=body.is_significant,
        actor=f"api_key:{key.key_id}")
    return {"id": row.id, "made_at": row.made_at}


@router.get("/account-closures")
def account_closures(session: DbSession, key: SecretKey, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Subjects whose account the host must close (login disabled): cancellation requests approved since `since`."""
    q = select(DataRequest.id, DataRequest.subject_id, DataRequest.approved_at, DataRequest.status).where(
        DataRequest.controller_id == key.controller_id, DataRequest.kind == "cancellation",
        DataRequest.approved_at.is_not(None))
    if since is not None:
        q = q.where(DataRequest.approved_at > since)
    return [{"request_id": r.id, "subject_id": r.subject_id, "since": r.approved_at, "status": r.status}
            for r in session.execute(q.order_by(DataRequest.approved_at)).all()]
