"""What staff do with requests (through `/v1/admin/…` now, the admin console later): the per-controller
settings, completing manual tasks, retrying a failed request, and the lists they work from."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.requests.interfaces import TaskQueue
from charter.requests.lifecycle import Event, Status, transition
from charter.requests.models import DataRequest, ManualTask, RecipientNotice, RequestSettings, RequestTask
from charter.requests.runner import complete_request, next_task, unfinished
from charter.requests.services import RequestService
from charter.requests.verification import assertion_key_context

__all__ = ["IssuedSecret", "StaffDesk"]


@dataclass(frozen=True)
class IssuedSecret:
    value: str
    """Shown once; Charter keeps it encrypted."""


def login_webhook_context(controller_id: str) -> str:
    return f"request_settings.login_webhook_key:{controller_id}"


class StaffDesk:
    def __init__(self, session: Session, keyring: Keyring, *, queue: TaskQueue | None = None) -> None:
        self.session = session
        self.keyring = keyring
        self.requests = RequestService(session, keyring, queue=queue)
        self.audit = AuditLog(session)

    # --- settings -----------------------------------------------------------------------------------------

    def set_needs_approval(self, controller_id: str, needs_approval: bool, *, actor: str) -> RequestSettings:
        settings = self.requests.settings(controller_id)
        settings.needs_approval, settings.updated_at = needs_approval, utcnow()
        self.audit.record(controller_id, actor=actor, action="request_settings.changed", target="request_settings",
                          data={"needs_approval": needs_approval})
        return settings

    def issue_assertion_key(self, controller_id: str, *, actor: str) -> IssuedSecret:
        """A new key for host assertions (the old one stops working at once)."""
        key = secrets.token_urlsafe(32)
        settings = self.requests.settings(controller_id)
        settings.assertion_key_encrypted = self.keyring.encrypt(key, assertion_key_context(controller_id))
        settings.updated_at = utcnow()
        self.audit.record(controller_id, actor=actor, action="request_settings.assertion_key_issued",
                          target="request_settings")
        return IssuedSecret(key)

    def set_login_webhook(self, controller_id: str, url: str | None, *, actor: str) -> IssuedSecret | None:
        """Where the host is told to disable a cancelled account's login; None removes it (the host polls)."""
        settings = self.requests.settings(controller_id)
        if url is None:
            settings.login_webhook_url = settings.login_webhook_key_encrypted = None
            self.audit.record(controller_id, actor=actor, action="request_settings.login_webhook_removed",
                              target="request_settings")
            return None
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise CharterError("the login webhook must be an https URL (plain http only to localhost)", field="url")
        key = secrets.token_urlsafe(32)
        settings.login_webhook_url = url
        settings.login_webhook_key_encrypted = self.keyring.encrypt(key, login_webhook_context(controller_id))
        self.audit.record(controller_id, actor=actor, action="request_settings.login_webhook_set",
                          target="request_settings", data={"host": parts.netloc})
        return IssuedSecret(key)

    # --- manual tasks -------------------------------------------------------------------------------------

    def manual_tasks(self, controller_id: str, *, status: str | None = "open") -> list[ManualTask]:
        q = select(ManualTask).where(ManualTask.controller_id == controller_id)
        if status is not None:
            q = q.where(ManualTask.status == status)
        return list(self.session.execute(q.order_by(ManualTask.created_at, ManualTask.id)).scalars())

    def complete_manual_task(self, controller_id: str, manual_id: int, *, rows_affected: int,
                             actor: str) -> ManualTask:
        """Staff did what the instructions say; the request carries on with its next task."""
        manual = self.session.get(ManualTask, manual_id, with_for_update=True)
        if manual is None or manual.controller_id != controller_id:
            raise NotFound(f"no manual task {manual_id}", field="manual_task_id")
        if manual.status != "open":
            raise Conflict("the manual task is already completed", field="manual_task_id")
        if rows_affected < 0:
            raise CharterError("rows_affected cannot be negative", field="rows_affected")
        task = self.session.get(RequestTask, manual.task_id, with_for_update=True)
        assert task is not None  # noqa: S101 - deleted together
        manual.status, manual.completed_at, manual.completed_by = "done", utcnow(), actor
        manual.rows_affected = rows_affected
        task.status, task.finished_at = "done", utcnow()
        task.record = {**(task.record or {}), "manual": True, "rows_affected": rows_affected}
        self.audit.record(controller_id, actor=actor, action="request.manual_task_completed",
                          target=f"request:{manual.request_id}",
                          data={"manual_task": manual.id, "collection": manual.collection,
                                "rows_affected": rows_affected})
        self._carry_on(manual.request_id)
        return manual

    def _carry_on(self, request_id: str) -> None:
        request = self.session.get(DataRequest, request_id, with_for_update=True)
        assert request is not None  # noqa: S101
        self.session.flush()
        following = next_task(self.session, request_id)
        if following is not None:
            self.requests.enqueue_after_commit([following])
        elif not unfinished(self.session, request_id):
            complete_request(self.session, self.keyring, request)

    def retry(self, controller_id: str, request_id: str, *, actor: str) -> DataRequest:
        """Run a failed request again from its failed task (its earlier tasks stay done)."""
        request = self.requests.get(controller_id, request_id, lock=True)
        transition(request.status, Event.RETRY)
        tasks = list(self.session.execute(select(RequestTask).where(RequestTask.request_id == request_id)).scalars())
        request.error_code = request.error_message = None
        self.audit.record(controller_id, actor=actor, action="request.retried", target=f"request:{request.id}")
        if not tasks:  # planning failed: plan again
            request.status = Status.APPROVED.value
            self.requests.plan(request, actor=actor)
            return request
        request.status = transition(request.status, Event.RETRY).value
        for task in tasks:
            if task.status in ("failed", "running"):
                task.status, task.attempts, task.error_code, task.error_message = "pending", 0, None, None
                task.enqueued_at = utcnow()
        self._carry_on(request.id)
        return request

    # --- recipients ---------------------------------------------------------------------------------------

    def acknowledge(self, token_hash: str) -> RecipientNotice:
        notice = self.session.execute(select(RecipientNotice).where(RecipientNotice.token_hash == token_hash)
                                      .with_for_update()).scalar_one_or_none()
        if notice is None:
            raise NotFound("no notice for this acknowledgement link", field="token")
        if notice.acknowledged_at is None:
            notice.acknowledged_at = utcnow()
            self.audit.record(notice.controller_id, actor=f"recipient:{notice.recipient_id}",
                              action="request.recipient_acknowledged", target=f"request:{notice.request_id}",
                              data={"recipient": notice.recipient_id, "action": notice.action})
        return notice

    def notices(self, controller_id: str, request_id: str) -> list[RecipientNotice]:
        self.requests.get(controller_id, request_id)
        return list(self.session.execute(select(RecipientNotice).where(
            RecipientNotice.request_id == request_id).order_by(RecipientNotice.id)).scalars())

    def overdue(self, controller_id: str, today: dt.date) -> list[DataRequest]:
        return [r for r in self.requests.open_requests(controller_id) if r.due_on < today]
