"""Erasures across PostgreSQL, MariaDB and Redis, run by a real `charter worker` process over RabbitMQ that is
killed with SIGKILL at random moments, many times over. After a clean restart every request completes exactly
once, the stores are in the erased state, and the audit chain verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pika
import redis
from sqlalchemy import create_engine, func, select

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.migrations import upgrade
from charter.requests.models import DataRequest
from charter.requests.services import RequestService
from charter.requests.tasks import DramatiqQueue, make_broker
from charter.requests.verification import mint_assertion
from tests.requests.crash_map import crash_controller, maria_items, maria_orders, pg_customers, seed
from tests.services import (
    RABBITMQ,
    fresh_mariadb_database,
    fresh_postgres_database,
    fresh_redis_prefix,
    require,
)

ROOT = Path(__file__).resolve().parents[2]
AMQP = f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/"
PEOPLE = 40
KILLS = 12
BUDGET_SECONDS = 100


@contextmanager
def rabbit_queue() -> Iterator[str]:
    name = f"charter_t_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
        channel = connection.channel()
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue=queue)
        connection.close()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    code = "from charter.cli.main import main; main()"
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", code, "worker", "--threads", "3"],  # noqa: S603 - our CLI
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def _unfinished(sessions: object, cid: str) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(session.execute(select(func.count()).select_from(DataRequest).where(
            DataRequest.controller_id == cid, DataRequest.completed_at.is_(None))).scalar_one())


def test_erasures_survive_a_worker_killed_at_random(tmp_path: Path) -> None:
    require("RabbitMQ", RABBITMQ)
    rng = random.Random(4)
    with fresh_postgres_database() as charter_url, fresh_postgres_database() as pg_url, \
            fresh_mariadb_database() as maria_url, fresh_redis_prefix() as (redis_url, prefix), \
            rabbit_queue() as queue_name:
        upgrade(charter_url)
        seed(pg_url, maria_url, redis_url, prefix, PEOPLE)
        keyring = Keyring.generate()
        engine = make_engine(charter_url)
        sessions = session_factory(engine)
        cid, key = crash_controller(sessions, keyring, prefix, PEOPLE)
        sender = DramatiqQueue(make_broker(AMQP), queue_name=queue_name)
        for i in range(1, PEOPLE + 1):
            with sessions() as session, session.begin():
                RequestService(session, keyring, queue=sender).submit(
                    cid, kind="erasure", assertion=mint_assertion(key, cid, "email", f"p{i}@example.com"),
                    actor="test")
        sender.broker.close()
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}", "CHARTER_DATABASE_URL": charter_url,
               "CHARTER_KEYRING": keyring.to_json(), "CHARTER_BROKER_URL": AMQP, "CHARTER_QUEUE_NAME": queue_name,
               "CHARTER_TASK_LEASE": "2", "CHARTER_SWEEP_INTERVAL": "0.5", "CHARTER_SECRET_CRASH_PG": pg_url,
               "CHARTER_SECRET_CRASH_MARIA": maria_url, "CHARTER_SECRET_CRASH_REDIS": redis_url}
        log = tmp_path / "worker.log"
        started, kills = time.monotonic(), 0
        while kills < KILLS and _unfinished(sessions, cid) and time.monotonic() - started < BUDGET_SECONDS / 2:
            process = _worker(env, log)
            time.sleep(rng.uniform(1.0, 3.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        process = _worker(env, log)
        try:
            deadline = time.monotonic() + BUDGET_SECONDS / 2
            while _unfinished(sessions, cid) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            process.terminate()
            process.wait(20)
        assert kills >= 3, "the worker finished before it could be killed a few times"
        assert _unfinished(sessions, cid) == 0, log.read_text()[-3000:]
        with sessions() as session:
            statuses = session.execute(select(DataRequest.status).where(DataRequest.controller_id == cid)).scalars()
            assert set(statuses) == {"completed_with_held_items"}
            completed = session.execute(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.controller_id == cid, AuditEvent.action == "request.completed")).scalar_one()
            assert completed == PEOPLE
            assert AuditLog(session).verify(cid).ok
        _assert_erased(pg_url, maria_url, redis_url, prefix)
        engine.dispose()


def _assert_erased(pg_url: str, maria_url: str, redis_url: str, prefix: str) -> None:
    pg, maria = create_engine(pg_url), create_engine(maria_url)
    with pg.connect() as conn:
        rows = conn.execute(select(pg_customers)).mappings().all()
        assert all(r["email"] is None and r["name"] == "(erased)" and r["birth_date"].month == 1 for r in rows)
    with maria.connect() as conn:
        assert conn.execute(select(func.count()).select_from(maria_items)).scalar_one() == 0
        orders = conn.execute(select(maria_orders)).mappings().all()
        assert len(orders) == 2 * PEOPLE and all(o["note"] is None and o["total"] is not None for o in orders)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert all(not client.hexists(f"{prefix}session:{i}", "ip") for i in range(1, PEOPLE + 1))
    client.close()
    pg.dispose()
    maria.dispose()
