"""Running a request's persisted tasks so that a crash at any point loses nothing and does nothing twice, in as few
transactions as that allows.

Tasks run in order, in *batches* of consecutive tasks that talk to a store, each batch in three short steps:

1. **claim** — one transaction sets the batch's tasks `running` with a lease and counts an attempt on each (one
   conditional UPDATE; if any task is no longer claimable, the whole claim rolls back: another worker has the
   request). Tasks run in order, so holding the first unfinished task of a request holds the request;
2. **execute** — the connector calls, one after another, with no transaction open in Charter's database (every
   operation is idempotent). Rows a retrieve finds are kept in memory for the lookups after it. A batch of reads
   runs in autocommit; a batch of changes made only in SQL stores holds one transaction per store and commits it
   before the settle, so its statements pay for one commit, not one each. If one of its tasks fails, the stores
   roll back what the batch changed and only the failure is recorded: nothing is recorded as done that a store
   did not keep. A batch that also calls the host or changes Redis changes each at once, as a transaction held
   across a call into the host could wait on the host;
3. **settle** — one transaction records what each task did (counts only; rows and keys encrypted) and its audit
   event (one INSERT for the batch), runs the tasks that change only Charter's database, and moves on: the next
   batch is claimed in the same transaction, or the request completes. Each task's attempt number fences its
   settle: a worker whose lease was taken over records nothing.

A batch never holds a change (erase, rectify, disable login) after a retrieve: the access pass is settled —
its rows and keys stored — before anything is changed, since an erased parent could not be found again to
re-derive them. A worker killed between 2 and 3 leaves its tasks `running`; once the lease expires the sweeper
hands out the first one, its claim takes the rest, and the idempotent operations run once more. A batch stops
starting tasks after half its lease, so a slow store cannot make the lease run out under a live worker; what it
did not start is released in the settle and claimed again. Completion happens in the settle of the last batch,
under the request row's lock, from `executing` only: exactly once.

With the in-process worker, a request's first batch that only reads starts while the transaction that planned it is
still open, and that transaction, at its end, settles it itself if it finished within a short wait (`Gate`,
`settle_in`): one transaction fewer, the same records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from charter.audit.services import AuditLog, Entry, batched
from charter.connectors.base import ConnectorError, Row, StoreKind
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError
from charter.core.i18n import Text
from charter.core.locks import lock_controller, locked_controller
from charter.datamap.compiled import compiled
from charter.datamap.connections import ConnectorPool
from charter.datamap.plan import TaskSpec
from charter.requests.interfaces import FirstClaim, Planned
from charter.requests.internal import INTERNAL, RUNNER_ACTOR
from charter.requests.lifecycle import Event, Status, transition
from charter.requests.models import REQUESTS, TASKS, DataRequest, HeldItem, ManualTask, RequestSettings, RequestTask
from charter.requests.operations import EXTERNAL, Outcome, TaskContext
from charter.requests.planning import Operation
from charter.requests.services import RequestService
from charter.requests.texts import held_line
from charter.subjects.services import SubjectDirectory

__all__ = ["DEFAULT_LEASE", "Batch", "TaskRunner", "complete_request", "held_lines", "next_task", "result_context",
           "unfinished"]

log = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 5
GATE_WAIT = 60.0
"""Seconds a batch started before its planning transaction ended waits to hear that it committed."""
_WAITING, _DONE, _FAILED, _RUNNING, _PENDING = "waiting", "done", "failed", "running", "pending"
_CHANGES = frozenset({Operation.ERASE, Operation.RECTIFY, Operation.DISABLE_LOGIN})
"""External operations that change a store: never in the same batch after a retrieve."""
_TRANSACTIONAL = frozenset({StoreKind.POSTGRESQL.value, StoreKind.MYSQL.value, StoreKind.SQLITE.value,
                            StoreKind.MANUAL.value})
"""Stores whose changes a batch can hold in a transaction (a manual store changes nothing itself)."""


def _store_kind(spec: Mapping[str, Any]) -> str | None:
    task = spec.get("task")
    connection = task.get("connection") if isinstance(task, Mapping) else None
    kind = connection.get("kind") if isinstance(connection, Mapping) else None
    return kind if isinstance(kind, str) else None


def result_context(controller_id: str) -> str:
    return f"request_tasks.result:{controller_id}"


class _TaskRow(NamedTuple):
    """A task as the runner reads it: the columns that decide what runs next, never its spec or its result (the
    spec comes back with the claim, the results only when a run starts)."""

    id: int
    position: int
    operation: str
    collection: str | None
    status: str
    attempts: int
    lease_until: dt.datetime | None


_TASK_COLUMNS = (TASKS.c.id, TASKS.c.position, TASKS.c.operation, TASKS.c.collection, TASKS.c.status,
                 TASKS.c.attempts, TASKS.c.lease_until)


_TASKS_OF = select(*_TASK_COLUMNS).where(TASKS.c.request_id == bindparam("request_id")).order_by(TASKS.c.position)
_TASKS_OF_LOCKED = _TASKS_OF.with_for_update()
"""A request's tasks in order (built once: SQLAlchemy then reuses its compiled form without rebuilding it)."""


