"""Where tasks run. Thin: each carries a task id; the logic is `TaskRunner`.

- `InProcessWorker` (the default, started by `charter serve`): a few daemon threads fed by an in-memory queue.
- `DramatiqQueue` + `charter worker`: the same tasks as a Dramatiq actor over RabbitMQ (`amqp://…`) or Redis
  (`redis://…`). The broker only carries "run task N"; the database is the source of truth.
- `Sweeper`: every few seconds, hands out again any task that is pending but was never picked up, or running
  with an expired lease (its worker died), so nothing stays stuck whatever happened to a message.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from charter.core.db import utcnow
from charter.requests.interfaces import FirstClaim, Planned
from charter.requests.lifecycle import Status
from charter.requests.models import DataRequest, RequestTask
from charter.requests.runner import Batch, Gate, TaskRunner
from charter.requests.verification import prune_used_assertions

__all__ = ["ACTOR_NAME", "DramatiqQueue", "InProcessWorker", "Sweeper", "make_broker", "stuck_tasks"]

log = logging.getLogger(__name__)

ACTOR_NAME = "charter_run_task"
INLINE_WAIT = 0.05
"""Seconds the transaction that planned a request waits, at its end, for the first batch started early to finish
its reads, to settle it in that same transaction; a slower store is settled by the worker after the commit."""


class InProcessWorker:
    """Runs tasks on daemon threads in this process: nothing else to start."""

    def __init__(self, runner: TaskRunner, *, threads: int = 2) -> None:
        self.runner = runner
        self.threads = threads
        self._queue: queue.Queue[int | Batch | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._idle = threading.Condition()
        self._busy = 0

    def enqueue(self, task_ids: Sequence[int]) -> None:
        for task_id in task_ids:
            self._put(task_id)

    def first_claim(self, operations: Sequence[str]) -> FirstClaim | None:
        """A new request's first batch is written claimed when worker threads run here (`TaskRunner.first_claim`)."""
        return self.runner.first_claim(operations) if self._workers else None

    def claimed(self, session: Session, request: DataRequest, planned: Planned) -> Batch:
        """The first batch, started at once when it only reads (its store reads overlap the rest of the planning
        transaction; it is settled once that commits), else when the transaction commits (`start_claimed`)."""
        batch = self.runner.claimed(session, request, planned)
        if batch.reads_only:
            self._start_early(batch)
        return batch

    def start_early(self, claimed: object) -> None:
        """A batch claimed in a transaction still open (an erasure's changes, claimed where its access pass was
        settled) starts now if its changes stay in SQL transactions until that one commits (`Batch.may_start_early`);
        hand it to `start_claimed` / `abandon_claimed` when it ends either way."""
        if isinstance(claimed, Batch) and claimed.may_start_early:
            self._start_early(claimed)

    def _start_early(self, batch: Batch) -> None:
        if self._workers:
            batch.gate = Gate()
            self._put(batch)

    def bind_claimed(self, claimed: object, ids: Sequence[int]) -> None:
        if not isinstance(claimed, Batch):
            raise TypeError("bind_claimed takes what claimed returned")
        claimed.bind(ids)

    def start_claimed(self, claimed: object) -> None:
        """The planning transaction committed: run the batch `claimed` returned, or let it settle if it started."""
        if not isinstance(claimed, Batch):
            raise TypeError("start_claimed takes what claimed returned")
        if claimed.gate is not None:
            claimed.gate.commit()
            return
        self._put(claimed)

    def abandon_claimed(self, claimed: object) -> None:
        """The planning transaction rolled back: a batch started early is dropped without a settle."""
        if isinstance(claimed, Batch) and claimed.gate is not None:
            claimed.gate.abandon()

    def settle_here(self, session: Session, claimed: object) -> object | None:
        """Settle a first batch started early in the transaction that planned it, if its reads end within
        `INLINE_WAIT` (`TaskRunner.settle_in`); the next batch it claimed, if any, already started if it may start
        early (`start_early`). If the settle fails after starting it, it is abandoned here."""
        if not isinstance(claimed, Batch) or claimed.gate is None:
            return None
        started: list[Batch] = []

        def start(batch: Batch) -> None:
            started.append(batch)
            self.start_early(batch)

        try:
            return self.runner.settle_in(session, claimed, INLINE_WAIT, start)
        except BaseException:
            for batch in started:
                self.abandon_claimed(batch)
            raise

    def _put(self, item: int | Batch) -> None:
        with self._idle:
            self._busy += 1
        self._queue.put(item)

    def start(self) -> None:
        while len(self._workers) < self.threads:
            thread = threading.Thread(target=self._loop, name=f"charter-requests-{len(self._workers)}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for thread in self._workers:
            thread.join(timeout)
        self._workers.clear()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every enqueued task has run (for tests, benchmarks and the CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if isinstance(item, Batch):
                    self.runner.carry_on(item)
                else:
                    self.runner.run(item)
            except Exception:
                # The task stays as the database has it; the sweeper hands it out again after its lease.
                log.exception("request task %s failed unexpectedly", item if isinstance(item, int) else
                              item.claims[0].task_id)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()


def make_broker(url: str) -> dramatiq.Broker:
    """A Dramatiq broker for `amqp://…` (RabbitMQ) or `redis://…`."""
    if url.startswith(("amqp://", "amqps://")):
        return RabbitmqBroker(url=url, confirm_delivery=True)
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url=url)  # type: ignore[no-untyped-call]
    raise ValueError(f"unsupported broker URL scheme in {url.split(':', 1)[0]!r}: use amqp:// or redis://")


class DramatiqQueue:
    """Sends task ids to the `charter_run_task` actor on `queue_name`; the same class declares the actor in the
    worker process, where `handler` runs each task."""

    def __init__(self, broker: dramatiq.Broker, *, queue_name: str = "charter",
                 handler: Callable[[int], None] | None = None) -> None:
        self.broker = broker
        self.queue_name = queue_name
        self._handler = handler
        declare = dramatiq.actor(broker=broker, actor_name=ACTOR_NAME, queue_name=queue_name, max_retries=0,
                                 time_limit=10 * 60 * 1000)
        self.actor: Any = declare(self._run)

    def _run(self, task_id: int) -> None:
        if self._handler is None:
            raise RuntimeError("this process only sends tasks")
        self._handler(task_id)

    def enqueue(self, task_ids: Sequence[int]) -> None:
        for task_id in task_ids:
            self.actor.send(task_id)


def stuck_tasks(session: Session, *, now: dt.datetime, pending_for: dt.timedelta, limit: int = 500) -> list[int]:
    """The first unfinished task of each executing request that is pending since before `now - pending_for`, or
    running with an expired lease."""
    first = (select(RequestTask.request_id, func.min(RequestTask.position).label("position"))
             .where(RequestTask.status.in_(("pending", "running"))).group_by(RequestTask.request_id).subquery())
    rows = session.execute(
        select(RequestTask.id).join(first, and_(first.c.request_id == RequestTask.request_id,
                                                first.c.position == RequestTask.position))
        .join(DataRequest, DataRequest.id == RequestTask.request_id)
        .where(DataRequest.status == Status.EXECUTING.value, or_(
            and_(RequestTask.status == "pending", RequestTask.enqueued_at < now - pending_for),
            and_(RequestTask.status == "running", RequestTask.lease_until < now)))
        .order_by(RequestTask.id).limit(limit)).scalars()
    return list(rows)


class Sweeper:
    """Re-enqueues stuck tasks every `interval` seconds (marking them enqueued again, so one pass does not hand
    the same task out twice), and forgets host assertions long expired."""

    def __init__(self, sessions: sessionmaker[Session], target: Any, *, interval: float = 5.0,
                 pending_for: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        self.sessions = sessions
        self.target = target
        self.interval = interval
        self.pending_for = pending_for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> list[int]:
        with self.sessions() as session, session.begin():
            now = utcnow()
            prune_used_assertions(session, now)
            ids = stuck_tasks(session, now=now, pending_for=self.pending_for)
            for task in session.execute(select(RequestTask).where(RequestTask.id.in_(ids))).scalars():
                if task.status == "pending":
                    task.enqueued_at = now
        if ids:
            log.info("sweeper: re-enqueued %d task(s)", len(ids))
            self.target.enqueue(ids)
        return ids

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="charter-sweeper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:
                log.exception("sweep failed")
