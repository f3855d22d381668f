"""Running a request's persisted tasks, one after another, so that a crash at any point loses nothing and does
nothing twice.

Each task goes through three short steps:

1. **claim** — one transaction sets it `running` with a lease and counts the attempt (a conditional UPDATE, so
   of two workers handed the same id only one wins; a task whose lease ran out can be claimed again);
2. **execute** — the connector call, with no transaction open (every operation is idempotent);
3. **settle** — one transaction records what it did (counts only; rows and keys encrypted), runs the tasks that
   change only Charter's database, and moves on: the next task is claimed in the same transaction, or the request
   completes. The attempt number fences the settle: a worker whose lease was taken over records nothing.

A worker killed between 2 and 3 leaves the task `running`; once the lease expires the sweeper hands it out again
and the idempotent operation runs once more. Completion happens in the settle of the last task, under the
request row's lock, from `executing` only: exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.connectors.base import ConnectorError, Row
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError
from charter.core.i18n import Text
from charter.datamap.connections import ConnectorPool
from charter.datamap.services import DataMapStore, as_datamap
from charter.requests.internal import INTERNAL, RUNNER_ACTOR
from charter.requests.lifecycle import Event, Status, transition
from charter.requests.models import DataRequest, HeldItem, ManualTask, RequestSettings, RequestTask
from charter.requests.operations import EXTERNAL, Outcome, TaskContext
from charter.requests.planning import Operation
from charter.requests.services import RequestService
from charter.requests.texts import held_line
from charter.subjects.services import SubjectDirectory

__all__ = ["DEFAULT_LEASE", "TaskRunner", "complete_request", "held_lines", "next_task", "result_context", "unfinished"]

log = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 5
_WAITING, _DONE, _FAILED, _RUNNING, _PENDING = "waiting", "done", "failed", "running", "pending"


def result_context(controller_id: str) -> str:
    return f"request_tasks.result:{controller_id}"


@dataclass(frozen=True)
class Claim:
    task_id: int
    attempt: int
    context: TaskContext


class TaskRunner:
    """Runs tasks by id. `notify` wakes the outbox sender after a commit that queued a message."""

    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, pool: ConnectorPool, *,
                 lease: dt.timedelta = DEFAULT_LEASE, notify: Callable[[], None] | None = None) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.pool = pool
        self.lease = lease
        self.notify = notify

    def run(self, task_id: int) -> None:
        """Run this task and, one after another, the rest of its request."""
        claim = self._claim_alone(task_id)
        while claim is not None:
            claim = self._step(claim)

    def _step(self, claim: Claim) -> Claim | None:
        following: Claim | None
        operation = claim.context.operation
        try:
            outcome = EXTERNAL[operation](claim.context, self.pool) if operation in EXTERNAL else Outcome()
        except CharterError as exc:
            self._record_failure(claim, exc)
            return None
        following = self._in_transaction(lambda s: self._settle(s, claim, outcome))
        return following

    def _record_failure(self, claim: Claim, exc: CharterError) -> None:
        with self.sessions() as session, session.begin():
            self._fail(session, claim, exc)

    def _in_transaction(self, work: Callable[[Session], Any]) -> Any:
        with self.sessions() as session, session.begin():
            result = work(session)
        if self.notify is not None:
            self.notify()
        return result

    # --- claim --------------------------------------------------------------------------------------------

    def _claim_alone(self, task_id: int) -> Claim | None:
        claim: Claim | None = self._in_transaction(lambda s: self._claim(s, task_id))
        return claim

    def _claim(self, session: Session, task_id: int) -> Claim | None:
        task = session.get(RequestTask, task_id)
        if task is None or task.status in (_DONE, _FAILED, _WAITING):
            return None
        request = session.get(DataRequest, task.request_id)
        if request is None or Status(request.status) is not Status.EXECUTING or self._blocked(session, task):
            return None
        now = utcnow()
        claimed = session.execute(
            update(RequestTask).where(RequestTask.id == task_id, or_(
                RequestTask.status == _PENDING, and_(RequestTask.status == _RUNNING, RequestTask.lease_until < now)))
            .values(status=_RUNNING, lease_until=now + self.lease, attempts=RequestTask.attempts + 1,
                    started_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.refresh(task)
        if task.attempts > MAX_ATTEMPTS:
            self._fail(session, Claim(task.id, task.attempts, self._context(session, request, task)),
                       CharterError(f"the task was interrupted {MAX_ATTEMPTS} times", fix="Check the worker's log, "
                                    "then retry the request."))
            return None
        return Claim(task.id, task.attempts, self._context(session, request, task))

    def _blocked(self, session: Session, task: RequestTask) -> bool:
        """Tasks run in order: an earlier one not yet done (or waiting for staff) blocks this one."""
        return session.execute(select(RequestTask.id).where(
            RequestTask.request_id == task.request_id, RequestTask.position < task.position,
            RequestTask.status.not_in((_DONE, _WAITING))).limit(1)).first() is not None

    def _context(self, session: Session, request: DataRequest, task: RequestTask) -> TaskContext:
        identities: dict[str, list[str]] = {}
        if request.subject_id is not None:
            for identity in SubjectDirectory(session, self.keyring).identities(request.controller_id,
                                                                               request.subject_id):
                identities.setdefault(identity.kind.value, []).append(identity.value)
        return TaskContext(
            task_id=task.id, request_id=request.id, controller_id=request.controller_id,
            subject_id=request.subject_id, operation=Operation(task.operation), spec=task.spec,
            params=RequestService(session, self.keyring).params(request),
            identities={k: tuple(v) for k, v in identities.items()},
            found=self._found(session, request) if task.operation in EXTERNAL else {},
            login_webhook=self._login_webhook(session, request) if task.operation == Operation.DISABLE_LOGIN
            else None)

    def _found(self, session: Session, request: DataRequest) -> dict[str, tuple[Row, ...]]:
        rows = session.execute(select(RequestTask.collection, RequestTask.result_encrypted).where(
            RequestTask.request_id == request.id, RequestTask.operation == Operation.RETRIEVE.value,
            RequestTask.status == _DONE)).all()
        return {key: tuple(self.rows(request.controller_id, blob)) for key, blob in rows if key and blob}

    def rows(self, controller_id: str, blob: str) -> list[Row]:
        loaded: list[Row] = json.loads(self.keyring.decrypt(blob, result_context(controller_id)))
        return loaded

    def _login_webhook(self, session: Session, request: DataRequest) -> tuple[str, bytes] | None:
        settings = session.get(RequestSettings, request.controller_id)
        if settings is None or not settings.login_webhook_url or not settings.login_webhook_key_encrypted:
            return None
        key = self.keyring.decrypt(settings.login_webhook_key_encrypted,
                                   f"request_settings.login_webhook_key:{request.controller_id}")
        return settings.login_webhook_url, key.encode()

    # --- settle -------------------------------------------------------------------------------------------

    def _settle(self, session: Session, claim: Claim, outcome: Outcome) -> Claim | None:
        task = session.get(RequestTask, claim.task_id, with_for_update=True)
        if task is None or task.status != _RUNNING or task.attempts != claim.attempt:
            return None  # another worker took the task over after our lease ran out; it records the result
        request = session.get(DataRequest, task.request_id, with_for_update=True)
        assert request is not None  # noqa: S101 - tasks are deleted with their request
        record = dict(outcome.record)
        if task.operation in INTERNAL:
            record.update(INTERNAL[Operation(task.operation)](session, self.keyring, request, task))
        if outcome.result is not None:
            task.result_encrypted = self.keyring.encrypt(json.dumps(outcome.result, ensure_ascii=False, default=str),
                                                         result_context(request.controller_id))
        task.record, task.finished_at, task.lease_until = record, utcnow(), None
        self._hold(session, request, outcome)
        if outcome.manual is not None:
            self._manual(session, request, task, outcome)
            return self.advance(session, request)
        task.status = _DONE
        AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.task_done",
                                 target=f"request:{request.id}",
                                 data={"task": task.position, "operation": task.operation,
                                       "collection": task.collection, "attempt": task.attempts, **_counts(record)})
        return self.advance(session, request)

    def advance(self, session: Session, request: DataRequest) -> Claim | None:
        """Claim the request's next pending task, or complete the request when every task is done. A task
        waiting for staff does not hold up the ones after it; the request completes when staff finish it."""
        session.flush()
        following = next_task(session, request.id)
        if following is not None:
            return self._claim(session, following)
        if not unfinished(session, request.id):
            self._complete(session, request)
        return None

    def _complete(self, session: Session, request: DataRequest) -> None:
        complete_request(session, self.keyring, request)

    def _hold(self, session: Session, request: DataRequest, outcome: Outcome) -> None:
        if not outcome.held:
            return
        datamap = as_datamap(DataMapStore(session).get(request.controller_id, request.datamap_version or ""))
        for item in outcome.held:
            rule = datamap.retention_rule(item.rule)
            reason = {"zh": rule.reason.zh, "en": rule.reason.en, "zh_tw": rule.reason.zh_tw} if rule else \
                {"zh": item.rule, "en": item.rule}
            exists = session.execute(select(HeldItem.id).where(
                HeldItem.request_id == request.id, HeldItem.collection == item.collection,
                HeldItem.field == item.field)).first()
            if exists is None:
                session.add(HeldItem(request_id=request.id, controller_id=request.controller_id,
                                     collection=item.collection, field=item.field, rule=item.rule, reason=reason))

    def _manual(self, session: Session, request: DataRequest, task: RequestTask, outcome: Outcome) -> None:
        action = outcome.manual
        assert action is not None  # noqa: S101 - only called with one
        task.status = _WAITING
        session.add(ManualTask(controller_id=request.controller_id, request_id=request.id, task_id=task.id,
                               collection=action.collection, operation=action.operation.value,
                               instructions={"zh": action.instructions.zh, "en": action.instructions.en},
                               fields=list(action.fields), status="open"))
        AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.manual_task_opened",
                                 target=f"request:{request.id}",
                                 data={"task": task.position, "collection": action.collection,
                                       "operation": action.operation.value})

    # --- failure ------------------------------------------------------------------------------------------

    def _fail(self, session: Session, claim: Claim, exc: CharterError) -> None:
        task = session.get(RequestTask, claim.task_id, with_for_update=True)
        if task is None or task.attempts != claim.attempt or task.status != _RUNNING:
            return
        request = session.get(DataRequest, task.request_id, with_for_update=True)
        assert request is not None  # noqa: S101
        code = exc.code if isinstance(exc, ConnectorError | CharterError) else "error"
        task.status, task.error_code, task.error_message = _FAILED, code, exc.message[:1000]
        task.finished_at, task.lease_until = utcnow(), None
        if Status(request.status) is Status.EXECUTING:
            request.status = transition(request.status, Event.FAIL).value
            request.error_code = code
            request.error_message = f"{task.collection or task.operation}: {exc.message}"[:1000]
            request.updated_at = utcnow()
        AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.failed",
                                 target=f"request:{request.id}",
                                 data={"task": task.position, "collection": task.collection, "error": code})


def next_task(session: Session, request_id: str) -> int | None:
    return session.execute(select(RequestTask.id).where(
        RequestTask.request_id == request_id, RequestTask.status == _PENDING)
        .order_by(RequestTask.position).limit(1)).scalar_one_or_none()


def unfinished(session: Session, request_id: str) -> bool:
    return session.execute(select(RequestTask.id).where(
        RequestTask.request_id == request_id, RequestTask.status != _DONE).limit(1)).first() is not None


def held_lines(session: Session, request: DataRequest) -> list[Text]:
    items = session.execute(select(HeldItem).where(HeldItem.request_id == request.id)
                            .order_by(HeldItem.id)).scalars()
    return [held_line(i.collection, i.field, Text(zh=i.reason["zh"], en=i.reason["en"], zh_tw=i.reason.get("zh_tw")))
            for i in items]


def complete_request(session: Session, keyring: Keyring, request: DataRequest) -> None:
    """Every task is done: completed (or with held items), audited and told to the person — once, from
    `executing` only, under the request row's lock the caller holds."""
    if Status(request.status) is not Status.EXECUTING:
        return
    held = held_lines(session, request)
    event = Event.COMPLETE_WITH_HELD_ITEMS if held else Event.COMPLETE
    request.status = transition(request.status, event).value
    request.completed_at = request.updated_at = utcnow()
    AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.completed",
                             target=f"request:{request.id}", data={"status": request.status, "held": len(held)})
    RequestService(session, keyring).tell(request, "request_completed", {"held_items": held}, actor=RUNNER_ACTOR)


def _counts(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if isinstance(v, int | bool)}