def _task_rows(session: Session, request_id: str, *, lock: bool = False) -> list[_TaskRow]:
    found = session.execute(_TASKS_OF_LOCKED if lock else _TASKS_OF, {"request_id": request_id})
    return [_TaskRow(*row) for row in found]


class _Contended(Exception):
    """A task of the batch was no longer claimable: another worker has the request. The transaction rolls back."""


@dataclass(frozen=True)
class Claim:
    task_id: int
    attempt: int
    position: int
    operation: Operation
    collection: str | None
    spec: Mapping[str, Any]


@dataclass
class Carried:
    """What a run of a request loads once and keeps from batch to batch: its tasks' inputs, and the rows (or keys)
    its retrieve tasks found — the same values the settles store, so nothing is read back."""

    request_id: str
    controller_id: str
    subject_id: str | None
    params: Mapping[str, Any]
    identities: Mapping[str, tuple[str, ...]]
    found: dict[str, tuple[Row, ...]]
    """Collection key → rows (or saved keys) the request's retrieve tasks found, a running batch's included."""
    login_webhook: tuple[str, bytes] | None
    parsed: Mapping[int, TaskSpec] = field(default_factory=dict)
    """Task id → its store task already parsed (from planning, in this process); others are parsed from the spec."""
    specs: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    """Task id → its spec, as planning wrote it (in this process); a task not here has its spec read when it runs."""
    may_hold: bool = True
    """False while the request is known to have no held item (none planned, none recorded by this run)."""


