"""Choosing where request tasks run for `charter serve`: in-process threads (default), a broker that
`charter worker` processes drain, or nowhere (tests drive the runner themselves)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.secrets import Secrets
from charter.core.settings import Settings
from charter.datamap.connections import ConnectorPool
from charter.requests.interfaces import NullQueue, TaskQueue
from charter.requests.runner import TaskRunner
from charter.requests.tasks import DramatiqQueue, InProcessWorker, Sweeper, make_broker


@dataclass
class RequestWorkers:
    queue: TaskQueue
    worker: InProcessWorker | None = None
    sweeper: Sweeper | None = None
    pool: ConnectorPool | None = None

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()
        if self.sweeper is not None:
            self.sweeper.start()

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.pool is not None:
            self.pool.close()


def request_workers(settings: Settings, sessions: sessionmaker[Session], keyring: Keyring, *,
                    notify: Callable[[], None] | None = None) -> RequestWorkers:
    if settings.broker_url:
        # The API only sends; `charter worker` runs the tasks and sweeps.
        return RequestWorkers(DramatiqQueue(make_broker(settings.broker_url), queue_name=settings.queue_name))
    if not settings.request_worker:
        return RequestWorkers(NullQueue())
    pool = ConnectorPool(Secrets.from_environment())
    runner = TaskRunner(sessions, keyring, pool, lease=dt.timedelta(seconds=settings.task_lease), notify=notify)
    worker = InProcessWorker(runner)
    return RequestWorkers(worker, worker, Sweeper(sessions, worker, interval=settings.sweep_interval), pool)
