"""`charter worker` over Redis (the other broker it takes): a real worker process drains requests sent through a
Redis queue and carries them out across PostgreSQL, MariaDB and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.migrations import upgrade
from charter.requests.models import DataRequest
from charter.requests.services import RequestService
from charter.requests.tasks import DramatiqQueue, make_broker
from charter.requests.verification import mint_assertion
from tests.requests.crash_map import crash_controller, pg_customers, seed
from tests.services import fresh_mariadb_database, fresh_postgres_database, fresh_redis_prefix

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 5


def test_charter_worker_over_redis_completes_every_request(tmp_path: Path) -> None:
    with fresh_postgres_database() as charter_url, fresh_postgres_database() as pg_url, \
            fresh_mariadb_database() as maria_url, fresh_redis_prefix() as (redis_url, prefix):
        upgrade(charter_url)
        seed(pg_url, maria_url, redis_url, prefix, PEOPLE)
        keyring = Keyring.generate()
        engine = make_engine(charter_url)
        sessions = session_factory(engine)
        cid, key = crash_controller(sessions, keyring, prefix, PEOPLE)
        queue_name = f"charter_t_{uuid.uuid4().hex[:10]}"
        sender = DramatiqQueue(make_broker(redis_url), queue_name=queue_name)
        for i in range(1, PEOPLE + 1):
            with sessions() as session, session.begin():
                RequestService(session, keyring, queue=sender).submit(
                    cid, kind="erasure", assertion=mint_assertion(key, cid, "email", f"p{i}@example.com"),
                    actor="test")
        sender.broker.close()
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}", "CHARTER_DATABASE_URL": charter_url,
               "CHARTER_KEYRING": keyring.to_json(), "CHARTER_BROKER_URL": redis_url, "CHARTER_QUEUE_NAME": queue_name,
               "CHARTER_SECRET_CRASH_PG": pg_url, "CHARTER_SECRET_CRASH_MARIA": maria_url,
               "CHARTER_SECRET_CRASH_REDIS": redis_url}
        log = tmp_path / "worker.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", "from charter.cli.main import main; main()", "worker", "--threads", "2"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while _unfinished(sessions, cid) and time.monotonic() < deadline:
                time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(20)
            client = redis.Redis.from_url(redis_url)
            stale = list(client.scan_iter(match=f"dramatiq:{queue_name}*"))
            if stale:
                client.delete(*stale)
            client.close()
        assert _unfinished(sessions, cid) == 0, log.read_text()[-3000:]
        with sessions() as session:
            statuses = session.execute(select(DataRequest.status).where(DataRequest.controller_id == cid)).scalars()
            assert set(statuses) == {"completed_with_held_items"}
            assert AuditLog(session).verify(cid).ok
        pg = create_engine(pg_url)
        with pg.connect() as conn:
            assert all(r["email"] is None for r in conn.execute(select(pg_customers)).mappings())
        pg.dispose()
        engine.dispose()


def _unfinished(sessions: object, cid: str) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(session.execute(select(func.count()).select_from(DataRequest).where(
            DataRequest.controller_id == cid, DataRequest.completed_at.is_(None))).scalar_one())