class Gate:
    """Between a batch started before the transaction that planned and claimed it ended, and that transaction.

    The transaction's outcome: committed or abandoned (rolled back), whichever is said first; a worker settles the
    batch only once committed. And who settles it: the worker `offer`s what the batch did when it ends; if the
    transaction, at its end, `take`s it (within its wait), it records it itself and the worker leaves it."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._committed = False
        self._lock = threading.Lock()
        self._ran = threading.Condition(self._lock)
        self._offered = False
        self._done: _Executed | None = None
        self._taken: bool | None = None

    def offer(self, done: _Executed | None) -> None:
        """The batch ended (None: it crashed, there is nothing to take). Only the first offer counts."""
        with self._ran:
            if not self._offered:
                self._offered, self._done = True, done
                self._ran.notify_all()

    def take(self, timeout: float) -> _Executed | None:
        """What the batch did, if it is offered within `timeout` seconds; the worker then leaves the settle to the
        caller. Otherwise None, and the worker settles it after the commit."""
        with self._ran:
            if self._taken is None:
                self._ran.wait_for(lambda: self._offered, timeout)
                self._taken = self._done is not None
            return self._done if self._taken else None

    @property
    def taken(self) -> bool:
        with self._lock:
            if self._taken is None:
                self._taken = False  # decided now: whoever asks first, the caller can no longer take it
            return self._taken

    def commit(self) -> None:
        self._decide(committed=True)

    def abandon(self) -> None:
        self._decide(committed=False)

    def _decide(self, *, committed: bool) -> None:
        with self._lock:
            if not self._decided.is_set():
                self._committed = committed
                self._decided.set()

    def wait(self, timeout: float) -> bool:
        """True once committed; False when abandoned, or still undecided after `timeout` seconds."""
        return self._decided.wait(timeout) and self._committed


@dataclass
class Batch:
    """Tasks claimed together, in order."""

    carried: Carried
    claims: tuple[Claim, ...]
    started: float = field(default_factory=time.monotonic)
    gate: Gate | None = None
    """Set when the batch starts before the transaction that claimed it has committed (it only reads)."""
    written: tuple[_TaskRow, ...] | None = None
    """A request's first batch: every task of the request as the transaction that planned it writes them, and the
    request itself (`planned_request`), so that a settle in that transaction (`settle_in`) reads nothing back."""
    planned_request: DataRequest | None = None

    @property
    def reads_only(self) -> bool:
        return all(c.operation is Operation.RETRIEVE for c in self.claims)

    @property
    def changes(self) -> bool:
        """Whether the batch changes a store."""
        return any(c.operation in _CHANGES for c in self.claims)

    @property
    def atomic(self) -> bool:
        """A batch of changes made only in SQL stores (or left to staff): it holds one transaction per store, and
        its changes commit together or not at all. A batch that also calls the host (a webhook store, the login
        webhook) or changes Redis makes each change at once: a transaction held open across a call into the host
        could wait on the host, which may be writing to the same database."""
        return self.changes and all(c.operation is not Operation.DISABLE_LOGIN and
                                    _store_kind(c.spec) in _TRANSACTIONAL for c in self.claims)

    @property
    def may_start_early(self) -> bool:
        """Whether the batch may run before the transaction that claimed it commits: it only reads, or it is atomic,
        so nothing it changes is committed before that transaction is (`TaskRunner._execute`)."""
        return self.reads_only or self.atomic

    def bind(self, ids: Sequence[int]) -> None:
        """The claimed tasks' ids, now they are written, for the ids that stood in for them (-1 - position) while
        the batch may already run: the claims are replaced whole, and the carried specs answer to both ids, so a
        run under way finds what it needs either way; the settle, after the commit, sees the real ones."""
        real = {-1 - position: task_id for position, task_id in enumerate(ids)}
        c = self.carried
        c.parsed = {**c.parsed, **{real[k]: v for k, v in c.parsed.items() if k in real}}
        c.specs = {**c.specs, **{real[k]: v for k, v in c.specs.items() if k in real}}
        self.claims = tuple(replace(claim, task_id=real.get(claim.task_id, claim.task_id)) for claim in self.claims)
        if self.written is not None:
            self.written = tuple(t._replace(id=real.get(t.id, t.id)) for t in self.written)

    def context(self, claim: Claim) -> TaskContext:
        c = self.carried
        return TaskContext(task_id=claim.task_id, request_id=c.request_id, controller_id=c.controller_id,
                           subject_id=c.subject_id, operation=claim.operation, spec=claim.spec, params=c.params,
                           identities=c.identities, found=c.found, login_webhook=c.login_webhook,
                           task=c.parsed.get(claim.task_id))


@dataclass
class _Executed:
    outcomes: list[Outcome] = field(default_factory=list)
    """What the first tasks of the batch did, in order: each is recorded as done."""
    failure: CharterError | None = None
    """The error of the task at `failed_at`: it failed, and the request with it."""
    failed_at: int = 0
    crashed: bool = False
    """An unexpected error in the task after the last outcome: it and the rest stay running for the sweeper."""

    def fail(self, at: int, error: CharterError) -> None:
        self.failure, self.failed_at = error, at

    def rolled_back(self) -> _Executed:
        """The same failure, with none of the outcomes: the stores rolled the batch's changes back (the tasks
        before the failed one are handed back, and run again if the request is retried)."""
        return _Executed(failure=self.failure, failed_at=self.failed_at)


class _RollBack(Exception):
    """Raised inside an atomic batch's `held` block so that every store rolls back what the batch changed."""


