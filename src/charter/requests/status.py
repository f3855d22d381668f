"""What a request looks like to the person and to staff: status, deadlines, held items, refusal ground, tasks
(with what each did: counts only), recipient acknowledgements, and any error."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.i18n import Lang
from charter.requests.deadlines import deadline_flags
from charter.requests.lifecycle import Status
from charter.requests.models import DataRequest, HeldItem, ManualTask, RecipientNotice, RequestTask
from charter.requests.services import RequestService, local_date

__all__ = ["HeldOut", "RequestStatus", "TaskOut", "describe"]


class HeldOut(BaseModel):
    collection: str
    field: str
    rule: str
    reason: str


class TaskOut(BaseModel):
    position: int
    operation: str
    collection: str | None
    status: str
    attempts: int
    record: dict[str, Any] | None
    error: str | None


class RecipientOut(BaseModel):
    recipient: str
    action: str
    categories: list[str]
    acknowledged_at: dt.datetime | None


class RequestStatus(BaseModel):
    id: str
    reference: str
    kind: str
    status: str
    received_on: dt.date
    due_on: dt.date
    due_rule: str
    is_overdue: bool
    needs_late_reason: bool
    late_reason_recorded: bool
    refusal_ground: str | None
    refusal_label: str | None
    held_items: list[HeldOut]
    open_manual_tasks: int
    recipients: list[RecipientOut]
    tasks: list[TaskOut] | None
    error: str | None
    completed_at: dt.datetime | None


def describe(session: Session, keyring: Keyring, request: DataRequest, *, for_staff: bool,
             today: dt.date | None = None) -> RequestStatus:
    lang = Lang.parse(request.language)
    status = Status(request.status)
    day = today or local_date(utcnow(), request.jurisdictions)
    flags = deadline_flags(is_done=status.is_done, jurisdictions=request.jurisdictions, due_on=request.due_on,
                           late_reason_on=request.late_reason_at.date() if request.late_reason_at else None,
                           today=day)
    label = None
    if request.refusal_ground:
        labels = RequestService(session, keyring).allowed_grounds(request)
        label = labels[request.refusal_ground].get(lang) if request.refusal_ground in labels else None
    return RequestStatus(
        id=request.id, reference=request.reference, kind=request.kind, status=request.status,
        received_on=request.received_on, due_on=request.due_on, due_rule=request.due_rule,
        is_overdue=flags.is_overdue, needs_late_reason=flags.needs_late_reason,
        late_reason_recorded=request.late_reason_at is not None, refusal_ground=request.refusal_ground,
        refusal_label=label, held_items=_held(session, request, lang), open_manual_tasks=_open_manual(session,
                                                                                                     request),
        recipients=_recipients(session, request), tasks=_tasks(session, request) if for_staff else None,
        error=request.error_message if for_staff or status is Status.FAILED else None,
        completed_at=request.completed_at)


def _held(session: Session, request: DataRequest, lang: Lang) -> list[HeldOut]:
    rows = session.execute(select(HeldItem).where(HeldItem.request_id == request.id).order_by(HeldItem.id)).scalars()
    key = {Lang.EN: "en", Lang.ZH_TW: "zh_tw", Lang.ZH_CN: "zh"}[lang]
    return [HeldOut(collection=h.collection, field=h.field, rule=h.rule,
                    reason=h.reason.get(key) or h.reason["zh"]) for h in rows]


def _open_manual(session: Session, request: DataRequest) -> int:
    return len(session.execute(select(ManualTask.id).where(ManualTask.request_id == request.id,
                                                           ManualTask.status == "open")).all())


def _recipients(session: Session, request: DataRequest) -> list[RecipientOut]:
    rows = session.execute(select(RecipientNotice).where(RecipientNotice.request_id == request.id)
                           .order_by(RecipientNotice.id)).scalars()
    return [RecipientOut(recipient=r.recipient_id, action=r.action, categories=r.categories,
                         acknowledged_at=r.acknowledged_at) for r in rows]


def _tasks(session: Session, request: DataRequest) -> list[TaskOut]:
    rows = session.execute(select(RequestTask).where(RequestTask.request_id == request.id)
                           .order_by(RequestTask.position)).scalars()
    return [TaskOut(position=t.position, operation=t.operation, collection=t.collection, status=t.status,
                    attempts=t.attempts, record=t.record, error=t.error_message) for t in rows]
