"""`charter worker`: run request tasks from a broker (RabbitMQ or Redis), with a sweeper."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Annotated

import typer
from dramatiq import Worker

from charter.cli.shell import console, errors, keyring
from charter.core.db import make_engine, session_factory
from charter.core.secrets import Secrets
from charter.core.settings import load_settings
from charter.datamap.connections import ConnectorPool
from charter.migrations import ensure_current
from charter.requests.runner import TaskRunner
from charter.requests.tasks import DramatiqQueue, Sweeper, make_broker
from charter.web.jobs import periodic_jobs


def worker(
    threads: Annotated[int, typer.Option(help="tasks run at once in this process")] = 4,
    broker: Annotated[str | None, typer.Option(help="amqp://… or redis://… (default: CHARTER_BROKER_URL)")] = None,
    periodic: Annotated[bool | None, typer.Option(help="also run retention sweeps and due notices (default: "
                                                       "CHARTER_SCHEDULER)")] = None,
) -> None:
    """Run data-subject request tasks from the broker until stopped (Ctrl-C or SIGTERM), and the periodic jobs
    (retention sweeps, notices that fall due) that `charter serve` leaves to workers when a broker is set.

    The database stays the source of truth: the broker carries only task ids, and the sweeper in this process
    re-enqueues any task that is stuck (never picked up, or left running by a worker that died). Running the
    periodic jobs in several workers at once is safe (each is idempotent), only redundant.

    Example: `CHARTER_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/ charter worker --threads 8`
    """
    settings = load_settings()
    url = broker or settings.broker_url
    if not url:
        errors.print("[bold red]error:[/] no broker: set CHARTER_BROKER_URL or pass --broker")
        raise typer.Exit(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = session_factory(engine)
    with ConnectorPool(Secrets.from_environment()) as pool:
        runner = TaskRunner(sessions, keyring(), pool, lease=dt.timedelta(seconds=settings.task_lease))
        queue = DramatiqQueue(make_broker(url), queue_name=settings.queue_name, handler=runner.run)
        consumer = Worker(queue.broker, worker_threads=threads, queues={settings.queue_name})
        sweeper = Sweeper(sessions, queue, interval=settings.sweep_interval,
                          pending_for=dt.timedelta(seconds=max(settings.task_lease, 5)))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        jobs = periodic_jobs(settings, sessions, keyring()) if (
            settings.scheduler if periodic is None else periodic) else None
        consumer.start()
        sweeper.start()
        sweeper.sweep()
        if jobs is not None:
            jobs.start()
        console.print(f"charter worker: {threads} thread(s) on queue {settings.queue_name!r}")
        stop.wait()
        if jobs is not None:
            jobs.stop()
        sweeper.stop()
        consumer.stop()
        queue.broker.close()
    engine.dispose()