class _Abandoned(Exception):
    """The transaction that claimed a batch started early rolled back (or never said): its changes roll back."""


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
        """Run this task and, batch after batch, the rest of its request."""
        self.carry_on(self._in_transaction(lambda s: self._start(s, task_id)))

    def carry_on(self, batch: Batch | None) -> None:
        """Run a claimed batch and, batch after batch, the rest of its request."""
        while batch is not None:
            batch = self._execute(batch)

    def first_claim(self, operations: Sequence[str]) -> FirstClaim | None:
        """How many of a new request's first tasks (these operations, in order) the planning transaction writes
        claimed: its first batch, if it starts with store tasks. A request that starts with a task in Charter's own
        records is left to `run`."""
        now = utcnow()
        batch = _batch_from([_TaskRow(i, i, op, None, _PENDING, 0, None) for i, op in enumerate(operations)], now)
        return FirstClaim(len(batch), now, now + self.lease) if batch else None

    def claimed(self, session: Session, request: DataRequest, planned: Planned) -> Batch:
        """The batch the planning transaction wrote claimed (`first_claim`), from what that transaction holds:
        nothing is read back. Run it with `carry_on` once that transaction committed; if it rolls back, nothing
        was claimed."""
        carried = Carried(request_id=request.id, controller_id=request.controller_id, subject_id=request.subject_id,
                          params=planned.params, identities=planned.identities, found={}, login_webhook=None,
                          parsed={t.id: t.task for t in planned.tasks if t.task is not None},
                          specs={t.id: t.spec for t in planned.tasks}, may_hold=planned.held)
        claims = tuple(Claim(t.id, 1, t.position, Operation(t.operation), t.collection, t.spec)
                       for t in planned.tasks[:planned.claimed])
        if any(c.operation is Operation.DISABLE_LOGIN for c in claims):
            carried.login_webhook = self._login_webhook(session, request)
        written = tuple(_TaskRow(t.id, t.position, t.operation, t.collection, *(
            (_RUNNING, 1) if t.position < planned.claimed else (_PENDING, 0)), None) for t in planned.tasks)
        return Batch(carried, claims, written=written, planned_request=request)

    def _execute(self, batch: Batch) -> Batch | None:
        """Run the batch, then settle it. An atomic batch (`Batch.atomic`) holds one transaction per SQL store,
        committed before the settle records anything: if a task fails, the tasks before it are rolled back rather
        than recorded, and if a commit fails, the batch fails as a whole (what other stores committed is done again
        on a retry)."""
        done = _Executed()
        try:
            with self._offered_if_crashed(batch), self.pool.held(atomic=batch.atomic):
                done = self._run_batch(batch)
                if batch.atomic and done.failure is not None:
                    raise _RollBack
                if batch.atomic and batch.gate is not None and not batch.gate.wait(GATE_WAIT):
                    raise _Abandoned  # nothing it changed may be kept: the stores roll back
        except _RollBack:
            done = done.rolled_back()
        except _Abandoned:
            log.info("a request's batch of changes was started before its claim committed, which it did not")
            return None
        except ConnectorError as exc:
            if not batch.atomic or done.failure is not None or done.crashed:
                raise
            done = _Executed(failure=exc, failed_at=0)  # the commit failed: nothing the batch did is known done
        following: Batch | None = self._settle_once_claimed(batch, done)
        return following

    def _settle_once_claimed(self, batch: Batch, done: _Executed) -> Batch | None:
        """Settle, once the claim is committed: a batch started early (its gate set) whose planning transaction
        rolled back, or said nothing for `GATE_WAIT` seconds, is dropped (its reads changed nothing; tasks
        committed later are the sweeper's once their lease ends; a settle after the lease is fenced as any is),
        and one that transaction took and settled itself is left."""
        if batch.gate is not None:
            batch.gate.offer(done)
            if not batch.gate.wait(GATE_WAIT):
                log.info("a request's first batch was started before its planning transaction, which did not commit")
                return None
            if batch.gate.taken:
                return None
        following: Batch | None = self._in_transaction(lambda s: self._settle(s, batch, done))
        return following

    @contextmanager
    def _offered_if_crashed(self, batch: Batch) -> Iterator[None]:
        """A batch started early that crashes tells its planning transaction at once: nothing to take."""
        try:
            yield
        except BaseException:
            if batch.gate is not None:
                batch.gate.offer(None)
            raise

    def settle_in(self, session: Session, batch: Batch, wait: float, start: Callable[[Batch], None]) -> Batch | None:
        """In the transaction that planned and claimed `batch` (started early), at its end: if the batch ends
        within `wait` seconds, record it here — the worker then leaves it — and return the next batch claimed. The
        tasks and the request were written in this transaction, so no other worker can hold them and nothing is
        read back; a batch of store tasks claimed next is handed to `start` before anything is recorded, so that it
        may start while this settle writes (`InProcessWorker.start_early`: only what it changes stays uncommitted
        until this transaction commits)."""
        assert batch.gate is not None  # noqa: S101 - only a batch started early
        done = batch.gate.take(wait)
        if done is None:
            return None
        following: Batch | None = self._settle(session, batch, done, here=start)
        return following

    def _run_batch(self, batch: Batch) -> _Executed:
        done = _Executed()
        budget = self.lease.total_seconds() / 2
        for index, claim in enumerate(batch.claims):
            if done.outcomes and time.monotonic() - batch.started > budget:
                break  # the rest is released in the settle and claimed again with a fresh lease
            try:
                outcome = EXTERNAL[claim.operation](batch.context(claim), self.pool)
            except CharterError as exc:
                done.fail(index, exc)
                break
            except Exception:
                # Keep what the earlier tasks did (unless the batch's changes roll back with it); this one stays
                # running until its lease ends and is run again.
                done.crashed = True
                if done.outcomes and not batch.atomic:
                    self._settle_once_claimed(batch, done)
                raise
            done.outcomes.append(outcome)
            if claim.operation is Operation.RETRIEVE and outcome.manual is None and claim.collection:
                batch.carried.found[claim.collection] = tuple(outcome.result or ())
        return done

    def _in_transaction(self, work: Callable[[Session], Any]) -> Any:
        try:
            with self.sessions() as session, session.begin(), batched(session):
                result = work(session)
        except _Contended:
            log.info("request tasks already claimed by another worker; leaving them to it")
            return None
        if self.notify is not None:
            self.notify()
        return result

    # --- claim --------------------------------------------------------------------------------------------

    def _start(self, session: Session, task_id: int) -> Batch | None:
        found = session.execute(select(DataRequest, RequestTask.status).join(
            RequestTask, RequestTask.request_id == DataRequest.id).where(RequestTask.id == task_id)).first()
        if found is None or found[1] in (_DONE, _FAILED, _WAITING):
            return None
        return self.advance(session, found[0], locked=False)

    def advance(self, session: Session, request: DataRequest, *, locked: bool = True,
                carried: Carried | None = None, tasks: Sequence[_TaskRow] | None = None) -> Batch | None:
        """Claim the request's next batch, running first any tasks that change only Charter's database, or
        complete the request when every task is done. A task waiting for staff does not hold up the ones after
        it; the request completes when staff finish it.

        `locked`: the caller holds the request row's and the controller's locks (a settle). Without them, a batch
        is claimed with the tasks' own row locks only, and the locks are taken (request, then controller) before
        anything else is written — the order a settle takes them in after its own tasks. `tasks`: the request's
        tasks as the caller has just written them (a settle), so the first round reads nothing."""
        known = tasks
        while Status(request.status) is Status.EXECUTING:
            session.flush()
            tasks, known = known or _task_rows(session, request.id), None
            now = utcnow()
            todo = [t for t in tasks if t.status not in (_DONE, _WAITING)]
            if todo and not _claimable(todo[0], now):
                return None  # running under another worker's lease (or failed): that worker carries on
            if todo and Operation(todo[0].operation) in EXTERNAL:
                return self._claim(session, request, _batch_from(todo, now),
                                   carried or self._carried(session, request))
            if not locked:
                relocked = session.get(DataRequest, request.id, with_for_update=True, populate_existing=True)
                if relocked is None:
                    return None
                request = relocked
                lock_controller(session, request.controller_id)
                locked = True
                continue  # read the tasks again under the lock
            ran: set[int] = set()
            while todo and Operation(todo[0].operation) not in EXTERNAL and _claimable(todo[0], now):
                ran.add(self._run_internal(session, request, todo.pop(0), now, carried))
            if todo:
                continue  # a store task follows: claim it with the tasks after it
            if all(t.status == _DONE or t.id in ran for t in tasks):
                complete_request(session, self.keyring, request,
                                 known_unheld=carried is not None and not carried.may_hold)
            return None
        return None

    def _claim(self, session: Session, request: DataRequest, tasks: Sequence[_TaskRow],
               carried: Carried) -> Batch | None:
        now = utcnow()
        ids = [t.id for t in tasks]
        values = {"ids": ids, "now": now, "lease_until": now + self.lease}
        # Specs planning wrote in this process are carried; read back (and parse) only those that are not.
        known = all(t.id in carried.specs for t in tasks)
        if session.get_bind().dialect.update_returning:
            claimed = {row[0]: row for row in session.execute(_CLAIM_KNOWN if known else _CLAIM_READING, values)}
            if len(claimed) != len(ids):
                raise _Contended
        else:
            if session.execute(_CLAIM, values).rowcount != len(ids):  # type: ignore[attr-defined]
                raise _Contended
            claimed = {row[0]: row for row in session.execute(select(TASKS.c.id, TASKS.c.attempts, TASKS.c.spec)
                                                              .where(TASKS.c.id.in_(ids)))}
        attempts = {task_id: row[1] for task_id, row in claimed.items()}
        claims: list[Claim] = []
        for task in tasks:
            if attempts[task.id] > MAX_ATTEMPTS:
                break
            claims.append(Claim(task.id, attempts[task.id], task.position, Operation(task.operation),
                                task.collection, carried.specs[task.id] if known else claimed[task.id][2]))
        if claims:
            _release(session, ids[len(claims):], attempts)  # the next claim fails the first of them
            if any(c.operation is Operation.DISABLE_LOGIN for c in claims) and carried.login_webhook is None:
                carried.login_webhook = self._login_webhook(session, request)
            return Batch(carried, tuple(claims))
        # The first task keeps being interrupted: fail it rather than run it forever.
        _release(session, ids[1:], attempts)
        locked = session.get(DataRequest, request.id, with_for_update=True, populate_existing=True)
        assert locked is not None  # noqa: S101 - its task was claimed just now
        lock_controller(session, request.controller_id)
        self._fail(session, locked, tasks[0]._replace(attempts=attempts[ids[0]]), CharterError(
            f"the task was interrupted {MAX_ATTEMPTS} times", fix="Check the worker's log, then retry the request."))
        return None

    def _carried(self, session: Session, request: DataRequest) -> Carried:
        identities: dict[str, list[str]] = {}
        if request.subject_id is not None:
            for identity in SubjectDirectory(session, self.keyring).identities(request.controller_id,
                                                                               request.subject_id):
                identities.setdefault(identity.kind.value, []).append(identity.value)
        results = session.execute(select(RequestTask.collection, RequestTask.result_encrypted).where(
            RequestTask.request_id == request.id, RequestTask.operation == Operation.RETRIEVE.value,
            RequestTask.status == _DONE))
        found = {key: tuple(self.rows(request.controller_id, blob)) for key, blob in results if key and blob}
        return Carried(request_id=request.id, controller_id=request.controller_id, subject_id=request.subject_id,
                       params=RequestService(session, self.keyring).params(request),
                       identities={k: tuple(v) for k, v in identities.items()}, found=found, login_webhook=None)

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

    def _settle(self, session: Session, batch: Batch, done: _Executed, *,
                here: Callable[[Batch], None] | None = None) -> Batch | None:
        """Record what the batch did and move on (module docstring, step 3). `here`: the settle runs in the
        transaction that wrote the request and its tasks (`settle_in`)."""
        if here is not None and batch.written is not None and batch.planned_request in session:
            every, request = list(batch.written), batch.planned_request
        else:
            every = _task_rows(session, batch.carried.request_id, lock=True)
            request = session.get(DataRequest, batch.carried.request_id, with_for_update=True)
        rows = {t.id: t for t in every}
        assert request is not None  # noqa: S101 - tasks are deleted with their request
        _lock_controller(session, request.controller_id)
        entries: list[Entry] = []
        changes: list[dict[str, Any]] = []
        owned, unstarted = True, {}
        ran = len(done.outcomes)
        for index, claim in enumerate(batch.claims):
            task = rows.get(claim.task_id)
            if task is None or task.status != _RUNNING or task.attempts != claim.attempt:
                owned = False  # another worker took the task over after our lease ran out; it records the result
                continue
            if index < ran:
                change, entry = self._record(session, request, task, done.outcomes[index], batch.carried)
                changes.append(change)
                entries.append(entry)
            elif index == done.failed_at and done.failure is not None:
                AuditLog(session).record_many(request.controller_id, entries)
                entries = []
                self._fail(session, request, task, done.failure)
            elif not done.crashed:
                unstarted[task.id] = task.attempts
        settled = owned and done.failure is None and not done.crashed
        recorded = {c["_id"]: c["status"] for c in changes}
        now_are = [t._replace(status=recorded[t.id], lease_until=None) if t.id in recorded else
                   t._replace(status=_PENDING, lease_until=None, attempts=t.attempts - 1) if t.id in unstarted else t
                   for t in every]
        following: Batch | None = None
        early = here is not None and settled and not unstarted and _store_task_next(now_are)
        if early and here is not None:
            # Claimed before the records below are written, so it runs while they are: only tasks in Charter's
            # own records read what this settle records, and they never join a batch of store tasks.
            following = self.advance(session, request, carried=batch.carried, tasks=now_are)
            if following is not None:
                here(following)
        if changes:
            session.execute(_RECORD, changes)
        AuditLog(session).record_many(request.controller_id, entries)
        _release(session, list(unstarted), unstarted)
        if not settled or early:
            return following
        return self.advance(session, request, carried=batch.carried, tasks=now_are)

    def _record(self, session: Session, request: DataRequest, task: _TaskRow,
                outcome: Outcome, carried: Carried) -> tuple[dict[str, Any], Entry]:
        """What one task did: the values of its row (written for the batch in one statement) and its audit event
        (one INSERT for the batch)."""
        record = dict(outcome.record)
        result = None if outcome.result is None else self.keyring.encrypt(
            json.dumps(outcome.result, ensure_ascii=False, default=str), result_context(request.controller_id))
        if outcome.held:
            carried.may_hold = True
            self._hold(session, request, outcome)
        status, entry = _DONE, _task_done(request, task, record)
        if outcome.manual is not None:
            status, entry = _WAITING, self._manual(session, request, task, outcome)
        return {"_id": task.id, "status": status, "record": record, "result_encrypted": result,
                "finished_at": utcnow()}, entry

    def _run_internal(self, session: Session, request: DataRequest, task: _TaskRow, now: dt.datetime,
                      carried: Carried | None) -> int:
        """A task that changes only Charter's database: claimed, run and recorded in this one transaction, so it
        happens exactly once (the caller read `task` under the request's lock)."""
        spec = carried.specs.get(task.id) if carried is not None else None
        if spec is None:
            spec = session.execute(select(RequestTask.spec).where(RequestTask.id == task.id)).scalar_one()
        record = INTERNAL[Operation(task.operation)](session, self.keyring, request, spec)
        ran = task._replace(attempts=task.attempts + 1)
        session.execute(_RAN_HERE, {"_id": task.id, "attempts": ran.attempts, "started_at": now,
                                    "finished_at": utcnow(), "record": record})
        AuditLog(session).record_many(request.controller_id, [_task_done(request, ran, record)])
        return task.id

    def _hold(self, session: Session, request: DataRequest, outcome: Outcome) -> None:
        if not outcome.held:
            return
        datamap = compiled(session, request.controller_id, request.datamap_version or "").datamap
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

    def _manual(self, session: Session, request: DataRequest, task: _TaskRow, outcome: Outcome) -> Entry:
        action = outcome.manual
        assert action is not None  # noqa: S101 - only called with one
        session.add(ManualTask(controller_id=request.controller_id, request_id=request.id, task_id=task.id,
                               collection=action.collection, operation=action.operation.value,
                               instructions={"zh": action.instructions.zh, "en": action.instructions.en},
                               fields=list(action.fields), status="open"))
        return Entry(RUNNER_ACTOR, "request.manual_task_opened", f"request:{request.id}",
                     {"task": task.position, "collection": action.collection, "operation": action.operation.value})

    # --- failure ------------------------------------------------------------------------------------------

    def _fail(self, session: Session, request: DataRequest, task: _TaskRow, exc: CharterError) -> None:
        code = exc.code if isinstance(exc, ConnectorError | CharterError) else "error"
        session.execute(update(TASKS).where(TASKS.c.id == task.id).values(
            status=_FAILED, error_code=code, error_message=exc.message[:1000], finished_at=utcnow(),
            lease_until=None))
        if Status(request.status) is Status.EXECUTING:
            request.status = transition(request.status, Event.FAIL).value
            request.error_code = code
            request.error_message = f"{task.collection or task.operation}: {exc.message}"[:1000]
            request.updated_at = utcnow()
        AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.failed",
                                 target=f"request:{request.id}",
                                 data={"task": task.position, "collection": task.collection, "error": code})


_RAN_HERE = (update(TASKS).where(TASKS.c.id == bindparam("_id"))
             .values(status=_DONE, attempts=bindparam("attempts"), started_at=bindparam("started_at"),
                     finished_at=bindparam("finished_at"), lease_until=None, record=bindparam("record")))
"""What a task that ran in the settle's own transaction (`_run_internal`) writes."""

_RECORD = (update(TASKS).where(TASKS.c.id == bindparam("_id"))
           .values(status=bindparam("status"), record=bindparam("record"),
                   result_encrypted=bindparam("result_encrypted"), finished_at=bindparam("finished_at"),
                   lease_until=None))
"""What a settle writes for each task it ran: one statement, run with one set of values per task."""


def _task_done(request: DataRequest, task: _TaskRow, record: Mapping[str, Any]) -> Entry:
    return Entry(RUNNER_ACTOR, "request.task_done", f"request:{request.id}",
                 {"task": task.position, "operation": task.operation, "collection": task.collection,
                  "attempt": task.attempts, **_counts(record)})


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)  # SQLite hands datetimes back naive


def _claimable(task: _TaskRow, now: dt.datetime) -> bool:
    return task.status == _PENDING or (task.status == _RUNNING and task.lease_until is not None
                                       and _aware(task.lease_until) < now)


_CLAIM = (update(TASKS).where(TASKS.c.id.in_(bindparam("ids", expanding=True)), or_(
    TASKS.c.status == _PENDING, and_(TASKS.c.status == _RUNNING, TASKS.c.lease_until < bindparam("now"))))
    .values(status=_RUNNING, lease_until=bindparam("lease_until"), attempts=TASKS.c.attempts + 1,
            started_at=bindparam("now")))
"""A claim: each of these tasks, if still claimable, running under a new lease with one more attempt."""
_CLAIM_KNOWN = _CLAIM.returning(TASKS.c.id, TASKS.c.attempts)
_CLAIM_READING = _CLAIM.returning(TASKS.c.id, TASKS.c.attempts, TASKS.c.spec)


def _batch_from(tasks: Sequence[_TaskRow], now: dt.datetime) -> list[_TaskRow]:
    """The longest run of claimable store tasks from the first, never a change after a retrieve."""
    batch: list[_TaskRow] = []
    retrieved = False
    for task in tasks:
        operation = Operation(task.operation)
        if operation not in EXTERNAL or not _claimable(task, now) or (retrieved and operation in _CHANGES):
            break
        batch.append(task)
        retrieved = retrieved or operation is Operation.RETRIEVE
    return batch


def _store_task_next(tasks: Sequence[_TaskRow]) -> bool:
    """Whether the request's next unfinished task is a store task to claim now (`advance` claims it first)."""
    todo = next((t for t in tasks if t.status not in (_DONE, _WAITING)), None)
    return todo is not None and Operation(todo.operation) in EXTERNAL and _claimable(todo, utcnow())


def _release(session: Session, ids: Sequence[int], attempts: Mapping[int, int]) -> None:
    """Hand claimed tasks that did not run back as pending, their attempt uncounted."""
    for task_id in ids:
        session.execute(update(TASKS).where(TASKS.c.id == task_id, TASKS.c.status == _RUNNING,
                                             TASKS.c.attempts == attempts[task_id])
                        .values(status=_PENDING, lease_until=None, started_at=None, attempts=attempts[task_id] - 1))


def _lock_controller(session: Session, controller_id: str) -> None:
    """Lock the controller row before the settle inserts anything, so every settle takes its locks in one order
    (task, request, controller) whatever it goes on to write: the consent ledger's bulk path, for one, locks the
    row `FOR UPDATE`, which waits for the key-share locks that inserting rows referencing it takes. The row comes
    with the lock, so what reads it later in the settle (the outbox, for the controller's name) finds it."""
    locked_controller(session, controller_id)


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


def complete_request(session: Session, keyring: Keyring, request: DataRequest, *, known_unheld: bool = False) -> None:
    """Every task is done: completed (or with held items), audited and told to the person — once, from
    `executing` only, under the request row's lock the caller holds. `known_unheld`: the caller knows no item of
    the request is held, so they are not looked for."""
    if Status(request.status) is not Status.EXECUTING:
        return
    held = [] if known_unheld else held_lines(session, request)
    event = Event.COMPLETE_WITH_HELD_ITEMS if held else Event.COMPLETE
    _mark_completed(session, request, status=transition(request.status, event).value, completed_at=utcnow())
    AuditLog(session).record(request.controller_id, actor=RUNNER_ACTOR, action="request.completed",
                             target=f"request:{request.id}", data={"status": request.status, "held": len(held)})
    RequestService(session, keyring).tell(request, "request_completed", {"held_items": held}, actor=RUNNER_ACTOR)


_COMPLETED = (update(REQUESTS).where(REQUESTS.c.id == bindparam("_id"))
              .values(status=bindparam("status"), completed_at=bindparam("completed_at"),
                      updated_at=bindparam("completed_at")))


def _mark_completed(session: Session, request: DataRequest, *, status: str, completed_at: dt.datetime) -> None:
    """The request completed: one Core UPDATE, and the row held in the session given the new values as loaded.
    (A flush of the changed object costs several times the statement; nothing else of it changes here.)"""
    session.execute(_COMPLETED, {"_id": request.id, "status": status, "completed_at": completed_at})
    for name, value in (("status", status), ("completed_at", completed_at), ("updated_at", completed_at)):
        set_committed_value(request, name, value)


def _counts(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if isinstance(v, int | bool)}
